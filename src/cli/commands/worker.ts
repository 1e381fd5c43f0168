import { Command } from 'commander';
import { startClusterWorker } from '../../engine/redis/cluster-worker.js';
import { clusterSettings } from '../../engine/redis/cluster-settings.js';
import { positiveInteger, positiveNumber, probability, usageError } from '../usage.js';

interface WorkerOptions {
  redis?: string;
  concurrency?: number;
  name?: string;
  timeout: number;
  rejectRate: number;
  delayRate: number;
  delayMs: number;
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('join a cluster: take jobs from Redis and run them on this machine’s cores until SIGTERM or Ctrl-C')
    .option('--redis <url>', 'the cluster’s Redis, e.g. redis://10.0.0.5:6379 (env IMGFLEET_REDIS)', process.env.IMGFLEET_REDIS)
    .option('-c, --concurrency <n>', 'images in parallel (default: cores)', positiveInteger)
    .option('--name <name>', 'name in `imgfleet workers` and in reports (default: host-pid)')
    .option('--timeout <seconds>', 'give up on one image after this long (it is retried)', positiveNumber, 120)
    .option('--reject-rate <p>', 'fault injection: refuse a job with probability p (it goes to another worker)', probability, 0)
    .option('--delay-rate <p>', 'fault injection: stall a job with probability p', probability, 0)
    .option('--delay-ms <ms>', 'how long a stall lasts', positiveInteger, 1000)
    .addHelpText('after', '\nSIGTERM or Ctrl-C drains: no new jobs, the running ones finish, then it exits 0.')
    .action(async (options: WorkerOptions) => {
      if (!options.redis) throw usageError('--redis <url> (or IMGFLEET_REDIS) is required');
      const worker = await startClusterWorker({
        settings: clusterSettings(options.redis), concurrency: options.concurrency, name: options.name,
        timeoutMs: options.timeout * 1000, rejectRate: options.rejectRate, delayRate: options.delayRate, delayMs: options.delayMs,
      });
      const { info } = worker.registry;
      console.log(`worker ${worker.name} joined ${options.redis} with ${info.concurrency} threads`);
      await new Promise<void>((resolve) => {
        const drain = (signal: string) => {
          console.log(`${signal}: draining ${info.active} running job(s)…`);
          void worker.close().then(resolve);
        };
        process.once('SIGTERM', () => drain('SIGTERM'));
        process.once('SIGINT', () => drain('SIGINT'));
      });
      console.log(`worker ${worker.name} left: ${info.done} done, ${info.failed} failed, ${info.rejected} refused`);
    });
}
