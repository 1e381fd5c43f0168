import { planJpegTurboLane, type TurboLanePlan } from './jpeg-turbo-lane.js';
import type { ValidPipeline } from './spec.js';

/** Which codecs and resampler make a result; lanes may differ in pixels, never in meaning. */
export type Lane = 'libvips' | 'jpeg-turbo';

/** Bytes from the start of an input that are enough to choose its lane. */
export const LANE_HEAD_BYTES = 64 * 1024;

/**
 * The lane this process would run `pipeline` on for an input that starts with `head` (at least
 * its first LANE_HEAD_BYTES, or all of it). Results of different lanes are cached apart.
 */
export function laneFor(head: Uint8Array, pipeline: ValidPipeline): Lane {
  return turboLanePlan(head, pipeline) ? 'jpeg-turbo' : 'libvips';
}

/** The processor's choice, from the same first bytes laneFor reads, so that the two always agree. */
export function turboLanePlan(input: Uint8Array, pipeline: ValidPipeline): TurboLanePlan | undefined {
  const head = input.subarray(0, LANE_HEAD_BYTES);
  return planJpegTurboLane(Buffer.from(head.buffer, head.byteOffset, head.byteLength), pipeline);
}
