import { Command } from 'commander';
import { extname } from 'node:path';
import { OUTPUT_FORMATS, type OutputFormat, type ValidPipeline } from '../../pipeline/spec.js';
import {
  interactive, loadPipeline, logLine, PIPELINE_HELP, tilingChoice, usageError, withClusterOptions, withPresetsOption, withTilingOptions,
  type CommandContext, type TilingFlags,
} from '../usage.js';

interface ProcessOptions extends TilingFlags {
  pipeline: string;
  output?: string;
  json?: boolean;
  redis?: string;
  sharedFs?: boolean;
  presets?: string;
}

const FORMAT_BY_EXTENSION: Record<string, OutputFormat> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.tif': 'tiff' };

export function processCommand({ env, result }: CommandContext): Command {
  return withPresetsOption(withTilingOptions(withClusterOptions(new Command('process'), env)), env)
    .description('process one image')
    .argument('<image>', 'input image')
    .requiredOption('-p, --pipeline <pipeline>', PIPELINE_HELP)
    .option('-o, --output <file>', 'output file; its extension sets the format when the pipeline does not (data pipelines print JSON without it)')
    .option('--json', 'print the result and step timings as JSON')
    .action(async (image: string, options: ProcessOptions) => {
      const pipeline = withFormatFromExtension(await loadPipeline(options.pipeline, options.presets), options.output);
      if (!pipeline.yieldsData && !options.output) throw usageError('-o, --output <file> is required for an image result');
      const [{ createEngine }, { Runner }, { fromErrorInfo }, { formatBytes }, { writeFileAtomic }] = await Promise.all([
        import('../../engine/create-engine.js'), import('../../runner/runner.js'), import('../../errors.js'), import('../../limits.js'), import('../../io/atomic-write.js'),
      ]);
      const tiling = tilingChoice(options);
      const { checkTileable } = await import('../../tiling/choose.js');
      checkTileable(pipeline, tiling);
      // One image: the calling thread is quicker than starting a pool (tiles of a large one get a pool); on a cluster it goes ahead of batches.
      const engine = await createEngine({ sequential: true, tilesOnPool: true, redis: options.redis, sharedFs: options.sharedFs, environment: env, log: logLine });
      const progress = interactive(env, options.json) ? (await import('../progress.js')).showTileProgress() : undefined;
      const outcome = await new Runner({ engine, tiling }).run({
        source: { kind: 'file', path: image }, pipeline, priority: 'interactive', onTile: progress?.onTile,
        sink: options.output && !pipeline.yieldsData ? { kind: 'file', path: options.output } : { kind: 'none' },
      }).finally(async () => {
        progress?.stop();
        await engine.close();
      });
      if (!outcome.ok) throw fromErrorInfo(outcome.error);
      if (options.json || outcome.data !== undefined) {
        const { ok: _ok, body: _body, ...shown } = outcome;
        if (outcome.data !== undefined && options.output) writeFileAtomic(options.output, `${JSON.stringify(outcome.data, null, 2)}\n`);
        process.stdout.write(`${JSON.stringify(options.json ? shown : outcome.data, null, 2)}\n`);
        return;
      }
      const out = outcome.output!;
      const { stats } = outcome;
      const steps = stats.steps.map((s) => `${s.op} ${s.ms.toFixed(1)} ms`).concat(`encode ${stats.encodeMs.toFixed(1)} ms`);
      const tiles = stats.tiles ? ` as ${stats.tiles.count} tiles of ${stats.tiles.size} px (halo ${stats.tiles.halo} px) on ${Object.keys(stats.tiles.workers).join(', ')}` : '';
      console.log(`wrote ${out.path} (${out.width}×${out.height} ${out.format}, ${formatBytes(out.bytes)}) in ${stats.totalMs.toFixed(1)} ms${tiles}: ${steps.join(', ')}`);
      result.code = 0;
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
