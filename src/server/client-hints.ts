/**
 * Client hints for image URLs (`--client-hints`): a browser that was asked for them (Accept-CH)
 * sends the screen's device pixel ratio (`Sec-CH-DPR`, or the older `DPR`) and the width the
 * image will take on screen in device pixels (`Sec-CH-Width`, or `Width`). They fill in what the
 * URL leaves open, never override it:
 * - the pixel ratio goes to each resize step whose dpr the URL leaves at 1;
 * - the width goes to each resize step that gives no width (already in device pixels, so that
 *   step's dpr stays 1).
 * Each hint that could change this URL's result is named in Vary, so caches keep the variants apart.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Limits } from '../limits.js';
import type { StepSpec, ValidPipeline } from '../pipeline/spec.js';
import { validatePipeline } from '../pipeline/validate.js';

/** The hints image responses ask browsers for. */
export const ACCEPTED_HINTS = 'Sec-CH-DPR, Sec-CH-Width, DPR, Width';

const DPR_HEADERS = ['sec-ch-dpr', 'dpr'] as const;
const WIDTH_HEADERS = ['sec-ch-width', 'width'] as const;

export interface Hinted {
  pipeline: ValidPipeline;
  /** Request headers this URL's result depends on, for Vary. */
  vary: string[];
}

export function applyClientHints(pipeline: ValidPipeline, headers: IncomingHttpHeaders, limits: Pick<Limits, 'maxSteps'>): Hinted {
  const resizes = pipeline.spec.steps.filter((step) => step.op === 'resize');
  const takesDpr = resizes.some((step) => step.dpr === 1 && step.width !== undefined);
  const takesWidth = resizes.some((step) => step.width === undefined);
  const vary = [...(takesDpr ? ['Sec-CH-DPR', 'DPR'] : []), ...(takesWidth ? ['Sec-CH-Width', 'Width'] : [])];
  if (vary.length === 0) return { pipeline, vary };
  const dpr = takesDpr ? hint(headers, DPR_HEADERS, 1, 4) : undefined;
  const width = takesWidth ? hint(headers, WIDTH_HEADERS, 1, 65_535) : undefined;
  if (dpr === undefined && width === undefined) return { pipeline, vary };
  const steps = pipeline.spec.steps.map((step): StepSpec => {
    if (step.op !== 'resize') return step;
    if (step.width === undefined && width !== undefined) return { ...step, width: Math.round(width) };
    if (step.dpr === 1 && step.width !== undefined && dpr !== undefined) return { ...step, dpr };
    return step;
  });
  return { pipeline: validatePipeline({ ...pipeline.spec, steps }, limits), vary };
}

/** The first of `names` that holds a number, clamped to min..max; a hint that is not a number is ignored. */
function hint(headers: IncomingHttpHeaders, names: readonly string[], min: number, max: number): number | undefined {
  for (const name of names) {
    const text = headers[name];
    if (typeof text !== 'string' || text.trim() === '') continue;
    const value = Number(text.trim());
    if (Number.isFinite(value) && value > 0) return Math.min(max, Math.max(min, value));
  }
  return undefined;
}
