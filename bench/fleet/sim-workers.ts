/**
 * Simulated fleet workers, many in one process: each is a real `imgfleet worker` (BullMQ,
 * the job checks, the executor reading its input object and writing its output object) whose
 * image work is a fixed sleep, one image at a time.
 *
 *   node sim-workers.js <redis-url> <prefix> <count> <sleep-ms> <name> <s3-root>
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readEnvironment } from '../../src/config.js';
import { clusterSettings } from '../../src/engine/redis/cluster-settings.js';
import { startClusterWorker } from '../../src/engine/redis/cluster-worker.js';
import { parseObjectUrl } from '../../src/sources/s3/object-url.js';
import { s3Settings } from '../../src/sources/s3/s3-settings.js';
import type { Outcome, Task } from '../../src/task/task.js';

const [url, prefix, count, sleepMs, name, root] = process.argv.slice(2);
const env = readEnvironment();
const workers = await Promise.all(Array.from({ length: Number(count) }, async (_, i) => {
  let busy = Promise.resolve();
  /** The image's work: the slot for `sleep-ms`, then its bytes back as the result. */
  const processor = (task: Task): Promise<Outcome> => {
    const turn = busy.then(() => sleep(Number(sleepMs)));
    busy = turn;
    return turn.then(() => {
      const bytes = task.source.kind === 'bytes' ? Buffer.from(task.source.bytes) : Buffer.alloc(0);
      return {
        ok: true, body: bytes, worker: `${name}-${i}`,
        output: { bytes: bytes.length, width: 512, height: 512, format: 'jpeg' },
        stats: { input: { format: 'jpeg', width: 500, height: 375, bytes: bytes.length }, path: 'libvips', probeMs: 0, steps: [], encodeMs: 0, totalMs: Number(sleepMs) },
      };
    });
  };
  return startClusterWorker({
    settings: clusterSettings(url, { ...env, prefix }), concurrency: 1, name: `${name}-${i}`, processor,
    s3: s3Settings(env), s3Roots: [parseObjectUrl(root)],
  });
}));
console.log(`ready: ${workers.length} simulated workers`);
process.on('SIGTERM', () => void Promise.all(workers.map((w) => w.close())).then(() => process.exit(0)));
