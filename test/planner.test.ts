import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { open, probe } from '../src/image/decode.js';
import { resolveLimits } from '../src/limits.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { planPasses } from '../src/pipeline/plan.js';
import { processImage, readAssetFile } from '../src/pipeline/process.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import sharp from 'sharp';
import { CORPUS, maxDifference, photo } from './helpers.js';

const pipeline = (text: string) => validatePipeline(parsePipelineText(text));
const passes = (text: string) => planPasses(pipeline(text)).map((pass) => pass.steps.map((s) => s.op.name).join('+'));

describe('planner', () => {
  it('runs steps written in sharp’s order as one pass', () => {
    assert.deepEqual(passes('resize:256:256,blur:1'), ['resize+blur']);
    assert.deepEqual(passes('crop:0:0:100:100,resize:50,pad:1,blur:1,saturate:2,clahe,negate'),
      ['crop+resize+pad+blur+saturate+clahe+negate']);
    assert.deepEqual(passes('rotate:90,blur:2,negate'), ['rotate+blur+negate']);
  });

  it('makes pixels where the order forces it, and around steps that work on pixels', () => {
    assert.deepEqual(passes('negate,blur'), ['negate', 'blur']);
    assert.deepEqual(passes('resize:256:256,sharpen,negate'), ['resize', 'sharpen', 'negate']);
    assert.deepEqual(passes('resize:100,flip'), ['resize', 'flip']);
    assert.deepEqual(passes('pad:2,rotate:90'), ['pad', 'rotate']);
    assert.deepEqual(passes('resize:400,blur:1.5,watermark:hi,negate'), ['resize+blur', 'watermark', 'negate']);
    assert.deepEqual(passes('grayscale,threshold,blur,crop:0:0:5:5'), ['grayscale', 'threshold', 'blur', 'crop']);
  });

  it('gives the same pixels as running each step on the pixels of the one before', async () => {
    const limits = resolveLimits();
    const cases = ['resize:256:256,clahe', 'resize:300:300:fit=cover,blur:1,negate', 'resize:300:300:fit=contain,pad:3:4:5:6,blur:2',
      'crop:10:10:200:150,resize:100,negate', 'rotate:90,blur:2,negate', 'flip,saturate:1.5,clahe', 'blur:1,saturate:0.5,clahe,negate'];
    for (const file of [photo('Dune.jpg'), photo('hubble_deep_field.jpg'), photo('camera.png'), `${CORPUS}/odd/logo.png`]) {
      const input = await readFile(file);
      const header = await probe(input, limits);
      for (const text of cases) {
        const p = pipeline(text);
        let fused = open(input, header, limits);
        let stepwise = open(input, header, limits);
        for (const step of p.steps) {
          if (step.op.kind !== 'image') continue;
          fused = await step.op.apply(fused, step.params, { loadAsset: readAssetFile });
          stepwise = await step.op.apply(stepwise, step.params, { loadAsset: readAssetFile });
          await stepwise.raw();
        }
        assert.ok(fused.pendingSteps > 1 || p.steps.length === 1, `${text} ran fused`);
        assert.equal(maxDifference(await fused.raw(), await stepwise.raw()), 0, `${text} on ${file}`);
      }
    }
  });

  it('reports the pass of each step', async () => {
    const result = await processImage(await readFile(photo('coffee.png')), pipeline('resize:300,blur:1,watermark:hi,sharpen,negate,output:png'));
    assert.deepEqual(result.stats.steps.map((s) => [s.op, s.pass]),
      [['resize', 0], ['blur', 0], ['watermark', 1], ['sharpen', 2], ['negate', 3]]);
  });

  it('runs a sharpen of a large image in the libvips pipeline before it, with plain sharp\'s pixels', async () => {
    // 5120×2880 resized to 2000 wide is 2.25 MP: libvips sharpens it, so no pixels are made between.
    const file = `${CORPUS}/large/volna-5120x2880.jpg`;
    const result = await processImage(await readFile(file), pipeline('resize:2000,blur:1,sharpen,negate,output:png'));
    assert.deepEqual(result.stats.steps.map((s) => [s.op, s.pass]), [['resize', 0], ['blur', 0], ['sharpen', 0], ['negate', 0]]);
    assert.ok(result.kind === 'image');
    const ours = await sharp(result.data).raw().toBuffer({ resolveWithObject: true });
    const plain = await sharp(file).resize({ width: 2000 }).blur(1).sharpen({ sigma: 1, m1: 1, m2: 2 }).negate()
      .raw().toBuffer({ resolveWithObject: true });
    const image = (r: typeof plain) => ({ data: r.data, width: r.info.width, height: r.info.height, channels: r.info.channels as 3 });
    assert.equal(maxDifference(image(ours), image(plain)), 0);
  });
});
