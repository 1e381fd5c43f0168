import { AsyncLocalStorage } from 'node:async_hooks';
import type { Sharp } from 'sharp';

/**
 * The time by which the image being processed must be done, for every libvips pipeline made
 * while processing it. libvips checks its kill flag as it computes, and sharp raises that flag
 * when a pipeline's `timeout` passes: so a runaway operation stops inside libvips, freeing its
 * thread, instead of running on after the request has given up on it.
 */
const current = new AsyncLocalStorage<number>();

/** Runs `work` with a deadline (milliseconds since the epoch) for the libvips pipelines it makes. */
export function withDeadline<T>(deadline: number | undefined, work: () => Promise<T>): Promise<T> {
  return deadline === undefined ? work() : current.run(deadline, work);
}

/** A pipeline bounded by the current deadline (whole seconds, at least one: sharp's resolution). */
export function boundedByDeadline(image: Sharp): Sharp {
  const deadline = current.getStore();
  if (deadline === undefined) return image;
  return image.timeout({ seconds: Math.max(1, Math.ceil((deadline - Date.now()) / 1000)) });
}

/** Whether a libvips error is its kill flag (the deadline passed). */
export function isKilled(message: string): boolean {
  return /^timeout: \d+% complete/m.test(message) || /killed for image/.test(message);
}
