import sharp from 'sharp';
import { OUTPUT_FORMATS } from '../pipeline/spec.js';
import { INPUT_FORMATS } from './decode.js';

/** libvips' loader or saver behind each format imgfleet names (AVIF is read and written by its HEIF module). */
const LIBVIPS_NAME: Record<string, keyof typeof sharp.format> = { avif: 'heif' };

/**
 * The formats this build reads and writes: imgfleet's own lists, less what the libvips it runs on
 * was built without (sharp's bundled libvips has no JPEG XL, for one).
 */
export function supportedFormats(): { read: string[]; write: string[] } {
  supported ??= {
    read: INPUT_FORMATS.filter((name) => libvips(name)?.input.buffer === true),
    write: OUTPUT_FORMATS.filter((name) => libvips(name)?.output.buffer === true),
  };
  return { read: [...supported.read], write: [...supported.write] };
}

let supported: { read: string[]; write: string[] } | undefined;

function libvips(name: string): (typeof sharp.format)[keyof typeof sharp.format] | undefined {
  return sharp.format[LIBVIPS_NAME[name] ?? (name as keyof typeof sharp.format)];
}

/** The formats, as `imgfleet ops` prints them. */
export function formatsText(): string {
  const { read, write } = supportedFormats();
  return `Formats (this build)\n  reads:  ${read.join(', ')}\n  writes: ${write.join(', ')}\n`;
}
