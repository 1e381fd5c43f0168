/**
 * Property-based tests of everything that parses what others send: the compact syntax, pipeline
 * JSON, multipart bodies, image URLs, cookies and paths, and image bytes of every format cut
 * short or damaged. Whatever comes in: never a 5xx, never a crash or a hang, and every refusal
 * a clear 4xx that names what was wrong.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { ImgfleetError } from '../src/errors.js';
import { OPERATIONS } from '../src/ops/index.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { processImage } from '../src/pipeline/process.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { buildServer } from '../src/server/app.js';
import { signedPath } from '../src/server/signing.js';
import { LocalFolderStore } from '../src/sources/local-folder.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradientPng } from './server-helpers.js';

const KEY = 'a-fuzzing-key-of-more-than-32-bytes!';
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const VERBOSE = process.env.FUZZ_VERBOSE ? 2 : 0;
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

/** Text that looks like what people and attackers type: the syntax's own characters, escapes, names. */
const syntaxText = fc.array(fc.oneof(
  fc.constantFrom(',', ':', '=', '%', '%2C', '%3A', '%zz', '{', '}', '[', ']', '"', ' ', '\u0000', '\u202e', 'é', '__proto__', 'constructor', 'NaN', '-1', '1e309', '0x10', 'true', 'output', 'auto'),
  fc.constantFrom(...OPERATIONS.map((op) => op.name)),
  fc.constantFrom(...OPERATIONS.flatMap((op) => Object.keys(op.params))),
  fc.integer({ min: -100_000, max: 100_000 }).map(String),
  fc.string({ maxLength: 8 }),
), { maxLength: 24 }).map((parts) => parts.join(''));

/** Checks what parsing and validating a pipeline does: a valid pipeline, or a BAD_PIPELINE naming where. */
function parsesOrNamesTheField(text: string | unknown): void {
  try {
    validatePipeline(typeof text === 'string' ? parsePipelineText(text) : text);
  } catch (error) {
    assert.ok(error instanceof ImgfleetError, `not an ImgfleetError: ${String(error)}`);
    assert.equal(error.code, 'BAD_PIPELINE');
    // `<where>: <what>`: the step and field, the output, or the unknown field named.
    assert.match(error.message, /^(steps|output|pipeline|step \d+|.*: unknown field)/s, error.message);
  }
}

describe('fuzzing what others send', () => {
  let app: FastifyInstance;
  let engine: LocalEngine;
  let png: Buffer;
  const sources = mkdtempSync(join(tmpdir(), 'imgfleet-fuzz-'));

  before(async () => {
    engine = new LocalEngine({ threads: 2 });
    png = await gradientPng();
    await sharp(png).toFile(`${sources}/a.png`);
    app = await buildServer({ engine, token: 'tok', sources: new LocalFolderStore(sources, 1 << 20), signingKeys: [KEY], limits: { maxFileBytes: 1 << 20 } });
  });
  after(async () => {
    await app?.close();
    await engine?.close();
    rmSync(sources, { recursive: true, force: true });
  });

  const auth = { authorization: 'Bearer tok' };
  const under500 = (status: number, what: string) => assert.ok(status < 500, `${status} for ${what}`);

  it('the compact syntax and pipeline JSON: a pipeline, or a BAD_PIPELINE naming the field', () => {
    fc.assert(fc.property(syntaxText, parsesOrNamesTheField), { seed: SEED, verbose: VERBOSE, numRuns: RUNS * 4 });
    const step = fc.record({ op: fc.oneof(fc.constantFrom(...OPERATIONS.map((op) => op.name)), fc.jsonValue()) }, { requiredKeys: [] })
      .chain((base) => fc.dictionary(fc.oneof(fc.constantFrom(...OPERATIONS.flatMap((op) => Object.keys(op.params))), fc.string({ maxLength: 6 })), fc.jsonValue()).map((rest) => ({ ...rest, ...base })));
    const spec = fc.oneof(
      fc.jsonValue(),
      fc.record({ steps: fc.oneof(fc.array(step, { maxLength: 40 }), fc.jsonValue()), output: fc.oneof(fc.jsonValue(), fc.record({ format: fc.string(), quality: fc.jsonValue() })) }, { requiredKeys: [] }),
    );
    fc.assert(fc.property(spec, parsesOrNamesTheField), { seed: SEED, verbose: VERBOSE, numRuns: RUNS * 4 });
    fc.assert(fc.property(spec, (value) => parsesOrNamesTheField(JSON.stringify(value) ?? '')), { seed: SEED, verbose: VERBOSE, numRuns: RUNS });
  });

  it('pipelines over HTTP (query and multipart field): never a 5xx; a 400 names the field', async () => {
    await fc.assert(fc.asyncProperty(syntaxText, async (text) => {
      const response = await app.inject({ method: 'GET', url: `/v1/pipeline?pipeline=${encodeURIComponent(text)}`, headers: auth });
      under500(response.statusCode, text);
      if (response.statusCode === 400) assert.match(response.json().error.message, /steps|output|pipeline|[\w$]+:/);
    }), { seed: SEED, verbose: VERBOSE, numRuns: RUNS });
  });

  it('multipart bodies: random fields, names, boundaries and cuts are never a 5xx', async () => {
    const field = fc.record({
      name: fc.oneof(fc.constantFrom('file', 'logo', 'pipeline', 'bins', 'tile', 'files', '__proto__', ''), fc.string({ maxLength: 12 })),
      filename: fc.option(fc.oneof(fc.constantFrom('../../etc/passwd', 'a.png', 'upload-1', '.hidden', 'x.exe', 'é\u0000.png', ''), fc.string({ maxLength: 20 }))),
      body: fc.oneof(fc.constant('png'), fc.string({ maxLength: 40 }), fc.constantFrom('negate', 'resize:10', '{"steps":[]}', '70000')),
    });
    const body = fc.record({
      boundary: fc.oneof(fc.constant('X-BOUNDARY'), fc.string({ minLength: 1, maxLength: 70 })),
      declared: fc.option(fc.oneof(fc.constant('X-BOUNDARY'), fc.string({ maxLength: 10 }))),
      fields: fc.array(field, { maxLength: 6 }),
      cut: fc.option(fc.nat()),
      route: fc.constantFrom('/v1/process', '/v1/jobs', '/v1/histogram'),
    });
    await fc.assert(fc.asyncProperty(body, async ({ boundary, declared, fields, cut, route }) => {
      const parts = fields.map((f) => Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"${f.filename === null ? '' : `; filename="${f.filename}"`}\r\n\r\n`),
        f.body === 'png' ? png : Buffer.from(f.body), Buffer.from('\r\n'),
      ]));
      let payload = Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]);
      if (cut !== null) payload = payload.subarray(0, cut % (payload.length + 1));
      const contentType = declared === null ? `multipart/form-data; boundary=${boundary}` : `multipart/form-data${declared ? `; boundary=${declared}` : ''}`;
      const response = await app.inject({ method: 'POST', url: route, headers: { ...auth, 'content-type': contentType }, payload });
      under500(response.statusCode, `${route} ${JSON.stringify({ boundary, declared, fields: fields.map((f) => [f.name, f.filename]), cut })}`);
    }), { seed: SEED, verbose: VERBOSE, numRuns: RUNS });
  });

  it('paths, cookies and image URLs: never a 5xx', async () => {
    const segment = fc.oneof(fc.constantFrom('..', '.', '%2e%2e', '%2F', '%00', '%zz', '__proto__', 'constructor', 'a.png', 'i', 'v1', 'ui', 'jobs', 'docs', '_'), fc.string({ maxLength: 10 }).map(encodeURIComponent));
    const path = fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => `/${parts.join('/')}`);
    const cookie = fc.oneof(fc.string({ maxLength: 60 }), fc.tuple(fc.constantFrom('imgfleet_session', 'imgfleet_token', ''), fc.string({ maxLength: 60 })).map(([n, v]) => `${n}=${v}`));
    await fc.assert(fc.asyncProperty(path, cookie, fc.constantFrom('GET', 'POST', 'DELETE', 'HEAD', 'OPTIONS'), async (url, cookieHeader, method) => {
      const response = await app.inject({ method, url, headers: { cookie: cookieHeader.replace(/[\r\n]/g, '') } });
      under500(response.statusCode, `${method} ${url} cookie ${JSON.stringify(cookieHeader)}`);
    }), { seed: SEED, verbose: VERBOSE, numRuns: RUNS * 2 });
    // Image URLs that are signed: the pipeline and the source are then fuzzed for real.
    await fc.assert(fc.asyncProperty(syntaxText, fc.oneof(fc.constant('a.png'), segment), async (pipeline, source) => {
      const text = encodeURIComponent(pipeline).replace(/%2C/gi, ',').replace(/%3A/gi, ':').replace(/%3D/gi, '=') || 'negate';
      let url: string;
      try {
        url = signedPath(`/${text}/${source || 'a.png'}`, [KEY]);
      } catch {
        return;
      }
      const response = await app.inject({ method: 'GET', url });
      under500(response.statusCode, url);
      if (response.statusCode === 400) assert.match(response.json().error.message, /steps|output|pipeline|source|URL|[\w$]+:/);
    }), { seed: SEED, verbose: VERBOSE, numRuns: RUNS });
  });

  it('image bytes of every format, cut short or damaged, through processImage: a clear error, never a crash or a hang', async () => {
    const base = sharp({ create: { width: 40, height: 30, channels: 3, background: '#3080c0' } });
    const formats = {
      jpeg: await base.clone().jpeg().toBuffer(), png: await base.clone().png().toBuffer(), webp: await base.clone().webp().toBuffer(),
      avif: await base.clone().avif().toBuffer(), tiff: await base.clone().tiff().toBuffer(), gif: await base.clone().gif().toBuffer(),
    };
    const clear = new Set(['NOT_AN_IMAGE', 'CORRUPT_IMAGE', 'EMPTY_FILE', 'UNSUPPORTED_FORMAT', 'TOO_MANY_PIXELS', 'OUTPUT_TOO_LARGE', 'TOO_MUCH_WORK']);
    const pipeline = validatePipeline(parsePipelineText('negate,output:png'));
    const damaged = fc.record({
      format: fc.constantFrom(...Object.keys(formats) as (keyof typeof formats)[]),
      cut: fc.option(fc.nat()),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }),
      noise: fc.option(fc.uint8Array({ maxLength: 256 })),
    });
    await fc.assert(fc.asyncProperty(damaged, async ({ format, cut, flips, noise }) => {
      let bytes = Buffer.from(formats[format]);
      if (noise !== null) bytes = Buffer.concat([bytes.subarray(0, 16), Buffer.from(noise)]);
      for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] ^= value;
      if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
      const work = processImage(bytes, pipeline, { limits: { maxWork: 1e10 } }).then(() => undefined, (error: unknown) => error);
      const outcome = await Promise.race([work, new Promise((resolve) => setTimeout(() => resolve('hang'), 15_000))]);
      assert.notEqual(outcome, 'hang', `${format} took over 15 s`);
      if (outcome === undefined) return;
      assert.ok(outcome instanceof ImgfleetError, `${format}: ${String(outcome)}`);
      assert.ok(clear.has(outcome.code), `${format}: ${outcome.code} ${outcome.message}`);
      assert.ok(outcome.message.length > 0 && !outcome.message.includes('\n    at '), outcome.message);
    }), { seed: SEED, verbose: VERBOSE, numRuns: RUNS * 4 });
  });
});
