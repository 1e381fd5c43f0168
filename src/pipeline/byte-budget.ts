import type { OutputInfo, Sharp } from 'sharp';
import { ImgfleetError } from '../errors.js';
import { LOSSY_FORMATS } from '../image/encode.js';
import { formatBytes } from '../limits.js';
import type { OutputFormat } from './spec.js';

export interface Encoded {
  data: Buffer;
  info: OutputInfo;
  /** The quality a byte budget chose. */
  quality?: number;
}

/**
 * Encodes within `maxBytes`: the highest quality from 1 to `highest` whose result fits, found by
 * a binary search that keeps "q fits, q + 1 does not" (at most eight encodes; one when the
 * highest fits). `encode` makes a fresh encoder for a quality. A format without a quality is
 * encoded once; a result that does not fit even at quality 1 is refused with its size.
 */
export async function encodeWithin(
  encode: (quality: number | undefined) => Sharp, format: OutputFormat, maxBytes: number, highest: number,
): Promise<Encoded> {
  const run = async (quality: number | undefined) => ({ ...(await encode(quality).toBuffer({ resolveWithObject: true })), quality });
  if (!LOSSY_FORMATS.includes(format)) {
    const once = await run(undefined);
    if (once.data.length > maxBytes) {
      throw new ImgfleetError('RESULT_TOO_LARGE',
        `output.maxBytes: the ${format} result is ${formatBytes(once.data.length)}, over the ${maxBytes} bytes asked, and ${format} has no quality to lower; choose a smaller size or a lossy format (jpeg, webp, avif)`);
    }
    return { data: once.data, info: once.info };
  }
  const top = await run(highest);
  if (top.data.length <= maxBytes) return top;
  // Invariant: `fits` (quality lo) fits or lo is 0; quality hi + 1 does not fit.
  let lo = 0;
  let hi = highest - 1;
  let fits: Encoded | undefined;
  let smallest = top.data.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const tried = await run(mid);
    if (tried.data.length <= maxBytes) {
      lo = mid;
      fits = tried;
    } else {
      hi = mid - 1;
      smallest = Math.min(smallest, tried.data.length);
    }
  }
  if (!fits) {
    throw new ImgfleetError('RESULT_TOO_LARGE',
      `output.maxBytes: even quality 1 makes ${formatBytes(smallest)} of ${format}, over the ${maxBytes} bytes asked; choose a smaller size or a more compact format`);
  }
  return fits;
}
