import { Command } from 'commander';
import { startServer } from '../../server/server.js';
import { positiveInteger, positiveNumber } from '../usage.js';

interface ServeCommandOptions {
  host: string;
  port: number;
  redis?: string;
  token?: string;
  auth: boolean;
  threads?: number;
  maxFiles: number;
  maxUploadMb: number;
  maxMegapixels: number;
  resultsTtl: number;
  dataDir?: string;
  assetsDir?: string;
  log?: boolean;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('the HTTP API and the web page: local worker threads, or the cluster with --redis')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', (v) => Number(v), 8080)
    .option('--redis <url>', 'send the work to the cluster on this Redis (env IMGFLEET_REDIS)', process.env.IMGFLEET_REDIS)
    .option('--token <token>', 'bearer token required by the API and the dashboard (env IMGFLEET_TOKEN)', process.env.IMGFLEET_TOKEN)
    .option('--no-auth', 'serve without a token on a non-loopback address')
    .option('-c, --threads <n>', 'local mode: worker threads (default: cores)', positiveInteger)
    .option('--max-files <n>', 'most images in one job', positiveInteger, 100)
    .option('--max-upload-mb <n>', 'largest image file, in MiB', positiveNumber, 100)
    .option('--max-megapixels <n>', 'largest image, in megapixels (checked from the header before decoding)', positiveNumber, 50)
    .option('--results-ttl <minutes>', 'how long finished jobs are kept', positiveNumber, 60)
    .option('--data-dir <dir>', 'where uploads and results live while kept (default: a temp folder, removed on exit)')
    .option('--assets-dir <dir>', 'folder of logos that watermark steps may name (image=logo.png); without it, logos are refused')
    .option('--log', 'log each request (JSON lines)')
    .addHelpText('after', '\nSIGTERM or Ctrl-C stops taking requests, finishes the ones in flight, then exits.')
    .action(async (options: ServeCommandOptions) => {
      const server = await startServer({
        host: options.host, port: options.port, redis: options.redis, token: options.token, allowNoAuth: !options.auth,
        threads: options.threads, maxFiles: options.maxFiles, resultTtlMs: options.resultsTtl * 60_000, dataDir: options.dataDir, assetsDir: options.assetsDir,
        limits: { maxFileBytes: Math.round(options.maxUploadMb * 1024 * 1024), maxInputPixels: Math.round(options.maxMegapixels * 1e6) },
        log: options.log,
      });
      console.log(`imgfleet serving on ${server.url} (${options.redis ? `cluster on ${options.redis}` : 'local worker threads'}${options.token ? ', token required' : ''})`);
      console.log(`  page ${server.url}/   API docs ${server.url}/docs   metrics ${server.url}/metrics${options.redis ? `   queues ${server.url}/admin/queues` : ''}`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          console.log(`${signal}: finishing requests in flight…`);
          void server.close().then(resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      console.log('imgfleet server stopped');
    });
}
