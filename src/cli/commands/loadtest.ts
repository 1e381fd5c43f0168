import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { httpUrl, interactive, positiveInteger, type CommandContext } from '../usage.js';

interface LoadTestCommandOptions {
  url: string;
  clients: number;
  requests: number;
  image?: string;
  token?: string;
  json?: boolean;
}

export function loadtestCommand({ env, result: status }: CommandContext): Command {
  return new Command('loadtest')
    .description('load-test a running `imgfleet serve`: N clients × M requests of POST /v1/histogram')
    .option('--url <url>', 'the server', httpUrl, 'http://127.0.0.1:8080')
    .option('--clients <n>', 'concurrent clients, each with its own connection', positiveInteger, 100)
    .option('--requests <n>', 'requests per client, one after another', positiveInteger, 100)
    .option('--image <file>', 'image to send (default: a 512×512 PNG of random pixels)')
    .option('--token <token>', 'bearer token (env IMGFLEET_TOKEN)', env.token)
    .option('--json', 'print the result as JSON')
    .action(async (options: LoadTestCommandOptions) => {
      const [{ randomPng }, { runLoadTest }, { showCountProgress }] = await Promise.all([
        import('../../loadtest/random-png.js'), import('../../loadtest/run-loadtest.js'), import('../progress.js'),
      ]);
      const image = options.image ? readFileSync(options.image) : await randomPng();
      const total = options.clients * options.requests;
      const progress = interactive(env, options.json) ? showCountProgress(total, 'requests') : undefined;
      const result = await runLoadTest({
        url: options.url, clients: options.clients, requestsPerClient: options.requests, image, token: options.token,
        onRequest: (done) => progress?.update(done),
      }).finally(() => progress?.stop());
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else {
        const { latencyMs: l } = result;
        console.log(`${result.requests} requests from ${result.clients} clients in ${result.wallS.toFixed(2)} s: ${result.requestsPerSecond.toFixed(1)} req/s, ${result.errors} errors`);
        console.log(`latency ms: p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}  mean ${l.mean}`);
        for (const sample of result.errorSamples) console.error(`  error: ${sample}`);
      }
      status.code = result.errors > 0 ? 1 : 0;
    });
}
