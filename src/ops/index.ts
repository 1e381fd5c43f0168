/** The registry: every operation, in the order `imgfleet ops` and the docs list them. */
import { blur } from './blur.js';
import { brightness } from './brightness.js';
import { clahe } from './clahe.js';
import { contrast } from './contrast.js';
import { crop } from './crop.js';
import { edges } from './edges.js';
import { flip } from './flip.js';
import { grayscale } from './grayscale.js';
import { histogram } from './histogram.js';
import { info } from './info.js';
import { negate } from './negate.js';
import { pad } from './pad.js';
import { resize } from './resize.js';
import { rotate } from './rotate.js';
import { saturate } from './saturate.js';
import { sepia } from './sepia.js';
import { sharpen } from './sharpen.js';
import { threshold } from './threshold.js';
import { trim } from './trim.js';
import type { Operation } from './types.js';
import { watermark } from './watermark.js';

export const OPERATIONS: readonly Operation[] = [
  resize, crop, trim, rotate, flip, pad,
  grayscale, threshold, blur, sharpen, edges, sepia, negate, brightness, contrast, saturate, clahe,
  watermark, histogram, info,
];

const BY_NAME = new Map(OPERATIONS.map((op) => [op.name, op]));

export function findOperation(name: string): Operation | undefined {
  return BY_NAME.get(name);
}

export type { Operation, ImageOperation, AnalysisOperation, OpContext, Size } from './types.js';
