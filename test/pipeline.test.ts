import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatCompact, parseCompact } from '../src/pipeline/compact.js';
import { readPipelineArgument } from '../src/pipeline/load.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { OPERATIONS } from '../src/ops/index.js';
import { processImage } from '../src/pipeline/process.js';
import { synthetic, tempDir, toPng } from './helpers.js';

const badPipeline = (spec: unknown, message: RegExp) =>
  assert.throws(() => validatePipeline(spec), (e: { code: string; message: string }) => e.code === 'BAD_PIPELINE' && message.test(e.message));

describe('pipeline validation', () => {
  it('names the step, the field and the bad value', () => {
    badPipeline({ steps: [{ op: 'resize', width: 10 }, { op: 'blur', sigma: 2 }, { op: 'blur', sigma: -1 }] },
      /^steps\[2\]\.sigma: expected a number from 0\.3 to 100, got -1$/);
    badPipeline({ steps: [{ op: 'flip', direction: 'sideways' }] },
      /steps\[0\]\.direction: expected one of horizontal, vertical, both, got "sideways"/);
    badPipeline({ steps: [{ op: 'resize', width: 1.5 }] }, /steps\[0\]\.width: expected an integer from 1 to 65535, got 1\.5/);
  });

  it('reports unknown operations and parameters, and every problem at once', () => {
    badPipeline({ steps: [{ op: 'blurr' }, { op: 'blur', radius: 3 }] },
      /steps\[0\]\.op: unknown operation "blurr" \(known: resize, .*\); steps\[1\]\.radius: unknown parameter for blur \(known: sigma\)/);
  });

  it('checks rules between fields and required fields', () => {
    badPipeline({ steps: [{ op: 'resize' }] }, /steps\[0\]\.width: give width, height or both/);
    badPipeline({ steps: [{ op: 'crop', width: 10 }] }, /steps\[0\]\.height: required/);
    badPipeline({ steps: [{ op: 'watermark' }] }, /steps\[0\]\.text: give either text or image/);
    badPipeline({ steps: [{ op: 'edges', method: 'canny', low: 300, high: 200 }] }, /steps\[0\]\.low: must not exceed high \(200\), got 300/);
    badPipeline({ steps: [{ op: 'histogram' }, { op: 'blur' }] }, /steps\[0\]: histogram yields data.*last step/);
    badPipeline({ steps: [], output: { format: 'bmp' } }, /output\.format: expected one of jpeg, png, webp, avif, tiff, gif, jxl, auto, got "bmp"/);
    badPipeline({ steps: [], output: { quality: 0 } }, /output\.quality: expected an integer from 1 to 100, got 0/);
    badPipeline({ steps: [], output: { format: 'webp', effort: 7 } }, /output\.effort: expected an integer from 0 to 6 for webp, got 7/);
    badPipeline({ steps: [], output: { format: 'avif', effort: 10 } }, /output\.effort: expected an integer from 0 to 9, got 10/);
    badPipeline([1, 2], /pipeline: expected an object/);
    badPipeline({ steps: [], extra: 1 }, /extra: unknown field/);
  });

  it('fills in defaults', () => {
    const { spec } = validatePipeline({ steps: [{ op: 'blur' }, { op: 'grayscale' }] });
    assert.deepEqual(spec.steps, [{ op: 'blur', sigma: 2 }, { op: 'grayscale', amount: 1 }]);
  });

  it('limits the number of steps', () => {
    const steps = Array.from({ length: 33 }, () => ({ op: 'negate' }));
    badPipeline({ steps }, /steps: 33 steps is over the limit of 32/);
  });

  it('refuses an output over the limit before decoding anything', async () => {
    const pipeline = validatePipeline(parseCompact('resize:40000:40000:fit=fill'));
    const small = await toPng(synthetic(4, 4, 3, () => 9));
    await assert.rejects(processImage(small, pipeline), { code: 'OUTPUT_TOO_LARGE', message: /steps\[0\] \(resize\) would make a 40000×40000 image/ });
  });
});

describe('output effort', () => {
  it('reaches the encoder: more effort, smaller files', async () => {
    const photoPng = await toPng(synthetic(160, 120, 3, (x, y, c) => (x * 7 + y * 3 * c + ((x * y) % 13)) & 255));
    const bytes = async (output: object) => {
      const result = await processImage(photoPng, validatePipeline({ steps: [], output }));
      return result.kind === 'image' ? result.data.length : 0;
    };
    assert.ok(await bytes({ format: 'png', effort: 9 }) < await bytes({ format: 'png', effort: 0 }));
    assert.ok(await bytes({ format: 'webp', effort: 6 }) < await bytes({ format: 'webp', effort: 0 }));
    assert.ok(await bytes({ format: 'avif', effort: 4 }) < await bytes({ format: 'avif' }));
  });
});

describe('compact syntax', () => {
  it('maps one-to-one onto the JSON form', () => {
    assert.deepEqual(parseCompact('resize:512:512:fit=fill,blur:2,watermark:imgfleet:opacity=0.4,output:webp:80'), {
      steps: [
        { op: 'resize', width: 512, height: 512, fit: 'fill' },
        { op: 'blur', sigma: 2 },
        { op: 'watermark', text: 'imgfleet', opacity: 0.4 },
      ],
      output: { format: 'webp', quality: 80 },
    });
  });

  it('takes the output effort third, or by name', () => {
    assert.deepEqual(parseCompact('output:webp:80:1'), { steps: [], output: { format: 'webp', quality: 80, effort: 1 } });
    assert.deepEqual(parseCompact('output:png:effort=9'), { steps: [], output: { format: 'png', effort: 9 } });
  });

  it('percent-decodes values so texts can hold separators', () => {
    assert.deepEqual(parseCompact('watermark:text=Hello%2C world%3A 100%25'), { steps: [{ op: 'watermark', text: 'Hello, world: 100%' }] });
  });

  it('formats any valid pipeline back to the same JSON', () => {
    for (const op of OPERATIONS) {
      const step = op.name === 'crop' ? { op: op.name, width: 5, height: 5 } : op.name === 'resize' ? { op: op.name, width: 9 }
        : op.name === 'watermark' ? { op: op.name, text: 'a, b: c=d/e%' } : { op: op.name };
      const { spec } = validatePipeline({ steps: [step], output: { format: 'png', quality: 90 } });
      assert.deepEqual(validatePipeline(parseCompact(formatCompact(spec))).spec, spec, op.name);
    }
  });

  it('rejects too many unnamed values and unknown names clearly', () => {
    assert.throws(() => parseCompact('blur:1:2'), /step 1 \(blur\): too many unnamed values at "2"/);
    assert.throws(() => validatePipeline(parseCompact('sparkle:3')), /steps\[0\]\.op: unknown operation "sparkle"/);
  });

  it('reads inline JSON, @file and compact text alike', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'p.json');
    writeFileSync(file, '{"steps":[{"op":"blur","sigma":3}]}');
    const expected = { steps: [{ op: 'blur', sigma: 3 }] };
    assert.deepEqual(await readPipelineArgument(`@${file}`), expected);
    assert.deepEqual(await readPipelineArgument('{"steps":[{"op":"blur","sigma":3}]}'), expected);
    assert.deepEqual(await readPipelineArgument('blur:3'), expected);
    await assert.rejects(readPipelineArgument('@/nonexistent.json'), /pipeline file \/nonexistent\.json: not found/);
    await assert.rejects(readPipelineArgument('{"steps": ['), /pipeline JSON:/);
  });
});
