import type { FastifyInstance } from 'fastify';
import { fromErrorInfo, ImgfleetError } from '../../errors.js';
import { workerLabel } from '../image-headers.js';
import { histogramFile } from '../../histogram/histogram-file.js';
import type { HistogramData } from '../../ops/histogram.js';
import { validatePipeline } from '../../pipeline/validate.js';
import type { ServerContext } from '../context.js';
import { workSignal } from '../request-guard.js';
import { readImageUpload } from '../uploads.js';
import { ERROR_RESPONSES, imageRouteHooks } from './shared.js';

const CHANNEL = { type: 'array', items: { type: 'number' } } as const;

export async function histogramRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post<{ Querystring: { bins?: number; name?: string } }>('/v1/histogram', {
    ...imageRouteHooks(ctx, 'histogram', true),
    schema: {
      summary: 'Histogram of one image',
      description: 'One image (multipart field `file`, or the raw body) → counts of each level per channel: `gray` for single-channel images, else `red`, `green`, `blue`; alpha is not counted.',
      tags: ['images'],
      consumes: ['multipart/form-data', 'application/octet-stream', 'image/*'],
      querystring: {
        type: 'object',
        properties: {
          bins: { type: 'integer', minimum: 1, maximum: 256, default: 256, description: 'equal-width bins over 0..255' },
          name: { type: 'string', description: 'file name of a raw-body upload' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            file: { type: 'string' }, width: { type: 'integer' }, height: { type: 'integer' }, bins: { type: 'integer' },
            channels: { type: 'object', properties: { gray: CHANNEL, red: CHANNEL, green: CHANNEL, blue: CHANNEL } },
          },
        },
        ...ERROR_RESPONSES,
      },
    },
  }, async (request, reply) => {
    const upload = await readImageUpload(request, { limits: ctx.options.limits, spillDir: ctx.spillDir, spillAbove: ctx.options.spillBytes });
    const bins = upload.fields.bins !== undefined ? Number(upload.fields.bins) : request.query.bins ?? 256;
    if (!Number.isInteger(bins) || bins < 1 || bins > 256) throw new ImgfleetError('BAD_USAGE', `bins: expected an integer from 1 to 256, got ${upload.fields.bins}`);
    const pipeline = validatePipeline({ steps: [{ op: 'histogram', bins }] });
    const outcome = await ctx.runner.run({ source: upload.source, pipeline, sink: { kind: 'none' }, priority: 'interactive', signal: workSignal(request) });
    if (!outcome.ok) throw fromErrorInfo(outcome.error);
    reply.header('X-Imgfleet-Worker', workerLabel(outcome.worker));
    return histogramFile(upload.name, outcome.data as HistogramData);
  });
}
