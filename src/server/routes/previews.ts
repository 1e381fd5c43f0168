import type { FastifyInstance } from 'fastify';
import { createReadStream, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fromErrorInfo, ImgfleetError } from '../../errors.js';
import { histogramFile, type HistogramFile } from '../../histogram/histogram-file.js';
import { probe } from '../../image/decode.js';
import { CONTENT_TYPES } from '../../image/encode.js';
import type { HistogramData } from '../../ops/histogram.js';
import type { OutputFormat, PipelineSpec } from '../../pipeline/spec.js';
import { validatePipeline } from '../../pipeline/validate.js';
import type { ItemState } from '../../jobs/batch-job.js';
import type { ServerContext } from '../context.js';
import type { ServerJob } from '../job-store.js';
import { ERROR_RESPONSES, imageRouteHooks } from './shared.js';

/** Formats every current browser shows in an <img>; the others get a PNG preview. */
// Never SVG: sent as is, its scripts would run on this server's origin.
const BROWSER_FORMATS = new Set<string>(['jpeg', 'png', 'webp', 'gif', 'avif']);
const SIDES = ['input', 'output'] as const;
type Side = (typeof SIDES)[number];

const FILE_PARAMS = {
  type: 'object',
  properties: { id: { type: 'string' }, index: { type: 'integer', minimum: 0 }, side: { type: 'string', enum: SIDES } },
  required: ['id', 'index'],
} as const;

/**
 * What a browser needs to show a job's files beside each other, without downloading and
 * re-uploading them: each upload and output as an image it can display, and their histograms.
 */
export async function previewRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get<{ Params: { id: string; index: number; side: Side } }>('/v1/jobs/:id/previews/:index/:side', {
    ...imageRouteHooks(ctx, 'previews', false),
    schema: {
      summary: 'A job\'s upload (input) or output as an image a browser can show',
      description: 'JPEG, PNG, WebP, GIF and AVIF files are sent as they are; others (TIFF) as a lossless PNG of the same pixels. `X-Imgfleet-Preview` says which: `original` or `png`.',
      tags: ['jobs'],
      params: FILE_PARAMS,
      response: { 200: { description: 'the image', type: 'string', format: 'binary' }, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const { id, index, side } = request.params;
    const job = ctx.jobs.get(id);
    const path = filePath(job, itemOf(job, index), side);
    const { format } = await probe(path, ctx.options.limits);
    reply.header('X-Content-Type-Options', 'nosniff').header('Cache-Control', 'private, max-age=3600');
    if (BROWSER_FORMATS.has(format)) {
      return reply.type(CONTENT_TYPES[format as OutputFormat]).header('X-Imgfleet-Preview', 'original').send(createReadStream(path));
    }
    const png = join(job.dir, 'previews', `${index}-${side}.png`);
    if (!existsSync(png)) await run(ctx, path, { steps: [], output: { format: 'png' } }, png, job.id);
    return reply.type(CONTENT_TYPES.png).header('X-Imgfleet-Preview', 'png').send(createReadStream(png));
  });

  app.get<{ Params: { id: string; index: number }; Querystring: { bins: number } }>('/v1/jobs/:id/histograms/:index', {
    ...imageRouteHooks(ctx, 'previews', false),
    schema: {
      summary: 'Histograms of a job\'s upload and of its output, computed where the files are',
      description: '`input` always; `output` once the image is done (not for data pipelines). Each is what POST /v1/histogram gives for that file.',
      tags: ['jobs'],
      params: { ...FILE_PARAMS, required: ['id', 'index'] },
      querystring: { type: 'object', properties: { bins: { type: 'integer', minimum: 1, maximum: 256, default: 256 } } },
      response: ERROR_RESPONSES,
    },
  }, async (request) => {
    const { id, index } = request.params;
    const job = ctx.jobs.get(id);
    const item = itemOf(job, index);
    const spec: PipelineSpec = { steps: [{ op: 'histogram', bins: request.query.bins }] };
    const histogram = async (side: Side): Promise<HistogramFile> => {
      const path = filePath(job, item, side);
      const name = side === 'input' ? job.names[index] : basename(path);
      return histogramFile(name, (await run(ctx, path, spec)) as HistogramData);
    };
    const done = item.status === 'done' && item.output !== undefined;
    const [input, output] = await Promise.all([histogram('input'), done ? histogram('output') : undefined]);
    return output ? { input, output } : { input };
  });
}

function itemOf(job: ServerJob, index: number): ItemState {
  const item = job.batch.items[index];
  if (!item) throw new ImgfleetError('NOT_FOUND', `job ${job.id} has no file number ${index}`);
  return item;
}

function filePath(job: ServerJob, item: ItemState, side: Side): string {
  if (side === 'input') return item.input;
  if (item.status !== 'done' || !item.output) throw new ImgfleetError('NOT_FOUND', `job ${job.id}: ${basename(item.input)} has no output ${item.status === 'failed' ? '(it failed)' : 'yet'}`);
  return item.output;
}

/** Through the runner, as any image of the API: a file to a file, or to data. */
async function run(ctx: ServerContext, inputPath: string, spec: PipelineSpec, outputPath?: string, job?: string): Promise<unknown> {
  const outcome = await ctx.runner.run({
    source: { kind: 'file', path: inputPath }, pipeline: validatePipeline(spec, ctx.options.limits),
    sink: outputPath ? { kind: 'file', path: outputPath } : { kind: 'none' }, priority: 'interactive',
  });
  if (!outcome.ok) throw fromErrorInfo(outcome.error);
  if (outputPath && job && outcome.output) {
    try {
      ctx.disk.add(job, outcome.output.bytes);
    } catch (error) {
      await rm(outputPath, { force: true });
      throw error;
    }
  }
  return outcome.data;
}
