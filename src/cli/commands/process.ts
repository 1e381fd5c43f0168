import { Command } from 'commander';
import { extname } from 'node:path';
import { fromErrorInfo } from '../../errors.js';
import { createEngine } from '../../engine/create-engine.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { formatBytes } from '../../limits.js';
import { OUTPUT_FORMATS, type OutputFormat, type ValidPipeline } from '../../pipeline/spec.js';
import { LocalEngine } from '../../engine/local/local-engine.js';
import { defaultThreads } from '../../engine/tuning.js';
import type { Engine, FileTask, TaskOutcome } from '../../engine/types.js';
import type { TileRunner } from '../../tiling/tile-task.js';
import { checkTileable } from '../../tiling/choose.js';
import { runTiledFileTask } from '../../tiling/tiled-file-task.js';
import { showTileProgress } from '../progress.js';
import {
  interactive, loadPipeline, PIPELINE_HELP, tilingChoice, usageError, withClusterOptions, withTilingOptions, type TilingFlags,
} from '../usage.js';

interface ProcessOptions extends TilingFlags {
  pipeline: string;
  output?: string;
  json?: boolean;
  redis?: string;
  sharedFs?: boolean;
}

const FORMAT_BY_EXTENSION: Record<string, OutputFormat> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.tif': 'tiff' };

export function processCommand(): Command {
  return withTilingOptions(withClusterOptions(new Command('process')))
    .description('process one image')
    .argument('<image>', 'input image')
    .requiredOption('-p, --pipeline <pipeline>', PIPELINE_HELP)
    .option('-o, --output <file>', 'output file; its extension sets the format when the pipeline does not (data pipelines print JSON without it)')
    .option('--json', 'print the result and step timings as JSON')
    .action(async (image: string, options: ProcessOptions) => {
      const pipeline = withFormatFromExtension(await loadPipeline(options.pipeline), options.output);
      if (!pipeline.yieldsData && !options.output) throw usageError('-o, --output <file> is required for an image result');
      checkTileable(pipeline, tilingChoice(options));
      // One image: the calling thread is quicker than starting a pool; on a cluster it goes ahead of batches.
      const engine = await createEngine({ sequential: true, redis: options.redis, sharedFs: options.sharedFs, priority: 1 });
      const task = { inputPath: image, outputPath: options.output, spec: pipeline.spec };
      const outcome = await runOne(engine, task, options).finally(() => engine.close());
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
      const { stats } = outcome;
      const steps = stats.steps.map((s) => `${s.op} ${s.ms.toFixed(1)} ms`).concat(`encode ${stats.encodeMs.toFixed(1)} ms`);
      const tiles = stats.tiles ? ` as ${stats.tiles.count} tiles of ${stats.tiles.size} px (halo ${stats.tiles.halo} px) on ${Object.keys(stats.tiles.workers).join(', ')}` : '';
      console.log(`wrote ${out.path} (${out.width}×${out.height} ${out.format}, ${formatBytes(out.bytes)}) in ${stats.totalMs.toFixed(1)} ms${tiles}: ${steps.join(', ')}`);
    });
}

/**
 * One image, as tiles when it is large enough (on the cluster, or on a worker-thread pool
 * started only then), else whole on the engine.
 */
async function runOne(engine: Engine, task: FileTask, options: ProcessOptions): Promise<TaskOutcome> {
  let pool: LocalEngine | undefined;
  const runner: TileRunner = options.redis
    ? { name: engine.name, capacity: engine.capacity, tileCapacity: engine.tileCapacity?.bind(engine), runTile: (t) => engine.runTile!(t) }
    : { name: 'local', capacity: 2 * defaultThreads(), tileCapacity: async () => defaultThreads() + 1, runTile: (t) => (pool ??= new LocalEngine()).runTile(t) };
  const progress = interactive(options.json) ? showTileProgress() : undefined;
  try {
    const tiled = await runTiledFileTask(task, runner, tilingChoice(options), { onTile: progress?.onTile });
    return tiled ?? await engine.run(task);
  } finally {
    progress?.stop();
    await pool?.close();
  }
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
