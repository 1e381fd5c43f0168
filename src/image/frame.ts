import type { Sharp } from 'sharp';
import { loadSharp } from './sharp-module.js';
import { boundedByDeadline } from './deadline.js';
import { canJoin, SIZE_KEEPING_STAGES, type NativeStage, type PendingStage } from './native-stage.js';

export type Channels = 1 | 2 | 3 | 4;

/** Decoded 8-bit pixels, interleaved, rows top to bottom. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: Channels;
}

export interface Size {
  width: number;
  height: number;
}

/**
 * How a decoder shrinks on load, which a resize that joins a fresh frame makes it do: libwebp
 * with an averaging scaler of its own; libjpeg by its DCT scaling, of which libvips keeps whole
 * blocks only (the stored image's partial last column and row left out, wherever the EXIF
 * `orientation` puts them).
 */
export type ShrinkOnLoad = { by: 'none' } | { by: 'averaging' } | { by: 'whole-blocks'; orientation: number };
export const NO_SHRINK_ON_LOAD: ShrinkOnLoad = { by: 'none' };

/**
 * The image between two steps: a lazy sharp pipeline, or pixels. sharp runs the operations of
 * one pipeline in a fixed order (see native-stage.ts), so an operation joins the pending
 * pipeline only when it comes later in that order; otherwise the pending work is run to raw
 * pixels first. That keeps every pipeline in the user's order while steps written in sharp's
 * order run as one libvips pipeline: the first inside the decoder (shrink-on-load), the last
 * inside the encoder. A frame always knows its channel count, so grey stays grey.
 */
export class Frame {
  private constructor(
    private image: Sharp | undefined,
    private stage: PendingStage,
    private pixels: RawImage | undefined,
    readonly channels: Channels,
    private openedSize?: Size,
    private appended = 0,
    /** What the pending pipeline will make, as its steps foresaw it (see expectedSize). */
    private expected?: Size,
    private decoderShrinks: ShrinkOnLoad = NO_SHRINK_ON_LOAD,
    private fromInput = false,
  ) {}

  /** Whether the pending pipeline reads the decoded input, so that the encoder can keep the input's ICC profile. */
  get readsInput(): boolean {
    return this.image !== undefined && this.fromInput;
  }

  /** How a resize appended now would be shrunk on load by the decoder: a fresh frame's format's way, else not. */
  get shrinkOnLoad(): ShrinkOnLoad {
    return this.stage === 'none' && this.image !== undefined ? this.decoderShrinks : NO_SHRINK_ON_LOAD;
  }

  /** Operations appended to the pending pipeline, which will run as one libvips pipeline. */
  get pendingSteps(): number {
    return this.appended;
  }

  /**
   * A freshly opened input (already oriented to `size`): nothing appended to its pipeline yet.
   * `shrinkOnLoad`: how its decoder shrinks on load; `decodesInput`: it is the input image (not
   * an image made on the way, whose profile is not the input's).
   */
  static open(image: Sharp, size: Size, channels: Channels, shrinkOnLoad = NO_SHRINK_ON_LOAD, decodesInput = true): Frame {
    return new Frame(image, 'none', undefined, channels, size, 0, undefined, shrinkOnLoad, decodesInput);
  }

  /** An opened input whose pipeline already converts it (16-bit or CMYK to 8-bit): made into pixels before any step. */
  static converted(image: Sharp, channels: Channels): Frame {
    return new Frame(image, 'closed', undefined, channels, undefined, 0, undefined, NO_SHRINK_ON_LOAD, true);
  }

  /** `pixels`, read by libvips from `image`, which carries the input's ICC profile too (input-profile.ts): for the encoder. */
  static carrying(pixels: RawImage, image: Sharp): Frame {
    return new Frame(image, 'closed', undefined, pixels.channels, undefined, 0, undefined, NO_SHRINK_ON_LOAD, true);
  }

  static fromRaw(raw: RawImage): Frame {
    return new Frame(undefined, 'none', raw, raw.channels);
  }

  /**
   * Appends one sharp operation that keeps the channel layout: to the pending pipeline when
   * `stage` comes later in sharp's order than what it holds (into the decoder when the frame
   * is fresh), else to a new pipeline over the pending work's pixels. A geometry stage tells
   * the size it makes with `sizeAfter`; the other stages keep the size.
   */
  async pipe(stage: NativeStage, operation: (image: Sharp) => Sharp, sizeAfter?: (size: Size) => Size): Promise<Frame> {
    if (this.canTake(stage)) {
      return new Frame(operation(this.image!), stage, undefined, this.channels, undefined, this.appended + 1, foreseen(stage, this.expectedSize(), sizeAfter), NO_SHRINK_ON_LOAD, this.fromInput);
    }
    const pixels = await this.raw();
    return new Frame(operation(rawToSharp(pixels)), stage, undefined, this.channels, undefined, 1, foreseen(stage, pixels, sizeAfter));
  }

  /** Whether an operation of `stage` would join the pending libvips pipeline, no pixels made first. */
  canTake(stage: NativeStage): boolean {
    return this.image !== undefined && canJoin(this.stage, stage);
  }

  /** Width and height when known without running anything. */
  knownSize(): Size | undefined {
    if (this.pixels) return { width: this.pixels.width, height: this.pixels.height };
    return this.stage === 'none' ? this.openedSize : undefined;
  }

  /**
   * Width and height, known or foreseen by the pending steps: for choices of cost (which engine
   * runs a step), never of geometry, since libvips' shrink-on-load can move a side by a pixel.
   */
  expectedSize(): Size | undefined {
    return this.knownSize() ?? this.expected;
  }

  /** Width and height, running what is pending if needed. */
  async size(): Promise<Size> {
    return this.knownSize() ?? this.raw();
  }

  /** The pixels, decoding and running what is pending. */
  async raw(): Promise<RawImage> {
    if (!this.pixels) {
      // sharp's raw output of grey + alpha drops the alpha, so that one layout comes out as RGBA.
      const image = this.channels === 2 && this.image ? this.image : this.toSharp();
      const { data, info } = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      const pixels = { data, width: info.width, height: info.height, channels: info.channels as Channels };
      this.pixels = this.channels === 2 && pixels.channels === 4 ? greyAlphaFromRgba(pixels) : pixels;
      this.image = undefined;
      this.stage = 'none';
      this.appended = 0;
      this.expected = undefined;
    }
    return this.pixels;
  }

  /** The pipeline to encode from: the pending one, so the last step fuses with the encoder. */
  toSharp(): Sharp {
    if (this.image) return this.channels <= 2 ? this.image.toColourspace('b-w') : this.image;
    return rawToSharp(this.pixels!);
  }
}

export function rawToSharp(raw: RawImage): Sharp {
  const image = boundedByDeadline(loadSharp()(raw.data, {
    raw: { width: raw.width, height: raw.height, channels: raw.channels },
    limitInputPixels: false,
  }));
  return raw.channels <= 2 ? image.toColourspace('b-w') : image;
}

/** The size a stage will make of `before`: the same unless it moves pixels, and then only when it says. */
function foreseen(stage: NativeStage, before: Size | undefined, sizeAfter?: (size: Size) => Size): Size | undefined {
  if (!before) return undefined;
  return SIZE_KEEPING_STAGES.has(stage) ? before : sizeAfter?.(before);
}

export function hasAlpha(channels: Channels): boolean {
  return channels === 2 || channels === 4;
}

function greyAlphaFromRgba(image: RawImage): RawImage {
  const n = image.width * image.height;
  const data = Buffer.allocUnsafe(n * 2);
  for (let i = 0; i < n; i++) {
    data[2 * i] = image.data[4 * i];
    data[2 * i + 1] = image.data[4 * i + 3];
  }
  return { ...image, data, channels: 2 };
}
