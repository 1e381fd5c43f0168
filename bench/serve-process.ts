import { spawn } from 'node:child_process';

export interface ServeProcess {
  url: string;
  pid: number;
  /** SIGTERM, and wait until it has exited. */
  stop(): Promise<void>;
}

/** `imgfleet serve` on a free port as a process of its own, once it says where it listens. */
export function startServe(bin: string, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  return startServer([bin, 'serve', '--port', '0', ...extra], /serving on (http:\/\/\S+)/, env);
}

/** A Node server script as a process of its own, once a line matching `listening` gives its URL. */
export async function startServer(argv: string[], listening: RegExp, env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const server = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CI: 'true', ...env } });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    server.stdout.on('data', (d) => {
      out += d;
      const match = listening.exec(out);
      if (match) resolve(match[1]);
    });
    void exited.then(() => reject(new Error(`${argv.slice(0, 2).join(' ')} exited: ${out}`)));
  });
  return {
    url, pid: server.pid!,
    async stop() {
      if (server.exitCode === null) server.kill('SIGTERM');
      await exited;
    },
  };
}
