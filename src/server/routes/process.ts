import type { FastifyInstance } from 'fastify';
import { sourceOf } from '../../sources/source-store.js';
import type { ServerContext } from '../context.js';
import { requestPipeline } from '../pipeline-param.js';
import { sendResult } from '../send-result.js';
import { readImageUpload } from '../uploads.js';
import { admitWhileResponding, ERROR_RESPONSES } from './shared.js';

export async function processRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post<{ Querystring: { pipeline?: string; name?: string } }>('/v1/process', {
    onRequest: admitWhileResponding(ctx.pending),
    schema: {
      summary: 'Process one image',
      description: 'One image (multipart field `file`, or the raw body) and a pipeline (multipart field `pipeline` or query `pipeline`, JSON or compact syntax) → the processed image. `output:auto` picks AVIF or WebP from the Accept header. ETag is the result\'s content address (If-None-Match → 304); X-Imgfleet-Cache says hit, miss or shared; Server-Timing carries the time of each step; X-Imgfleet-Worker names the worker.',
      tags: ['images'],
      consumes: ['multipart/form-data', 'application/octet-stream', 'image/*'],
      querystring: {
        type: 'object',
        properties: {
          pipeline: { type: 'string', description: 'JSON or compact syntax, e.g. resize:512:512:fit=fill,blur:2,output:webp:80' },
          name: { type: 'string', description: 'file name of a raw-body upload' },
        },
      },
      response: { 200: { description: 'the processed image (or JSON for a data pipeline)', type: 'string', format: 'binary' }, 304: { description: 'not modified (If-None-Match)', type: 'null' }, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const upload = await readImageUpload(request, ctx.options.limits);
    const pipeline = requestPipeline(upload.fields.pipeline ?? request.query.pipeline, ctx.options.limits, ctx.options.assetsDir);
    return sendResult(ctx, request, reply, { source: sourceOf(upload.bytes), pipeline, name: upload.name });
  });
}
