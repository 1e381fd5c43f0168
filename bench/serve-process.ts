import { spawn } from 'node:child_process';

export interface ServeProcess {
  url: string;
  pid: number;
  /** SIGTERM, and wait until it has exited. */
  stop(): Promise<void>;
}

/** `imgfleet serve` on a free port as a process of its own, once it says where it listens. */
export async function startServe(bin: string, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const server = spawn(process.execPath, [bin, 'serve', '--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CI: 'true', ...env } });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    server.stdout.on('data', (d) => {
      out += d;
      const match = /serving on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    void exited.then(() => reject(new Error(`imgfleet serve exited: ${out}`)));
  });
  return {
    url, pid: server.pid!,
    async stop() {
      if (server.exitCode === null) server.kill('SIGTERM');
      await exited;
    },
  };
}
