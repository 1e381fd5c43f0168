import { Command } from 'commander';
import { positiveNumber, usageError, type CommandContext } from '../usage.js';

export interface HealthAnswer {
  /** The URL asked. */
  url: string;
  status: number;
  /** What the server said of itself (`status` of its JSON answer), if anything. */
  said?: string;
  ms: number;
}

/** Where to ask: the server's /healthz (or /readyz), unless the URL names a path of its own. */
export function healthUrl(base: string, ready = false): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw usageError(`--url: expected an http(s) URL such as http://127.0.0.1:8080, got "${base}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url: expected an http(s) URL, got "${base}"`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = ready ? '/readyz' : '/healthz';
  return url.href;
}

/**
 * Asks a running `imgfleet serve` whether it is alive (or ready). Resolves with its answer when
 * it is 2xx; rejects with one line a person can act on otherwise.
 */
export async function checkHealth(url: string, timeoutMs: number): Promise<HealthAnswer> {
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (error) {
    throw new Error(`${url}: ${unreachable(error, timeoutMs)}`);
  }
  const text = await response.text().catch(() => '');
  const said = statusOf(text);
  const answer = { url, status: response.status, said, ms: Date.now() - started };
  if (!response.ok) throw new Error(`${url} answered ${response.status}${said ? `: ${said}` : ''}`);
  return answer;
}

function statusOf(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as { status?: unknown; error?: { message?: unknown } };
    if (typeof json.status === 'string') return json.status;
    if (typeof json.error?.message === 'string') return json.error.message;
  } catch {
    // not JSON: nothing to quote
  }
  return undefined;
}

function unreachable(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return 'nothing is listening there (connection refused)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was closed before an answer';
  return err.cause?.message ?? (error instanceof Error ? error.message : String(error));
}

export function healthCommand({ env }: CommandContext): Command {
  return new Command('health')
    .description('ask a running `imgfleet serve` (or, with --worker, an `imgfleet worker`) whether it is alive: exit 0 if so, 1 if not (for container health checks)')
    .option('--url <url>', 'the server; /healthz is asked unless the URL names a path', 'http://127.0.0.1:8080')
    .option('--ready', 'ask whether it can take work: a server\'s /readyz (cluster mode: Redis answers and a worker is live), a worker\'s Redis')
    .option('--timeout <seconds>', 'give up after this long', positiveNumber, 5)
    .option('--worker', 'check a worker on this machine instead, from the file it rewrites while alive (its --alive-file)')
    .option('--alive-file <path>', 'the worker\'s alive file (env IMGFLEET_ALIVE_FILE)', env.aliveFile)
    .option('--max-age <seconds>', 'with --worker: the file must have been written within this long', positiveNumber, 30)
    .action(async (options: { url: string; ready?: boolean; timeout: number; worker?: boolean; aliveFile?: string; maxAge: number }) => {
      if (options.worker) {
        if (!options.aliveFile) throw usageError('--worker needs the worker\'s --alive-file <path> (or IMGFLEET_ALIVE_FILE)');
        const { checkAliveFile } = await import('../../engine/redis/alive-file.js');
        const record = checkAliveFile(options.aliveFile, options.maxAge * 1000, Boolean(options.ready));
        const ago = ((Date.now() - record.at) / 1000).toFixed(1);
        console.log(`worker ${record.name} alive ${ago} s ago: ${record.active} running, ${record.done} done, ${record.failed} failed, Redis ${record.redis}`);
        return;
      }
      const answer = await checkHealth(healthUrl(options.url, options.ready), options.timeout * 1000);
      console.log(`${answer.url}: ${answer.status}${answer.said ? ` ${answer.said}` : ''} in ${answer.ms} ms`);
    });
}
