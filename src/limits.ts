import { ImgfleetError } from './errors.js';

/** Safety limits, all checked before any pixel is decoded. */
export interface Limits {
  /**
   * Largest input, in pixels (width × height of the header, times the frames decoded when an
   * animation stays animated). @defaultValue 50 MP, as imgproxy
   */
  maxInputPixels: number;
  /** Largest output, in pixels, estimated from the pipeline before decoding. @defaultValue 100 MP */
  maxOutputPixels: number;
  /** Largest output width or height. @defaultValue 32767 */
  maxOutputDimension: number;
  /** Most frames of an animated input that stays animated. @defaultValue 1000 */
  maxFrames: number;
  /** Most steps in one pipeline. @defaultValue 32 */
  maxSteps: number;
  /** Largest input file. @defaultValue 100 MiB */
  maxFileBytes: number;
  /**
   * Most work one image may cost, in pixel-operations estimated from its header and pipeline
   * before decoding (see src/task/work-cost.ts). @defaultValue no limit (the server sets one)
   */
  maxWork: number;
  /** Largest encoded result of one image. @defaultValue no limit (the server sets one) */
  maxOutputBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxInputPixels: 50_000_000,
  maxOutputPixels: 100_000_000,
  maxOutputDimension: 32_767,
  maxFrames: 1000,
  maxSteps: 32,
  maxFileBytes: 100 * 1024 * 1024,
  maxWork: Number.POSITIVE_INFINITY,
  maxOutputBytes: Number.POSITIVE_INFINITY,
});

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  return { ...DEFAULT_LIMITS, ...overrides };
}

export function checkFileSize(bytes: number, limits: Limits): void {
  if (bytes === 0) throw new ImgfleetError('EMPTY_FILE', 'empty file (0 bytes)');
  if (bytes > limits.maxFileBytes) {
    throw new ImgfleetError('FILE_TOO_LARGE',
      `file is ${formatBytes(bytes)}, over the limit of ${formatBytes(limits.maxFileBytes)}`);
  }
}

export function checkInputPixels(width: number, height: number, limits: Limits): void {
  const pixels = width * height;
  if (pixels > limits.maxInputPixels) {
    throw new ImgfleetError('TOO_MANY_PIXELS',
      `image header claims ${width}×${height} = ${formatPixels(pixels)}, over the limit of ${formatPixels(limits.maxInputPixels)}`);
  }
}

/** An animation's frames, all decoded: at most maxFrames of them, and all their pixels within maxInputPixels. */
export function checkFrames(width: number, height: number, frames: number, limits: Limits): void {
  if (frames > limits.maxFrames) {
    throw new ImgfleetError('TOO_MANY_PIXELS',
      `animation has ${frames} frames, over the limit of ${limits.maxFrames}; output:…:frames=first takes the first frame only`);
  }
  const pixels = width * height * frames;
  if (pixels > limits.maxInputPixels) {
    throw new ImgfleetError('TOO_MANY_PIXELS',
      `animation header claims ${frames} frames of ${width}×${height} = ${formatPixels(pixels)}, over the limit of ${formatPixels(limits.maxInputPixels)}; output:…:frames=first takes the first frame only`);
  }
}

export function checkOutputSize(width: number, height: number, limits: Limits, where: string): void {
  if (width > limits.maxOutputDimension || height > limits.maxOutputDimension
    || width * height > limits.maxOutputPixels) {
    throw new ImgfleetError('OUTPUT_TOO_LARGE',
      `${where} would make a ${Math.round(width)}×${Math.round(height)} image, over the output limit `
      + `(${limits.maxOutputDimension} px a side, ${formatPixels(limits.maxOutputPixels)})`);
  }
}

export function checkOutputBytes(bytes: number, limits: Limits): void {
  if (bytes > limits.maxOutputBytes) {
    throw new ImgfleetError('RESULT_TOO_LARGE', `the result is ${formatBytes(bytes)}, over the limit of ${formatBytes(limits.maxOutputBytes)} per image: choose a smaller size or a more compact format`);
  }
}

function formatPixels(pixels: number): string {
  return `${(pixels / 1e6).toFixed(pixels < 1e7 ? 1 : 0)} MP`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
