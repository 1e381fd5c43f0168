#!/usr/bin/env node
// Bundles what a pool thread runs (dist/src/engine/local/worker.js and everything it imports)
// into one CommonJS file, after `tsc`. Node 20 loads the ES module graph of about 75 files in a
// fresh thread in 65-95 ms of CPU, the bundle in 17-27 ms; every pool thread pays it at start.
// Packages with a native binary stay outside, loaded from node_modules as before.
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOCAL = join(ROOT, 'dist', 'src', 'engine', 'local');
const OUTFILE = join(LOCAL, 'worker.bundle.cjs');
const EXTERNAL = ['sharp', 'koffi', '@julusian/jpeg-turbo'];

/**
 * Our modules find files next to them (WebAssembly, fonts, package.json) from import.meta.url:
 * each module's own URL is rebuilt from the bundle's place, so the files are found wherever the
 * project is.
 */
const ownModuleUrls = {
  name: 'own-module-urls',
  setup(bundle) {
    bundle.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      const fromBundle = relative(dirname(OUTFILE), path).split(sep).join('/');
      return { contents: source.replaceAll('import.meta.url', `__moduleUrl(${JSON.stringify(fromBundle)})`), loader: 'js', resolveDir: dirname(path) };
    });
  },
};

await build({
  entryPoints: [join(LOCAL, 'worker.js')],
  outfile: OUTFILE,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: EXTERNAL,
  plugins: [ownModuleUrls],
  banner: { js: "const __moduleUrl = (path) => require('node:url').pathToFileURL(require('node:path').join(__dirname, path)).href;" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
