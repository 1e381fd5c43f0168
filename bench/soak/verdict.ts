/**
 * Whether resident memory is flat after warm-up: over the last half of the run, the growth the
 * least-squares line shows from its start to its end stays within the tolerance (a share of the
 * memory, with a floor in MiB for a small process).
 */
export interface Flatness {
  flat: boolean;
  /** MiB per minute, over the last half. */
  slopeMiBPerMin: number;
  /** What the slope adds over the last half, in MiB. */
  growthMiB: number;
  toleranceMiB: number;
  /** Mean over the first and the last tenth of the last half. */
  startMiB: number;
  endMiB: number;
  peakMiB: number;
}

export const TOLERANCE = { share: 0.1, floorMiB: 32 };

export function flatness(series: { t: number; mib: number }[]): Flatness {
  const half = series.slice(Math.floor(series.length / 2));
  const n = half.length;
  const meanT = half.reduce((s, p) => s + p.t, 0) / n;
  const meanM = half.reduce((s, p) => s + p.mib, 0) / n;
  const covariance = half.reduce((s, p) => s + (p.t - meanT) * (p.mib - meanM), 0);
  const variance = half.reduce((s, p) => s + (p.t - meanT) ** 2, 0);
  const slope = variance > 0 ? covariance / variance : 0;
  const span = n > 1 ? half[n - 1].t - half[0].t : 0;
  const growthMiB = slope * span;
  const tenth = Math.max(1, Math.floor(n / 10));
  const mean = (points: { mib: number }[]) => points.reduce((s, p) => s + p.mib, 0) / points.length;
  const toleranceMiB = Math.max(TOLERANCE.floorMiB, TOLERANCE.share * meanM);
  return {
    flat: growthMiB <= toleranceMiB,
    slopeMiBPerMin: round(slope * 60),
    growthMiB: round(growthMiB),
    toleranceMiB: round(toleranceMiB),
    startMiB: round(mean(half.slice(0, tenth))),
    endMiB: round(mean(half.slice(-tenth))),
    peakMiB: round(Math.max(...series.map((p) => p.mib))),
  };
}

const round = (x: number) => Math.round(x * 10) / 10;
