import type { ImageInfo } from '../info/image-info.js';
import type { AnalysisOperation } from './types.js';

/** The image's information and placeholders (src/info/image-info.ts), as a pipeline of one step. */
export const info: AnalysisOperation<Record<string, never>, ImageInfo> = {
  kind: 'analysis',
  name: 'info',
  label: 'Information',
  summary: 'Size, format, frames, alpha, orientation, ICC profile, EXIF date and camera, dominant colour, ThumbHash and BlurHash; reads the file itself, so it is the only step',
  params: {},
  // Loaded when asked for: its EXIF, ICC and placeholder libraries cost every thread 13-18 ms to load.
  fromSource: async (input, _params, limits, read) => (await import('../info/image-info.js')).imageInfo(input, limits, read),
};
