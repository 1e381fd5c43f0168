import type { BatchJob, BatchSummary } from '../jobs/batch-job.js';

export function summaryLine(summary: BatchSummary, noun = 'images'): string {
  const seconds = summary.elapsedMs / 1000;
  return `processed ${summary.done}/${summary.total} ${noun} in ${seconds.toFixed(2)} s `
    + `(${summary.imagesPerSecond.toFixed(1)} img/s), ${summary.failed} failed`
    + (summary.cacheHits !== undefined ? `, ${summary.cacheHits} from the cache` : '');
}

/** One line per failed item: its path and the reason. */
export function failureLines(job: BatchJob): string[] {
  return job.items.filter((i) => i.status === 'failed').map((i) => `  ✗ ${i.input}: ${i.error?.message ?? 'failed'}`);
}
