import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ROOT } from './helpers.js';

const run = promisify(execFile);

export const VERSION = (JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string }).version;
/** The name the deployment files give the image: buildah keeps a short name under localhost/. */
export const IMAGE = `localhost/imgfleet:${VERSION}`;

export async function buildah(args: string[]): Promise<string> {
  const { stdout } = await run('buildah', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/**
 * Builds the Dockerfile at the root as `docker build` would, with chroot isolation, reusing
 * unchanged layers. The base is the one scripts/build-base-image.sh made, named in
 * IMGFLEET_BASE_IMAGE; npm inside the build trusts the CA this machine's npm trusts.
 */
export async function buildImage(): Promise<string> {
  const base = process.env.IMGFLEET_BASE_IMAGE;
  if (!base) throw new Error('IMGFLEET_BASE_IMAGE is not set: run through `npm run test:container`');
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  const args = ['bud', '--isolation', 'chroot', '--layers', '--format', 'docker', '--pull-never', '--force-rm', '--quiet',
    '--build-arg', `BASE_IMAGE=${base}`, ...(ca ? ['--secret', `id=ca-certificates,src=${ca}`] : []), '-t', IMAGE, ROOT];
  try {
    await run('buildah', args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`buildah bud failed:\n${String(stdout ?? '').slice(-4000)}\n${String(stderr ?? '').slice(-4000)}`);
  }
  return IMAGE;
}

export interface ImageConfig {
  User: string;
  Env: string[];
  Entrypoint: string[];
  Cmd: string[];
  ExposedPorts?: Record<string, object>;
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number };
  WorkingDir: string;
}

export async function imageConfig(image: string): Promise<ImageConfig> {
  const inspected = JSON.parse(await buildah(['inspect', '--type', 'image', image])) as { Docker: { config: ImageConfig } };
  return inspected.Docker.config;
}

/** A working container from the image; removed (with anything still running in it) by remove(). */
export interface Container {
  name: string;
  /** `buildah config --env`, as `docker run -e` would. */
  setEnv(env: Record<string, string>): Promise<void>;
  /** Runs argv in the container and waits for it. */
  exec(argv: string[]): Promise<{ status: number | null; stdout: string; stderr: string }>;
  /** Starts argv in the container in a session of its own. */
  start(argv: string[]): ContainerProcess;
  remove(): Promise<void>;
}

export interface ContainerProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** Host pid of the first process in the container whose command line starts with `argv0`. */
  pidOf(argv0: string): number | undefined;
  /** Ends every process of its session (buildah, tini, node), whatever their process groups. */
  kill(): void;
}

export async function createContainer(image: string): Promise<Container> {
  const name = await buildah(['from', '--quiet', '--pull-never', image]);
  const processes: ContainerProcess[] = [];
  const start = (argv: string[]): ContainerProcess => {
    const child = spawn('buildah', ['run', '--isolation', 'chroot', name, '--', ...argv], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => { stdout += d; });
    child.stderr!.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const started: ContainerProcess = {
      child,
      stdout: () => stdout,
      // buildah adds lines of its own when the command exits non-zero.
      stderr: () => stderr.replace(/^(subprocess exited .*|Error: exit status \d+)\n/gm, ''),
      exited,
      pidOf: (argv0) => sessionProcesses(child.pid!).find((p) => p.argv[0] === argv0)?.pid,
      kill: () => {
        for (const p of sessionProcesses(child.pid!)) {
          try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
        }
      },
    };
    processes.push(started);
    return started;
  };
  return {
    name,
    async setEnv(env) {
      await buildah(['config', ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]), name]);
    },
    async exec(argv) {
      const started = start(argv);
      const status = await started.exited;
      return { status, stdout: started.stdout(), stderr: started.stderr() };
    },
    start,
    async remove() {
      for (const p of processes) p.kill();
      await Promise.race([Promise.all(processes.map((p) => p.exited)), new Promise((r) => setTimeout(r, 5000))]);
      await buildah(['rm', name]).catch(() => {});
    },
  };
}

/** The processes whose session is `sid`, read from /proc. */
export function sessionProcesses(sid: number): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) in parentheses: state ppid pgrp session …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[3]) !== sid) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\u0000').filter(Boolean);
      found.push({ pid: Number(entry), argv });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}
