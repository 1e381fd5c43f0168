import cliProgress from 'cli-progress';
import type { BatchJob } from '../jobs/batch-job.js';
import type { TileEvent } from '../tiling/run-tiled.js';

/** Every bar of the CLI: on stderr, cleared when it completes. */
function stderrBar(format: string): cliProgress.SingleBar {
  return new cliProgress.SingleBar({
    format, barCompleteChar: '█', barIncompleteChar: '░', hideCursor: true, clearOnComplete: true, stream: process.stderr,
  }, cliProgress.Presets.shades_classic);
}

/** A bar on stderr that follows the tiles of one large image; returns its event handler and a stop function. */
export function showTileProgress(): { onTile: (event: TileEvent) => void; stop: () => void } {
  const bar = stderrBar('{bar} {percentage}% | {value}/{total} tiles | last on {worker}');
  let started = false;
  return {
    onTile: (event) => {
      if (!started) {
        started = true;
        bar.start(event.total, 0, { worker: '-' });
      }
      if (event.status === 'done') bar.update(event.done, { worker: event.worker ?? '-' });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** A progress bar on stderr that follows a batch and stops when every item is settled (or when the returned function is called). */
export function showProgress(job: BatchJob, label = 'images'): () => void {
  const bar = stderrBar(`{bar} {percentage}% | {value}/{total} ${label} | {rate}/s | ETA {eta_formatted} | {failed} failed{tiles}`);
  const started = performance.now();
  let settled = 0;
  let failed = 0;
  bar.start(job.items.length, 0, { rate: '0.0', failed: 0, tiles: '' });
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    job.off('item', onItem);
    job.off('tile', onTile);
    bar.stop();
  };
  const onItem = (_index: number, item: { status: string }) => {
    if (item.status !== 'done' && item.status !== 'failed') return;
    settled++;
    if (item.status === 'failed') failed++;
    const rate = settled / ((performance.now() - started) / 1000);
    bar.update(settled, { rate: rate.toFixed(1), failed });
    if (settled === job.items.length) stop();
  };
  // A large image runs as tiles: its tiles show beside the images.
  const onTile = (_index: number, event: TileEvent) => {
    bar.update({ tiles: event.done < event.total ? ` | tiles ${event.done}/${event.total}` : '' });
  };
  job.on('item', onItem);
  job.on('tile', onTile);
  return stop;
}

/** A plain counting bar on stderr, for work that is not a batch of images (a load test). */
export function showCountProgress(total: number, label: string): { update(done: number): void; stop(): void } {
  const bar = stderrBar(`{bar} {percentage}% | {value}/{total} ${label} | ETA {eta_formatted}`);
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
