import type { Metadata, OutputInfo } from 'sharp';
import { loadSharp } from '../image/sharp-module.js';
import { ImgfleetError } from '../errors.js';
import { decodeError, detachedSvg, sourceBytes, SVG_DENSITY, type ImageSource, type ReadOptions } from '../image/decode.js';
import { boundedByDeadline } from '../image/deadline.js';
import { checkFileSize, checkInputPixels, type Limits } from '../limits.js';
import { exifFacts } from './exif-facts.js';
import { iccName } from './icc-name.js';
import { placeholders, THUMBHASH_SIZE, type Placeholders } from './placeholders.js';

/** What `imgfleet info`, `POST /v1/info` and `/i/<sig>/info/<source>` say of an image. */
export interface ImageInfo extends Placeholders {
  /** libvips' name of the format; `avif` and `heif` told apart. */
  format: string;
  /** Size as shown, after the EXIF orientation is applied; an SVG's at the density asked for (72: as declared). */
  width: number;
  height: number;
  /** Frames of an animation, pages of a multi-page TIFF; 1 for a still image. */
  frames: number;
  alpha: boolean;
  /** EXIF orientation, 1 (as stored) to 8. */
  orientation: number;
  /** The embedded ICC profile's description. */
  icc?: string;
  /** When the photo was taken, from EXIF, as the camera wrote it (local time). */
  date?: string;
  camera?: { make?: string; model?: string };
  bytes: number;
}

/**
 * Reads an image's header, checks it against the limits, and makes its placeholders from a
 * thumbnail of at most 100 px a side: libvips shrinks a JPEG, WebP or SVG while decoding it,
 * so a large photo is never decoded at full size for this. Unlike the pipeline, which keeps
 * pixels as stored, the thumbnail goes through the embedded ICC profile to sRGB: a placeholder
 * is drawn beside the image as a browser shows it.
 */
export async function imageInfo(given: ImageSource, limits: Limits, read: ReadOptions = {}): Promise<ImageInfo> {
  const bytes = sourceBytes(given);
  checkFileSize(bytes, limits);
  const density = read.density ?? SVG_DENSITY;
  let metadata: Metadata;
  try {
    metadata = await loadSharp()(given, { limitInputPixels: false, density }).metadata();
  } catch (error) {
    throw decodeError(error);
  }
  const { width, height } = metadata;
  if (!width || !height) throw new ImgfleetError('CORRUPT_IMAGE', 'corrupt image: the header gives no size');
  checkInputPixels(width, height, limits);
  const input = metadata.format === 'svg' ? detachedSvg(given) : given;
  const orientation = metadata.orientation ?? 1;
  const turned = orientation >= 5;
  let thumb: { data: Buffer; info: OutputInfo };
  try {
    thumb = await boundedByDeadline(loadSharp()(input, { autoOrient: true, failOn: 'error', limitInputPixels: limits.maxInputPixels, density }))
      .resize(THUMBHASH_SIZE, THUMBHASH_SIZE, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeError(error);
  }
  const exif = exifFacts(metadata.exif);
  const icc = iccName(metadata.icc);
  const camera = exif.make || exif.model ? { make: exif.make, model: exif.model } : undefined;
  return {
    format: formatName(metadata),
    width: turned ? height : width,
    height: turned ? width : height,
    frames: metadata.pages ?? 1,
    alpha: metadata.hasAlpha ?? false,
    orientation,
    ...(icc ? { icc } : {}),
    ...(exif.date ? { date: exif.date } : {}),
    ...(camera ? { camera } : {}),
    bytes,
    ...await placeholders({ data: thumb.data, width: thumb.info.width, height: thumb.info.height }),
  };
}

function formatName(metadata: Metadata): string {
  if (metadata.format === 'heif') return metadata.compression === 'av1' ? 'avif' : 'heif';
  return metadata.format ?? 'unknown';
}
