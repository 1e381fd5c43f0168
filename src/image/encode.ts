import type { Sharp } from 'sharp';
import { fixedFormat } from '../pipeline/negotiate.js';
import type { OutputFormat, OutputSpec } from '../pipeline/spec.js';
import type { InputFormat } from './decode.js';

export const EXTENSIONS: Record<OutputFormat, string> = {
  jpeg: '.jpg', png: '.png', webp: '.webp', avif: '.avif', tiff: '.tif', gif: '.gif',
};

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', tiff: 'image/tiff', gif: 'image/gif',
};

export function outputFormatFor(output: OutputSpec, input: InputFormat): OutputFormat {
  return fixedFormat(output) ?? input;
}

/**
 * Appends the encoder. Pixels were processed as stored, so an input's ICC profile is carried
 * to the output for viewers to apply. JPEG skips Huffman optimisation and progressive scans: they cost more
 * time than anything else in a small-image pipeline and change no pixel.
 */
export function withEncoder(image: Sharp, format: OutputFormat, quality: number | undefined, input: { hasAlpha: boolean; hasIcc: boolean }): Sharp {
  return encoder(input.hasIcc && format !== 'gif' ? image.keepIccProfile() : image, format, quality, input.hasAlpha);
}

function encoder(image: Sharp, format: OutputFormat, quality: number | undefined, hadAlpha: boolean): Sharp {
  switch (format) {
    case 'jpeg':
      return (hadAlpha ? image.flatten({ background: '#ffffff' }) : image)
        .jpeg({ quality: quality ?? 80, optimiseCoding: false, mozjpeg: false, trellisQuantisation: false, overshootDeringing: false });
    case 'png':
      return image.png({ compressionLevel: 6, adaptiveFiltering: false });
    case 'webp':
      return image.webp({ quality: quality ?? 80, effort: 4 });
    case 'avif':
      return image.avif({ quality: quality ?? 50, effort: 4 });
    case 'tiff':
      return quality === undefined ? image.tiff({ compression: 'lzw' }) : image.tiff({ compression: 'jpeg', quality });
    case 'gif':
      return image.gif();
  }
}
