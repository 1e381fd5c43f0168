#!/usr/bin/env node
// Bundles the compiled modules after `tsc` (the second half of `npm run build`): Node 20 loads
// an ES module graph file by file, and imgfleet's is about 200 files.
// - dist/bundle/cli/: the command line, as ES modules split where it imports lazily, packages
//   left to node_modules but BullMQ. `imgfleet process` of one photo took 0.33-0.37 s against
//   0.35-0.43 s.
// - dist/src/engine/local/worker.bundle.cjs: what a pool thread runs, in one CommonJS file with
//   its pure-JavaScript packages (some have no CommonJS build). A fresh thread loads it in
//   19-28 ms of CPU, its 75 ES modules in 80-110 ms; every pool thread pays it at start.
// - dist/bundle/sharp.cjs: sharp's JavaScript and its packages (semver, detect-libc, colour) in
//   one file, its native binaries left to node_modules; every thread that needs libvips loads it.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist', 'src');
const CLI_DIR = join(ROOT, 'dist', 'bundle', 'cli');
const LOCAL = join(DIST, 'engine', 'local');
const WORKER_FILE = join(LOCAL, 'worker.bundle.cjs');
const SHARP_FILE = join(ROOT, 'dist', 'bundle', 'sharp.cjs');

/**
 * Our modules find files near them (WebAssembly, fonts, the web page, package.json, the pool's
 * entry) from import.meta.url: each module's own URL is rebuilt from the bundle's place, so the
 * files are found wherever the project is. `urlOf` turns a path relative to the bundle's folder
 * into an expression for that URL.
 */
function ownModuleUrls(bundleDir, urlOf) {
  return {
    name: 'own-module-urls',
    setup(bundle) {
      bundle.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, async ({ path }) => {
        const source = await readFile(path, 'utf8');
        const fromBundle = relative(bundleDir, path).split(sep).join('/');
        return { contents: source.replaceAll('import.meta.url', urlOf(JSON.stringify(fromBundle))), loader: 'js', resolveDir: dirname(path) };
      });
    },
  };
}

/**
 * sharp's binaries (its addon and libvips, per platform) stay in node_modules, where its loader
 * looks for them by name. The loader also tries paths made from template strings, which a bundler
 * would take for files to include: they become strings it leaves alone.
 */
const sharpBinariesOutside = {
  name: 'sharp-binaries-outside',
  setup(bundle) {
    bundle.onResolve({ filter: /\.node$|^@img\/sharp-/ }, ({ path }) => ({ path, external: true }));
    bundle.onLoad({ filter: /[\\/]sharp[\\/]dist[\\/]sharp\.cjs$/ }, async ({ path }) => ({
      contents: (await readFile(path, 'utf8')).replace(/require\((`[^`]*`)\)/g, 'require(String($1))'),
      loader: 'js',
    }));
  },
};

/**
 * Every package stays in node_modules but BullMQ, which is bundled from its ES build: through
 * its CommonJS entry, Node loaded 171 modules of it (flows, job schedulers and their cron parser,
 * a PostgreSQL backend, sandboxed processors) for a cluster command, file by file; bundled, the
 * parts a cluster command imports (most of them still) load as one chunk with the engine.
 * Loading BullMQ took 0.65 s of CPU that way, 0.48 s bundled (bench/README.md).
 */
const packagesOutsideButBullmq = {
  name: 'packages-outside-but-bullmq',
  setup(bundle) {
    bundle.onResolve({ filter: /^[^./]/ }, ({ path }) => (path === 'bullmq' ? undefined : { path, external: true }));
  },
};

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: 'linked', logLevel: 'warning' };

await Promise.all([
  build({
    ...common,
    entryPoints: [join(DIST, 'cli', 'index.js')],
    outdir: CLI_DIR,
    format: 'esm',
    splitting: true,
    mainFields: ['module', 'main'],
    plugins: [packagesOutsideButBullmq, ownModuleUrls(CLI_DIR, (path) => `new URL(${path}, import.meta.url).href`)],
  }),
  build({
    ...common,
    entryPoints: [join(LOCAL, 'worker.js')],
    outfile: WORKER_FILE,
    format: 'cjs',
    // Packages with a native binary stay outside, loaded from node_modules as before.
    external: ['sharp', 'koffi', '@julusian/jpeg-turbo'],
    plugins: [ownModuleUrls(LOCAL, (path) => `__moduleUrl(${path})`)],
    banner: { js: "const __moduleUrl = (path) => require('node:url').pathToFileURL(require('node:path').join(__dirname, path)).href;" },
  }),
  build({
    ...common,
    entryPoints: [createRequire(import.meta.url).resolve('sharp')],
    outfile: SHARP_FILE,
    format: 'cjs',
    plugins: [sharpBinariesOutside],
  }),
]);
