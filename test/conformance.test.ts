/**
 * The same batch assertions against every engine: the local pool and the cluster. Both must
 * produce the same bytes for the same pipeline.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { createEngine, type EngineChoice } from '../src/engine/create-engine.js';
import { BatchJob } from '../src/jobs/batch-job.js';
import { runBatch } from '../src/jobs/run-batch.js';
import { Runner } from '../src/runner/runner.js';
import { DEFAULT_ENVIRONMENT } from '../src/config.js';
import { parseCompact } from '../src/pipeline/compact.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { REDIS_URL, startWorker, testPrefix } from './cluster-helpers.js';
import { CORPUS, photo, tempDir } from './helpers.js';

const PIPELINES = {
  fast: 'resize:512:512:fit=fill,output:jpeg:75',
  general: 'resize:300,sharpen,watermark:imgfleet,output:webp:80',
};

function inputs(dir: string): string[] {
  const folder = join(dir, 'in');
  mkdirSync(folder, { recursive: true });
  for (const name of ['rocket.jpg', 'coffee.png', 'hubble_deep_field.jpg']) copyFileSync(photo(name), join(folder, name));
  copyFileSync(join(CORPUS, 'bad', 'truncated.jpg'), join(folder, 'truncated.jpg'));
  writeFileSync(join(folder, 'empty.jpg'), '');
  writeFileSync(join(folder, 'words.png'), 'not pixels');
  return readdirSync(folder).sort().map((f) => join(folder, f));
}

async function runWith(choice: EngineChoice, files: string[], out: string, compact: string): Promise<BatchJob> {
  const engine = await createEngine(choice);
  try {
    const pipeline = validatePipeline(parseCompact(compact));
    const job = new BatchJob(files.map((input) => ({ input, output: join(out, `${input.split('/').pop()}.out`) })), pipeline, engine.mode);
    await runBatch(new Runner({ engine }), job);
    return job;
  } finally {
    await engine.close();
  }
}

async function assertBatch(job: BatchJob): Promise<void> {
  assert.deepEqual(Object.fromEntries(job.items.map((i) => [i.input.split('/').pop(), i.error?.code ?? i.status])), {
    'coffee.png': 'done', 'empty.jpg': 'EMPTY_FILE', 'hubble_deep_field.jpg': 'done', 'rocket.jpg': 'done',
    'truncated.jpg': 'CORRUPT_IMAGE', 'words.png': 'NOT_AN_IMAGE',
  });
  for (const item of job.items.filter((i) => i.status === 'done')) {
    const meta = await sharp(item.output!).metadata();
    assert.equal(meta.width, item.result!.width);
    assert.equal(readFileSync(item.output!).length, item.result!.bytes);
    assert.ok(item.worker);
    assert.ok(item.stats!.steps.length > 0);
  }
}

describe('engine conformance', () => {
  for (const [kind, compact] of Object.entries(PIPELINES)) {
    it(`local pool and cluster give the same results and the same bytes (${kind} pipeline)`, async (t) => {
      const dir = tempDir(t);
      const files = inputs(dir);
      const local = await runWith({ threads: 2 }, files, join(dir, 'local'), compact);
      await assertBatch(local);

      const prefix = testPrefix(t);
      const worker = await startWorker(prefix, 'conformance');
      t.after(async () => { worker.child.kill('SIGTERM'); await worker.exited; });
      const cluster = await runWith({ redis: REDIS_URL, environment: { ...DEFAULT_ENVIRONMENT, prefix } }, files, join(dir, 'cluster'), compact);
      await assertBatch(cluster);
      assert.ok(cluster.items.filter((i) => i.status === 'done').every((i) => i.worker === 'conformance'));
      assert.ok(cluster.items.filter((i) => i.status === 'failed').every((i) => (i.attempts ?? 1) === 1), 'bad input is never retried');

      for (const [a, b] of local.items.map((item, i) => [item, cluster.items[i]])) {
        if (a.status !== 'done') continue;
        assert.ok(readFileSync(a.output!).equals(readFileSync(b.output!)), `${a.input} differs between engines`);
      }
    });
  }
});
