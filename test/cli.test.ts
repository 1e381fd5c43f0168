import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, sep } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { OPERATIONS } from '../src/ops/index.js';
import { REDIS_URL } from './cluster-helpers.js';
import { CORPUS, FIXTURES, ROOT, cli, photo, pngClaiming, tempDir } from './helpers.js';

function goodAndBadFolder(dir: string): string {
  const input = join(dir, 'in');
  mkdirSync(join(input, 'nested'), { recursive: true });
  for (const name of ['rocket.jpg', 'coffee.png', 'chelsea.png']) copyFileSync(photo(name), join(input, name));
  copyFileSync(photo('hubble_deep_field.jpg'), join(input, 'nested', 'hubble.jpg'));
  copyFileSync(join(CORPUS, 'bad', 'truncated.jpg'), join(input, 'truncated.jpg'));
  writeFileSync(join(input, 'empty.jpg'), '');
  writeFileSync(join(input, 'notes.jpg'), 'these are words, not pixels\n');
  writeFileSync(join(input, 'huge.png'), pngClaiming(100_000, 100_000));
  return input;
}

describe('imgfleet run', () => {
  it('processes every good file, reports each bad one with its reason, exits 1, in bounded memory', async (t) => {
    const dir = tempDir(t);
    const input = goodAndBadFolder(dir);
    const out = join(dir, 'out');
    const report = join(dir, 'report.json');
    const result = await cli(['run', input, '-o', out, '-p', 'resize:512:512:fit=fill,output:webp', '--report', report]);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /^processed 4\/8 images in \d+\.\d\d s \(\d+\.\d img\/s\), 4 failed$/m);
    const items = JSON.parse(readFileSync(report, 'utf8'));
    const reasons = Object.fromEntries(items.items.map((i: { input: string; error?: { code: string } }) => [i.input.split('/').pop(), i.error?.code ?? 'ok']));
    assert.deepEqual(reasons, {
      'chelsea.png': 'ok', 'coffee.png': 'ok', 'empty.jpg': 'EMPTY_FILE', 'huge.png': 'TOO_MANY_PIXELS',
      'hubble.jpg': 'ok', 'notes.jpg': 'NOT_AN_IMAGE', 'rocket.jpg': 'ok', 'truncated.jpg': 'CORRUPT_IMAGE',
    });
    assert.match(result.stderr, /huge\.png: image header claims 100000×100000 = 10000 MP, over the limit of 50 MP/);
    assert.match(result.stderr, /truncated\.jpg: corrupt or truncated image/);
    assert.ok(items.peakRssMiB < 400, `peak RSS ${items.peakRssMiB} MiB`);
    // Outputs mirror the inputs' relative paths with the output format's extension, and decode.
    for (const rel of ['rocket.webp', 'coffee.webp', 'chelsea.webp', 'nested/hubble.webp']) {
      const meta = await sharp(join(out, rel)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 512, 512], rel);
    }
    const done = items.items.find((i: { input: string }) => i.input.endsWith('rocket.jpg'));
    assert.equal(done.result.bytes, readFileSync(join(out, 'rocket.webp')).length);
    assert.deepEqual(done.stats.steps.map((s: { op: string }) => s.op), ['resize']);
    assert.ok(!readdirSync(out).some((f) => f.includes('.tmp-')), 'no temporary files left');
  });

  it('gives byte-identical outputs on the pool and with --sequential', async (t) => {
    const dir = tempDir(t);
    const pipeline = 'resize:300,sharpen,watermark:imgfleet,output:jpeg:85';
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    assert.equal((await cli(['run', photo('rocket.jpg'), photo('coffee.png'), '-o', a, '-p', pipeline, '-c', '2'])).status, 0);
    assert.equal((await cli(['run', photo('rocket.jpg'), photo('coffee.png'), '-o', b, '-p', pipeline, '--sequential'])).status, 0);
    for (const name of ['rocket.jpg', 'coffee.jpg']) assert.ok(readFileSync(join(a, name)).equals(readFileSync(join(b, name))), name);
  });

  it('refuses to write over an input (exit 2) and leaves it untouched', async (t) => {
    const dir = tempDir(t);
    copyFileSync(photo('rocket.jpg'), join(dir, 'rocket.jpg'));
    const before = readFileSync(join(dir, 'rocket.jpg'));
    const result = await cli(['run', dir, '-o', dir, '-p', 'blur']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /refusing to overwrite input .*rocket\.jpg/);
    assert.ok(readFileSync(join(dir, 'rocket.jpg')).equals(before));
  });

  it('exits 2 with the step and field named for a bad pipeline, before touching any file', async (t) => {
    const dir = tempDir(t);
    const result = await cli(['run', photo('rocket.jpg'), '-o', join(dir, 'o'), '-p', 'resize:512,blur:-1']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /steps\[1\]\.sigma: expected a number from 0\.3 to 100, got -1/);
    assert.equal(existsSync(join(dir, 'o')), false);
  });

  it('exits 2 on a missing input or unknown option', async (t) => {
    const dir = tempDir(t);
    assert.equal((await cli(['run', join(dir, 'nope.jpg'), '-o', dir, '-p', 'blur'])).status, 2);
    assert.equal((await cli(['run', photo('rocket.jpg'), '-o', dir, '-p', 'blur', '--bogus'])).status, 2);
  });

  it('filters folders with --glob, and prints the report with --json', async (t) => {
    const dir = tempDir(t);
    const result = await cli(['run', join(CORPUS, 'photos'), '--glob', 'c*.png', '-o', dir, '-p', 'resize:64,output:png', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(report.items.map((i: { relative: string }) => i.relative).sort(),
      ['camera.png', 'cell.png', 'chelsea.png', 'coffee.png', 'coins.png', 'color.png']);
    assert.equal(report.summary.done, 6);
  });

  it('runs a short batch of small images on the main thread, with no pool thread', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    // Small JPEGs, colour and grey, that the libjpeg-turbo lane runs: work that needs a thread.
    for (let i = 0; i < 6; i++) {
      const image = sharp(photo('coffee.png')).resize(400 - 8 * i, 300, { fit: 'fill' });
      await (i % 2 ? image.grayscale() : image).jpeg().toFile(join(input, `${i}.jpg`));
    }
    const result = await cli(['run', input, '-o', join(dir, 'out'), '-p', 'resize:120:90:fit=fill,output:jpeg', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { items: { worker: string; relative: string }[] };
    assert.equal(report.items.length, 6);
    assert.ok(report.items.every((item) => item.worker.endsWith('/main')), report.items.map((item) => item.worker).join());
    for (const { relative } of report.items) {
      const { width, height, format } = await sharp(join(dir, 'out', relative)).metadata();
      assert.deepEqual([width, height, format], [120, 90, 'jpeg']);
    }
  });
});

describe('each failure on one line', () => {
  it('a file name with a newline in it is shown escaped, so that its failure stays one line', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    writeFileSync(join(input, 'bad\nname.jpg'), '');
    copyFileSync(photo('rocket.jpg'), join(input, 'good.jpg'));
    const result = await cli(['run', input, '-o', join(dir, 'out'), '-p', 'resize:64']);
    assert.equal(result.status, 1);
    assert.ok(result.stderr.split('\n').includes(`  ✗ ${join(input, 'bad\\nname.jpg')}: empty file (0 bytes)`), result.stderr);
  });
});

describe('a reader that stops early', () => {
  it('ends the command quietly with exit 0 (imgfleet ops | true), as for any Unix tool', () => {
    const piped = spawnSync('bash', ['-c', 'set -o pipefail; "$0" "$1" ops | true', process.execPath, join(ROOT, 'bin', 'imgfleet.js')], { encoding: 'utf8' });
    assert.deepEqual([piped.status, piped.stderr], [0, '']);
  });
});

describe('imgfleet --version', () => {
  it('prints the version of package.json, alone or with -V, and exits 0; with a command it goes to the command', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await cli([flag]);
      assert.deepEqual([result.status, result.stdout, result.stderr], [0, `${version}\n`, ''], flag);
    }
    const help = await cli(['run', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--sequential/);
  });
});

describe('how a command starts', () => {
  /** Runs the command line with a preload that reports, as it exits, the modules it loaded and its threads. */
  async function atExit(t: { after: (fn: () => void) => void }, args: string[], env: NodeJS.ProcessEnv = {}) {
    const out = join(tempDir(t), 'at-exit.json');
    const result = await cli(args, { NODE_OPTIONS: `--require ${join(FIXTURES, 'at-exit.cjs')}`, AT_EXIT_OUT: out, ...env });
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(readFileSync(out, 'utf8')) as { modules: string[]; threads: number };
  }

  it('a cluster command takes BullMQ from the command line\'s bundle, never from its package', async (t) => {
    const { modules } = await atExit(t, ['workers', '--redis', REDIS_URL]);
    assert.ok(modules.some((file) => file.includes(`${sep}node_modules${sep}ioredis${sep}`)), 'the packages it imports are seen');
    assert.deepEqual(modules.filter((file) => file.includes(`${sep}node_modules${sep}bullmq${sep}`)), []);
  });

  it('sizes libuv\'s thread pool at four threads a core and two (4 to 128) before its first use, and keeps a size set in the environment', async (t) => {
    const args = ['process', photo('rocket.jpg'), '-o', join(tempDir(t), 'out.jpg'), '-p', 'resize:64'];
    const own = await atExit(t, args, { UV_THREADPOOL_SIZE: undefined });
    const four = await atExit(t, args, { UV_THREADPOOL_SIZE: '4' });
    const sized = Math.min(128, Math.max(4, availableParallelism() * 4 + 2));
    assert.equal(own.threads - four.threads, sized - 4);
  });
});

describe('imgfleet process, histogram and ops', () => {
  it('process writes one image, its format taken from the -o extension', async (t) => {
    const dir = tempDir(t);
    const out = join(dir, 'small.webp');
    const result = await cli(['process', photo('rocket.jpg'), '-p', 'resize:200', '-o', out]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /wrote .*small\.webp \(200×133 webp, .*\) in .* ms: resize .* ms, encode .* ms/);
    assert.equal((await sharp(out).metadata()).format, 'webp');
  });

  it('process fails with exit 1 and the reason on a bad image', async () => {
    const result = await cli(['process', join(CORPUS, 'bad', 'truncated.jpg'), '-p', 'blur', '-o', '/tmp/never-written.jpg']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /corrupt or truncated image/);
    assert.equal(existsSync('/tmp/never-written.jpg'), false);
  });

  it('histogram writes <name>.json and a <name>.png chart, and draws in the terminal', async (t) => {
    const dir = tempDir(t);
    const result = await cli(['histogram', photo('rocket.jpg'), photo('camera.png'), '-o', dir]);
    assert.equal(result.status, 0, result.stderr);
    const rocket = JSON.parse(readFileSync(join(dir, 'rocket.json'), 'utf8'));
    assert.deepEqual(Object.keys(rocket), ['file', 'width', 'height', 'bins', 'channels']);
    assert.deepEqual([rocket.file, rocket.width, rocket.height, rocket.bins], ['rocket.jpg', 640, 427, 256]);
    assert.equal(rocket.channels.red.reduce((a: number, b: number) => a + b, 0), 640 * 427);
    const camera = JSON.parse(readFileSync(join(dir, 'camera.json'), 'utf8'));
    assert.deepEqual(Object.keys(camera.channels), ['gray']);
    const chart = await sharp(join(dir, 'rocket.png')).metadata();
    assert.equal(chart.format, 'png');
    assert.match(result.stdout, /rocket\.jpg {2}640×427\nred {3}[ ▁▂▃▄▅▆▇█]{64}\ngreen [ ▁▂▃▄▅▆▇█]{64}\nblue {2}[ ▁▂▃▄▅▆▇█]{64}/);
  });

  it('ops lists every operation with its parameters and the syntax', async () => {
    const result = await cli(['ops']);
    assert.equal(result.status, 0);
    for (const op of OPERATIONS) {
      assert.match(result.stdout, new RegExp(`^${op.name}`, 'm'));
      for (const param of Object.keys(op.params)) assert.match(result.stdout, new RegExp(`^ {4}${param}\\b`, 'm'), `${op.name}.${param}`);
    }
    assert.match(result.stdout, /sigma \(1\) +0\.3\.\.100 +default 2/);
    assert.match(result.stdout, /compact: +resize:512:512:fit=fill,blur:2,output:webp:80/);
    const json = JSON.parse((await cli(['ops', '--json'])).stdout);
    assert.deepEqual(json.operations.blur.properties.sigma, {
      title: 'Radius (σ)', description: 'how far the blur spreads, in pixels (the Gaussian’s standard deviation): 1 softens, 10 is strong',
      default: 2, type: 'number', minimum: 0.3, maximum: 100,
    });
    assert.equal(json.operations.edges.title, 'Find edges');
  });
});

describe('imgfleet options', () => {
  it('run --max-pixels refuses larger inputs and processes the rest', async (t) => {
    const dir = tempDir(t);
    // rocket.jpg is 640×427 = 273,280 pixels; coins.png 384×303 = 116,352.
    const result = await cli(['run', photo('rocket.jpg'), photo('coins.png'), '-o', dir, '-p', 'negate', '--max-pixels', '200000']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /rocket\.jpg: image header claims 640×427 = 0\.3 MP, over the limit of 0\.2 MP/);
    assert.ok(existsSync(join(dir, 'coins.png')));
  });

  it('histogram --bins N --json prints the histograms with N bins', async () => {
    const result = await cli(['histogram', photo('camera.png'), '--bins', '4', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const [camera] = JSON.parse(result.stdout);
    assert.equal(camera.bins, 4);
    assert.equal(camera.channels.gray.length, 4);
    assert.equal(camera.channels.gray.reduce((a: number, b: number) => a + b, 0), 512 * 512);
  });

  it('folders to read from must be there, folders to write to must not be files, a port, a URL and a name must be one: each refused as it is read (exit 2)', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const missing = join(dir, 'missing');
    const cases: [string[], string][] = [
      [['serve', '--source-dir', missing], `error: option '--source-dir <dir>' argument '${missing}' is invalid. no such folder\n`],
      [['serve', '--assets-dir', file], `error: option '--assets-dir <dir>' argument '${file}' is invalid. not a folder\n`],
      [['serve', '--cache-dir', file], `error: option '--cache-dir <dir>' argument '${file}' is invalid. a file is there, not a folder\n`],
      [['serve', '--data-dir', file], `error: option '--data-dir <dir>' argument '${file}' is invalid. a file is there, not a folder\n`],
      [['serve', '--port', '99999'], `error: option '--port <n>' argument '99999' is invalid. expected a port from 0 to 65535 (0: any free one), got "99999"\n`],
      [['loadtest', '--url', 'localhost:8080'], `error: option '--url <url>' argument 'localhost:8080' is invalid. expected an http:// or https:// URL, e.g. http://127.0.0.1:8080\n`],
      [['worker', '--name', ' '], `error: option '--name <name>' argument ' ' is invalid. expected 1 to 100 characters on one line\n`],
      [['worker', '--shared-fs-root', missing], `error: option '--shared-fs-root <dir>' argument '${missing}' is invalid. no such folder\n`],
      [['run', photo('rocket.jpg'), '-o', join(dir, 'out'), '-p', 'negate', '--cache-dir', file], `error: option '--cache-dir <dir>' argument '${file}' is invalid. a file is there, not a folder\n`],
    ];
    for (const [args, stderr] of cases) {
      const result = await cli(args);
      assert.deepEqual([result.status, result.stderr], [2, stderr], args.join(' '));
    }
  });
});
