import { Command } from 'commander';
import { extname } from 'node:path';
import { fromErrorInfo } from '../../errors.js';
import { createEngine } from '../../engine/create-engine.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { formatBytes } from '../../limits.js';
import { OUTPUT_FORMATS, type OutputFormat, type ValidPipeline } from '../../pipeline/spec.js';
import { loadPipeline, PIPELINE_HELP, usageError, withClusterOptions } from '../usage.js';

interface ProcessOptions {
  pipeline: string;
  output?: string;
  json?: boolean;
  redis?: string;
  sharedFs?: boolean;
}

const FORMAT_BY_EXTENSION: Record<string, OutputFormat> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.tif': 'tiff' };

export function processCommand(): Command {
  return withClusterOptions(new Command('process'))
    .description('process one image')
    .argument('<image>', 'input image')
    .requiredOption('-p, --pipeline <pipeline>', PIPELINE_HELP)
    .option('-o, --output <file>', 'output file; its extension sets the format when the pipeline does not (data pipelines print JSON without it)')
    .option('--json', 'print the result and step timings as JSON')
    .action(async (image: string, options: ProcessOptions) => {
      const pipeline = withFormatFromExtension(await loadPipeline(options.pipeline), options.output);
      if (!pipeline.yieldsData && !options.output) throw usageError('-o, --output <file> is required for an image result');
      // One image: the calling thread is quicker than starting a pool; on a cluster it goes ahead of batches.
      const engine = await createEngine({ sequential: true, redis: options.redis, sharedFs: options.sharedFs, priority: 1 });
      const outcome = await engine.run({ inputPath: image, outputPath: options.output, spec: pipeline.spec }).finally(() => engine.close());
      if (!outcome.ok) throw fromErrorInfo(outcome.error);
      if (options.json || outcome.data !== undefined) {
        const { ok: _ok, ...result } = outcome;
        if (outcome.data !== undefined && options.output) {
          writeFileAtomic(options.output, `${JSON.stringify(outcome.data, null, 2)}\n`);
        }
        process.stdout.write(`${JSON.stringify(options.json ? result : outcome.data, null, 2)}\n`);
        return;
      }
      const out = outcome.output!;
      const steps = outcome.stats.steps.map((s) => `${s.op} ${s.ms.toFixed(1)} ms`).concat(`encode ${outcome.stats.encodeMs.toFixed(1)} ms`);
      console.log(`wrote ${out.path} (${out.width}×${out.height} ${out.format}, ${formatBytes(out.bytes)}) in ${outcome.stats.totalMs.toFixed(1)} ms: ${steps.join(', ')}`);
    });
}

/** `-o out.webp` picks WebP unless the pipeline names a format itself. */
function withFormatFromExtension(pipeline: ValidPipeline, output: string | undefined): ValidPipeline {
  if (!output || pipeline.output.format || pipeline.yieldsData) return pipeline;
  const ext = extname(output).toLowerCase();
  const format = FORMAT_BY_EXTENSION[ext] ?? ext.slice(1);
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) return pipeline;
  const outputSpec = { ...pipeline.output, format: format as OutputFormat };
  return { ...pipeline, output: outputSpec, spec: { ...pipeline.spec, output: outputSpec } };
}
