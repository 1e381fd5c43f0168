import { canJoin, type PendingStage } from '../image/native-stage.js';
import type { ValidPipeline, ValidStep } from './spec.js';

/**
 * Consecutive steps that run as one: a libvips pipeline (`native`), or one step on pixels.
 * The first pass runs inside the decoder and the last inside the encoder.
 */
export interface Pass {
  native: boolean;
  /** Index of the pass's first step in the pipeline. */
  first: number;
  steps: ValidStep[];
}

/**
 * The fewest passes that keep the pipeline's meaning: steps stay in the user's order, and a
 * step joins the libvips pipeline before it when sharp would run them in that same order
 * (native-stage.ts). Pixels are made only between passes.
 */
export function planPasses(pipeline: Pick<ValidPipeline, 'steps'>): Pass[] {
  const passes: Pass[] = [];
  let last: PendingStage = 'closed';
  pipeline.steps.forEach((step, index) => {
    const stage = step.op.kind === 'image' ? step.op.stage : undefined;
    const current = passes[passes.length - 1];
    if (stage && current?.native && canJoin(last, stage)) {
      current.steps.push(step);
    } else {
      passes.push({ native: stage !== undefined, first: index, steps: [step] });
    }
    last = stage ?? 'closed';
  });
  return passes;
}

/** The compact description of a plan, as the report shows it: `resize+sharpen | watermark`. */
export function describePasses(passes: Pass[]): string {
  return passes.map((pass) => pass.steps.map((step) => step.op.name).join('+')).join(' | ');
}
