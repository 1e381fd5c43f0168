import { Command } from 'commander';
import { exitOnSignalWhileStarting, untilStopped } from '../signals.js';
import { existingFolder, folderToMake, httpUrl, logLine, nonNegativeInteger, port, positiveInteger, positiveNumber, readPresets, withStoreOptions, type CommandContext, type StoreFlags } from '../usage.js';

interface ServeCommandOptions extends StoreFlags {
  host: string;
  port: number;
  redis?: string;
  token?: string;
  tokenFile?: string;
  maxInflightMb: number;
  maxWork: number;
  maxOutputMb: number;
  maxJobMb: number;
  maxDiskMb: number;
  allowedHosts?: string;
  allowedOrigins?: string;
  requestTimeout: number;
  auth: boolean;
  threads?: number;
  maxFiles: number;
  maxUploadMb: number;
  maxMegapixels: number;
  maxFrames: number;
  resultsTtl: number;
  dataDir?: string;
  assetsDir?: string;
  log?: boolean;
  cache: boolean;
  cacheDir?: string;
  cacheRedis?: string;
  cacheS3?: string;
  sourceS3?: string;
  cacheMb?: number;
  maxAge: number;
  sourceDir?: string;
  sourceUrl?: string;
  sourceAllow?: string;
  allowPrivateOrigins?: boolean | string;
  sourceTimeout: number;
  allowUnsigned?: boolean;
  adminWrite?: boolean;
  presets?: string;
  presetsOnly?: boolean;
  clientHints?: boolean;
}

export function serveCommand({ env }: CommandContext): Command {
  return withStoreOptions(new Command('serve'))
    .description('the HTTP API, signed image URLs and the web page: local worker threads, or the cluster with --redis')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', port, 8080)
    .option('--redis <url>', 'send the work to the cluster on this Redis (env IMGFLEET_REDIS)', env.redis)
    .option('--token-file <path>', 'read the bearer token required by the API and the dashboard from this file (or set IMGFLEET_TOKEN)')
    .option('--token <token>', 'the token itself; other users can read it in the process list: prefer --token-file or IMGFLEET_TOKEN', env.token)
    .option('--no-auth', 'serve without a token on a non-loopback address')
    .option('-c, --threads <n>', 'local mode: worker threads (default: cores)', positiveInteger)
    .option('--max-files <n>', 'most images in one job', positiveInteger, 100)
    .option('--max-upload-mb <n>', 'largest image file, in MiB', positiveNumber, 100)
    .option('--max-megapixels <n>', 'largest image, in megapixels, all frames of an animation counted (checked from the header before decoding)', positiveNumber, 50)
    .option('--max-frames <n>', 'most frames of an animation that stays animated (checked from the header before decoding)', positiveInteger, 1000)
    .option('--results-ttl <minutes>', 'how long finished jobs are kept', positiveNumber, 60)
    .option('--max-inflight-mb <n>', 'request bodies in flight at once, in MiB; more wait (429)', positiveNumber, 512)
    .option('--max-work <seconds>', 'most work one image may cost, in seconds of one core, estimated before decoding (422 beyond)', positiveNumber, 10)
    .option('--max-output-mb <n>', 'largest result of one image, in MiB (413 beyond)', positiveNumber, 64)
    .option('--max-job-mb <n>', 'disk one job may use for its uploads and results, in MiB (507 beyond)', positiveNumber, 1024)
    .option('--max-disk-mb <n>', 'disk all jobs together may use, in MiB (507 beyond)', positiveNumber, 4096)
    .option('--request-timeout <seconds>', 'a request, body included, must arrive within this', positiveNumber, 120)
    .option('--allowed-hosts <names>', 'host names the server answers to, comma-separated (default on loopback: localhost, 127.0.0.1, [::1]; elsewhere any)')
    .option('--allowed-origins <origins>', 'other sites whose pages may send requests that change things (https://a.example,…)')
    .option('--data-dir <dir>', 'where uploads and results live while kept (default: a temp folder, removed on exit)', folderToMake)
    .option('--assets-dir <dir>', 'folder of logos that watermark steps may name (image=logo.png); without it, logos are refused', existingFolder)
    .option('--log', 'log each request (JSON lines)')
    .option('--source-dir <dir>', 'image URLs (/i/…) read their sources from this folder', existingFolder)
    .option('--source-url <url>', 'image URLs fetch their sources from this HTTP origin instead (the key is appended)', httpUrl)
    .option('--source-s3 <url>', 'image URLs read their sources from this bucket prefix instead, s3://bucket/prefix/ (the key is appended)')
    .option('--source-allow <hosts>', 'other hosts the origin may redirect to, comma-separated')
    .option('--allow-private-origins [subnets]', 'let the origin be on a loopback, private or link-local address (any, or those listed: 10.0.0.0/8,…)')
    .option('--source-timeout <seconds>', 'give up on the origin after this long', positiveNumber, 10)
    .option('--allow-unsigned', 'accept image URLs without a signature (/i/_/…); keys come from IMGFLEET_KEY')
    .option('--max-age <seconds>', 'Cache-Control max-age of image URL responses', nonNegativeInteger, 86_400)
    .option('--cache-dir <dir>', 'local mode: the result cache folder (default: imgfleet-cache in the temp dir)', folderToMake)
    .option('--cache-redis <url>', 'cluster mode: the result cache\'s Redis (default: the queue\'s, under <prefix>:cache:)')
    .option('--cache-s3 <url>', 'the result cache in a bucket prefix, s3://bucket/prefix/, shared by a fleet (expired by the bucket\'s lifecycle rules)')
    .option('--cache-mb <n>', 'the result cache\'s budget in MiB; least recently used results go first (default: disk 1024, Redis 256)', positiveNumber)
    .option('--no-cache', 'keep no results: compute every request')
    .option('--client-hints', 'image URLs take the screen\'s pixel ratio (Sec-CH-DPR, DPR) and the image\'s width (Sec-CH-Width, Width) from request headers where the URL leaves them open, with Vary naming them')
    .option('--presets <file>', 'a JSON file of named pipelines, used as preset:NAME in requests and image URLs (env IMGFLEET_PRESETS)', env.presets)
    .option('--presets-only', 'image URLs may use presets only (/i/<sig>/preset:thumb/<source>)')
    .option('--admin-write', 'cluster mode: let the queue dashboard retry, remove and add jobs (read-only otherwise)')
    .addHelpText('after', '\nSIGTERM or Ctrl-C stops taking requests, finishes the ones in flight, then exits; a second one exits at once.')
    .action(async (options: ServeCommandOptions) => {
      const stopStarting = exitOnSignalWhileStarting(logLine);
      // Everything the server writes (uploads, results, the cache) is for this user alone.
      process.umask(0o077);
      const [{ startServer }, { readTokenFile }, { s3Settings }, { redactUrl }, presets] = await Promise.all([
        import('../../server/server.js'), import('../token-file.js'), import('../../sources/s3/s3-settings.js'), import('../../engine/redis/redis-link.js'), readPresets(options.presets),
      ]);
      const token = options.tokenFile ? await readTokenFile(options.tokenFile) : options.token;
      const list = (text: string | undefined) => text?.split(',').map((item) => item.trim()).filter(Boolean);
      const mib = (n: number) => Math.round(n * 1024 * 1024);
      const server = await startServer({
        host: options.host, port: options.port, redis: options.redis, token, allowNoAuth: !options.auth,
        threads: options.threads, maxFiles: options.maxFiles, resultTtlMs: options.resultsTtl * 60_000, dataDir: options.dataDir, assetsDir: options.assetsDir,
        limits: {
          maxFileBytes: mib(options.maxUploadMb), maxInputPixels: Math.round(options.maxMegapixels * 1e6), maxFrames: options.maxFrames,
          maxWork: options.maxWork * 1e9, maxOutputBytes: mib(options.maxOutputMb),
        },
        guards: {
          maxInflightBytes: mib(options.maxInflightMb), maxJobBytes: mib(options.maxJobMb), maxDiskBytes: mib(options.maxDiskMb),
          allowedHosts: list(options.allowedHosts), allowedOrigins: list(options.allowedOrigins), requestTimeoutMs: options.requestTimeout * 1000,
        },
        log: options.log,
        cache: { disabled: !options.cache, dir: options.cacheDir, redis: options.cacheRedis, s3: options.cacheS3, megabytes: options.cacheMb },
        sourceDir: options.sourceDir, sourceS3: options.sourceS3, s3: s3Settings(env, options.s3Endpoint),
        sourceUrl: options.sourceUrl ? {
          baseUrl: options.sourceUrl, allowHosts: options.sourceAllow?.split(',').map((h) => h.trim()).filter(Boolean),
          allowPrivate: typeof options.allowPrivateOrigins === 'string' ? options.allowPrivateOrigins.split(',').map((a) => a.trim()) : options.allowPrivateOrigins,
          timeoutMs: options.sourceTimeout * 1000,
        } : undefined,
        signingKeys: env.signingKeys, allowUnsigned: options.allowUnsigned, clientHints: options.clientHints, maxAgeSeconds: options.maxAge,
        adminWrite: options.adminWrite, presets, presetsOnly: options.presetsOnly, environment: env, logLine,
      });
      stopStarting();
      console.log(`imgfleet serving on ${server.url} (${options.redis ? `cluster on ${redactUrl(options.redis)}` : 'local worker threads'}, cache: ${server.cache}${token ? ', token required' : ''})`);
      console.log(`  page ${server.url}/   API docs ${server.url}/docs   metrics ${server.url}/metrics${options.redis ? `   queues ${server.url}/admin/queues` : ''}`);
      await untilStopped(async (signal) => {
        console.log(`${signal}: finishing requests in flight (again to exit now)…`);
        await server.close();
      }, { limitMs: 60_000, log: logLine });
      console.log('imgfleet server stopped');
    });
}
