import type { Sharp } from 'sharp';
import { fixedFormat } from '../pipeline/negotiate.js';
import { OUTPUT_FORMATS, type OutputFormat, type OutputSpec } from '../pipeline/spec.js';
import type { Animation, InputFormat } from './decode.js';

export const EXTENSIONS: Record<OutputFormat, string> = {
  jpeg: '.jpg', png: '.png', webp: '.webp', avif: '.avif', tiff: '.tif', gif: '.gif', jxl: '.jxl',
};

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', tiff: 'image/tiff', gif: 'image/gif', jxl: 'image/jxl',
};

/** The extension of a result when the pipeline names no format: the input's (`ext`), `.png` for an SVG (see outputFormatFor). */
export function keptExtension(ext: string): string {
  return ext.toLowerCase() === '.svg' ? EXTENSIONS.png : ext;
}

/** The pipeline's format, else the input's, else PNG for an input no encoder here writes (SVG). */
export function outputFormatFor(output: OutputSpec, input: InputFormat): OutputFormat {
  return fixedFormat(output) ?? ((OUTPUT_FORMATS as readonly string[]).includes(input) ? input as OutputFormat : 'png');
}

/**
 * Encoder efforts for images made on request, chosen by measurement (bench/README.md): AVIF at
 * libaom's fastest speed, as imgproxy ships it (30× faster than effort 4 for files a fifth
 * larger); WebP at 2 (twice as fast as 4, files 4 % larger); PNG at zlib level 2 with
 * adaptive row filters (camera photos made 512 px: files 38 % smaller than level 6 unfiltered,
 * sharp's default, 3 % larger than level 3, and the fastest of the three).
 */
export const DEFAULT_EFFORT = { avif: 0, webp: 2, png: 2 } as const;

/**
 * Appends the encoder. Pixels were processed as stored, so an input's ICC profile is carried
 * to the output for viewers to apply. JPEG skips Huffman optimisation and progressive scans: they cost more
 * time than anything else in a small-image pipeline and change no pixel.
 */
export function withEncoder(
  image: Sharp, format: OutputFormat, output: Pick<OutputSpec, 'quality' | 'effort'>, input: { hasAlpha: boolean; hasIcc: boolean }, animation?: Animation,
): Sharp {
  return encoder(input.hasIcc && format !== 'gif' ? image.keepIccProfile() : image, format, output, input.hasAlpha, animation);
}

/** The WebP encoder's settings for an output, whichever library writes it. */
export function webpSettings({ quality, effort }: Pick<OutputSpec, 'quality' | 'effort'>): { quality: number; effort: number } {
  return { quality: quality ?? 80, effort: effort ?? DEFAULT_EFFORT.webp };
}

/** Formats whose encoder takes a quality, so that a byte budget can be met by lowering it. */
export const LOSSY_FORMATS: readonly OutputFormat[] = ['jpeg', 'webp', 'avif', 'tiff', 'jxl'];

function encoder(image: Sharp, format: OutputFormat, { quality, effort }: Pick<OutputSpec, 'quality' | 'effort'>, hadAlpha: boolean, animation?: Animation): Sharp {
  const timing = animation ? { delay: animation.delay, loop: animation.loop } : {};
  switch (format) {
    case 'jpeg':
      return (hadAlpha ? image.flatten({ background: '#ffffff' }) : image)
        .jpeg({ quality: quality ?? 80, optimiseCoding: false, mozjpeg: false, trellisQuantisation: false, overshootDeringing: false });
    case 'png':
      return image.png({ compressionLevel: effort ?? DEFAULT_EFFORT.png, adaptiveFiltering: true });
    case 'webp':
      return image.webp({ ...webpSettings({ quality, effort }), ...timing });
    case 'avif':
      return image.avif({ quality: quality ?? 50, effort: effort ?? DEFAULT_EFFORT.avif });
    case 'tiff':
      return quality === undefined ? image.tiff({ compression: 'lzw' }) : image.tiff({ compression: 'jpeg', quality });
    case 'gif':
      return image.gif(timing);
    case 'jxl':
      return image.jxl({ quality: quality ?? 75, effort: Math.max(1, effort ?? 4) });
  }
}
