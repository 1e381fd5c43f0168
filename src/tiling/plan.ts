import type { ValidPipeline, ValidStep } from '../pipeline/spec.js';

/**
 * How a pipeline runs on tiles. Geometry at the start runs on the source before it is cut;
 * the tiled steps run on each tile widened by `halo` pixels of real neighbours; geometry and
 * placed drawing (watermarks) at the end run on the stitched image.
 */
export interface TilePlan {
  before: ValidStep[];
  tiled: ValidStep[];
  after: ValidStep[];
  /** The sum of the tiled steps' neighbourhoods: how far a tile must reach past its edges. */
  halo: number;
  /** The first tiled step needs the mean grey of the whole image at that point. */
  needsMeanGrey: boolean;
}

export type TilePlanResult = { ok: true; plan: TilePlan } | { ok: false; reason: string };

/** Splits a pipeline into before, tiled and after, or says why it cannot run on tiles. */
export function planTiling(pipeline: ValidPipeline): TilePlanResult {
  const rules = pipeline.steps.map((step, index) => {
    const where = `steps[${index}] (${step.op.name})`;
    if (step.op.kind === 'analysis') return { where, kind: 'whole' as const, reason: `${step.op.name} yields data about the whole image` };
    return { where, ...step.op.tiling(step.params) };
  });
  const whole = rules.find((rule) => rule.kind === 'whole');
  if (whole?.kind === 'whole') return { ok: false, reason: `${whole.where}: ${whole.reason}` };
  const tiledAt = rules.flatMap((rule, i) => (rule.kind === 'local' || rule.kind === 'mean-grey' ? [i] : []));
  if (tiledAt.length === 0) return { ok: false, reason: 'no step works on tiles (only geometry or placed steps)' };
  const first = tiledAt[0];
  const last = tiledAt[tiledAt.length - 1];

  for (const [i, rule] of rules.entries()) {
    if (i < first && rule.kind === 'placed') {
      return { ok: false, reason: `${rule.where}: a watermark before the tiled steps would be cut by the tiles; put it after them` };
    }
    if (i > first && i < last && (rule.kind === 'geometry' || rule.kind === 'placed')) {
      return { ok: false, reason: `${rule.where}: geometry between tiled steps moves pixels across tiles; put it before or after the filters` };
    }
    if (i > first && rule.kind === 'mean-grey') {
      return { ok: false, reason: `${rule.where}: needs the mean grey of the image made by the steps before it, known only once they ran on every tile; put it first among the filters` };
    }
  }

  const tiled = pipeline.steps.slice(first, last + 1);
  const halo = rules.slice(first, last + 1).reduce((sum, rule) => sum + (rule.kind === 'local' ? rule.halo : 0), 0);
  return {
    ok: true,
    plan: {
      before: pipeline.steps.slice(0, first),
      tiled,
      after: pipeline.steps.slice(last + 1),
      halo,
      needsMeanGrey: rules[first].kind === 'mean-grey',
    },
  };
}
