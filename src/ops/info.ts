import { imageInfo, type ImageInfo } from '../info/image-info.js';
import type { AnalysisOperation } from './types.js';

/** The image's information and placeholders (src/info/image-info.ts), as a pipeline of one step. */
export const info: AnalysisOperation<Record<string, never>, ImageInfo> = {
  kind: 'analysis',
  name: 'info',
  label: 'Information',
  summary: 'Size, format, frames, alpha, orientation, ICC profile, EXIF date and camera, dominant colour, ThumbHash and BlurHash; reads the file itself, so it is the only step',
  params: {},
  fromSource: (input, _params, limits, read) => imageInfo(input, limits, read),
};
