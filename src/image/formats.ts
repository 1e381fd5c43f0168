import { loadSharp, type SharpModule } from './sharp-module.js';
import { OUTPUT_FORMATS } from '../pipeline/spec.js';
import { INPUT_FORMATS } from './decode.js';

/** libvips' loader or saver behind each format imgfleet names (AVIF is read and written by its HEIF module). */
const LIBVIPS_NAME: Record<string, keyof SharpModule['format']> = { avif: 'heif' };

/**
 * The formats this build reads and writes: imgfleet's own lists, less what the libvips it runs on
 * was built without (sharp's bundled libvips has no JPEG XL, for one).
 */
export function supportedFormats(): { read: string[]; write: string[] } {
  const { read, write } = known();
  return { read: [...read], write: [...write] };
}

let supported: { read: string[]; write: string[] } | undefined;

function known(): { read: string[]; write: string[] } {
  supported ??= {
    read: INPUT_FORMATS.filter((name) => libvips(name)?.input.buffer === true),
    write: OUTPUT_FORMATS.filter((name) => libvips(name)?.output.buffer === true),
  };
  return supported;
}

/**
 * Whether this build writes `format`. JPEG is taken as read without asking libvips, which would
 * load sharp in a thread that may never need it: every libvips sharp runs on writes JPEG.
 */
export function writesFormat(format: string): boolean {
  return format === 'jpeg' || known().write.includes(format);
}

function libvips(name: string): SharpModule['format'][keyof SharpModule['format']] | undefined {
  return loadSharp().format[LIBVIPS_NAME[name] ?? (name as keyof SharpModule['format'])];
}

/** The formats, as `imgfleet ops` prints them. */
export function formatsText(): string {
  const { read, write } = supportedFormats();
  return `Formats (this build)\n  reads:  ${read.join(', ')}\n  writes: ${write.join(', ')}\n`;
}
