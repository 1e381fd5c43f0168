import { Command } from 'commander';
import { exitOnSignalWhileStarting, untilStopped } from '../signals.js';
import { collect, collectExistingFolders, displayName, existingFolder, logLine, positiveInteger, positiveNumber, probability, usageError, withStoreOptions, type CommandContext, type StoreFlags } from '../usage.js';

interface WorkerOptions extends StoreFlags {
  redis?: string;
  concurrency?: number;
  name?: string;
  timeout: number;
  drain: number;
  sharedFsRoot?: string[];
  s3Root?: string[];
  assetsDir?: string;
  maxMegapixels?: number;
  maxFrames?: number;
  maxOutputMegapixels?: number;
  rejectRate: number;
  delayRate: number;
  delayMs: number;
  aliveFile?: string;
}

export function workerCommand({ env }: CommandContext): Command {
  return withStoreOptions(new Command('worker'))
    .description('join a cluster: take jobs from Redis and run them on this machine’s cores until SIGTERM or Ctrl-C')
    .option('--redis <url>', 'the cluster’s Redis, e.g. redis://10.0.0.5:6379 (env IMGFLEET_REDIS)', env.redis)
    .option('-c, --concurrency <n>', 'images in parallel (default: cores)', positiveInteger)
    .option('--name <name>', 'name in `imgfleet workers` and in reports (default: host-pid)', displayName)
    .option('--timeout <seconds>', 'give up on one image after this long (it is retried)', positiveNumber, 120)
    .option('--drain <seconds>', 'on SIGTERM, how long running jobs may take to finish (env IMGFLEET_DRAIN_MS)', positiveNumber, env.drainMs / 1000)
    .option('--shared-fs-root <dir>', 'a folder whose files jobs may name (for submitters using --shared-fs); repeatable', collectExistingFolders)
    .option('--s3-root <url>', 'a bucket prefix whose objects jobs may read and write, s3://bucket/prefix/ (for submitters using s3:// inputs or outputs); repeatable', collect)
    .option('--assets-dir <dir>', 'folder of logos that watermark steps may name (image=logo.png); without it, logos are refused', existingFolder)
    .option('--max-megapixels <n>', 'largest image this worker takes, in megapixels, all frames of an animation counted (jobs may ask for less, never more)', positiveNumber)
    .option('--max-frames <n>', 'most frames of an animation this worker takes (default 1000; jobs may ask for less, never more)', positiveInteger)
    .option('--alive-file <path>', 'rewrite this file every 5 s while alive, for `imgfleet health --worker` (env IMGFLEET_ALIVE_FILE)', env.aliveFile)
    .option('--max-output-megapixels <n>', 'largest image this worker makes, in megapixels (default 100; with --max-megapixels it bounds the worker\'s memory)', positiveNumber)
    .option('--reject-rate <p>', 'fault injection: refuse a job with probability p (it goes to another worker)', probability, 0)
    .option('--delay-rate <p>', 'fault injection: stall a job with probability p', probability, 0)
    .option('--delay-ms <ms>', 'how long a stall lasts', positiveInteger, 1000)
    .addHelpText('after', '\nSIGTERM or Ctrl-C drains: no new jobs, the running ones finish (within --drain), then it exits 0.\nA second SIGTERM or Ctrl-C exits at once. While Redis is away it keeps retrying, and says so once.')
    .action(async (options: WorkerOptions) => {
      if (!options.redis) throw usageError('--redis <url> (or IMGFLEET_REDIS) is required');
      const stopStarting = exitOnSignalWhileStarting(logLine);
      const [{ startClusterWorker }, { clusterSettings }, { assetsIn }, { redactUrl }, { parseObjectUrl }, { s3Settings }, { AliveFile }] = await Promise.all([
        import('../../engine/redis/cluster-worker.js'), import('../../engine/redis/cluster-settings.js'), import('../../io/assets.js'), import('../../engine/redis/redis-link.js'),
        import('../../sources/s3/object-url.js'), import('../../sources/s3/s3-settings.js'), import('../../engine/redis/alive-file.js'),
      ]);
      const s3Roots = options.s3Root?.map((url) => parseObjectUrl(url, '--s3-root'));
      const s3 = s3Roots ? s3Settings(env, options.s3Endpoint) : undefined;
      if (s3 && (!s3.accessKeyId || !s3.secretAccessKey)) throw usageError('--s3-root needs the store\'s credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
      const drainMs = options.drain * 1000;
      const worker = await startClusterWorker({
        settings: clusterSettings(options.redis, env), concurrency: options.concurrency, name: options.name,
        timeoutMs: options.timeout * 1000, drainMs, roots: options.sharedFsRoot, assets: assetsIn(options.assetsDir), s3, s3Roots,
        limits: {
          ...(options.maxMegapixels ? { maxInputPixels: Math.round(options.maxMegapixels * 1e6) } : {}),
          ...(options.maxOutputMegapixels ? { maxOutputPixels: Math.round(options.maxOutputMegapixels * 1e6) } : {}),
          ...(options.maxFrames ? { maxFrames: options.maxFrames } : {}),
        },
        log: logLine, rejectRate: options.rejectRate, delayRate: options.delayRate, delayMs: options.delayMs,
      });
      stopStarting();
      const { registry } = worker;
      const { info } = registry;
      const alive = options.aliveFile ? new AliveFile(options.aliveFile, () => ({ info, redisConnected: registry.redisConnected })) : undefined;
      alive?.start();
      console.log(`worker ${worker.name} joined ${redactUrl(options.redis)} with ${info.concurrency} threads`);
      await untilStopped(async (signal) => {
        console.log(`${signal}: draining ${info.active} running image(s) (up to ${options.drain} s; again to exit now)…`);
        await worker.close();
      }, { limitMs: drainMs + 10_000, log: logLine });
      alive?.stop();
      console.log(`worker ${worker.name} left: ${info.done} done, ${info.failed} failed, ${info.rejected} refused`);
    });
}
