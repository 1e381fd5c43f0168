import type { BatchJob, BatchSummary } from '../jobs/batch-job.js';

export function summaryLine(summary: BatchSummary, noun = 'images'): string {
  const seconds = summary.elapsedMs / 1000;
  return `processed ${summary.done}/${summary.total} ${noun} in ${seconds.toFixed(2)} s `
    + `(${summary.imagesPerSecond.toFixed(1)} img/s), ${summary.failed} failed`
    + skippedPart(summary)
    + (summary.cacheHits !== undefined ? `, ${summary.cacheHits} from the cache` : '');
}

/** The skipped entries' count, and why in a word when every one is not an image; else their lines below say why. */
function skippedPart({ skipped, skippedNotImages }: BatchSummary): string {
  if (skipped === 0) return '';
  if (skippedNotImages === skipped) return `, ${skipped} skipped (not images)`;
  const notImages = skippedNotImages === 0 ? '' : `${skippedNotImages} ${skippedNotImages === 1 ? 'not an image' : 'not images'}; `;
  return `, ${skipped} skipped (${notImages}why below)`;
}

/** One line per failed item (its path and the reason), then the skipped files (a few, and how many more). */
export function failureLines(job: BatchJob, shownSkipped = 5): string[] {
  const failures = job.items.filter((i) => i.status === 'failed').map((i) => oneLine(`  ✗ ${i.input}: ${i.error?.message ?? 'failed'}`));
  const skipped = job.skipped.slice(0, shownSkipped).map((s) => oneLine(`  – skipped ${s.path}: ${s.reason}`));
  if (job.skipped.length > shownSkipped) skipped.push(`  – and ${job.skipped.length - shownSkipped} more skipped (see --report)`);
  return [...failures, ...skipped];
}

/** Text as one printed line: control characters (a newline in a file's name) shown escaped. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
