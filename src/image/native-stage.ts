/**
 * Where an operation sits in one libvips pipeline. sharp applies the operations of one
 * pipeline in a fixed order, whatever order they were called in: geometry (a region read,
 * the resize with its fit, borders, then rotation and mirroring), then the filters in this
 * order. Steps written in the same order as this list can run as one pipeline and keep their
 * meaning; any other order needs the pixels made in between.
 */
export const NATIVE_STAGES = ['extract', 'resize', 'extend', 'orient', 'blur', 'modulate', 'sharpen', 'clahe', 'negate'] as const;
export type NativeStage = (typeof NATIVE_STAGES)[number];

/** The stages that keep the image's size: the filters. */
export const SIZE_KEEPING_STAGES: ReadonlySet<NativeStage> = new Set(['blur', 'modulate', 'sharpen', 'clahe', 'negate']);

/** The stages of a pending pipeline so far: none yet, the last one appended, or one that takes nothing more. */
export type PendingStage = NativeStage | 'none' | 'closed';

/**
 * Whether an operation of stage `next` can be appended to a pipeline whose last operation is
 * `last`. A region read and a rotation or mirror only start a pipeline: sharp reads a region
 * before resizing only when asked first, and mirrors before the fit's crop or padding, so
 * geometry after them would land in another order.
 */
export function canJoin(last: PendingStage, next: NativeStage): boolean {
  if (last === 'closed') return false;
  if (last === 'none') return true;
  if (next === 'extract' || next === 'orient') return false;
  return NATIVE_STAGES.indexOf(next) > NATIVE_STAGES.indexOf(last);
}
