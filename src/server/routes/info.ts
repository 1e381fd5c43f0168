import type { FastifyInstance } from 'fastify';
import { fromErrorInfo } from '../../errors.js';
import type { ImageInfo } from '../../info/image-info.js';
import { validatePipeline } from '../../pipeline/validate.js';
import type { ServerContext } from '../context.js';
import { workerLabel } from '../image-headers.js';
import { workSignal } from '../request-guard.js';
import { readImageUpload } from '../uploads.js';
import { ERROR_RESPONSES, imageRouteHooks } from './shared.js';

/** The JSON of an image's information, for OpenAPI. */
export const IMAGE_INFO_SCHEMA = {
  type: 'object',
  properties: {
    file: { type: 'string' },
    format: { type: 'string', description: 'jpeg, png, webp, avif, heif, gif, tiff, svg, …' },
    width: { type: 'integer', description: 'as shown, after the EXIF orientation' },
    height: { type: 'integer' },
    frames: { type: 'integer', description: 'frames of an animation, pages of a multi-page image; 1 for a still' },
    alpha: { type: 'boolean' },
    orientation: { type: 'integer', minimum: 1, maximum: 8 },
    icc: { type: 'string', description: 'the embedded ICC profile\'s description' },
    date: { type: 'string', description: 'EXIF date taken, local time as the camera wrote it: 2008-04-20T19:12:06' },
    camera: { type: 'object', properties: { make: { type: 'string' }, model: { type: 'string' } } },
    bytes: { type: 'integer' },
    dominant: { type: 'string', description: '#rrggbb' },
    thumbhash: { type: 'string', description: 'ThumbHash, base64' },
    blurhash: { type: 'string' },
    placeholderDataUrl: { type: 'string', description: 'the ThumbHash drawn as a small PNG data URL' },
  },
} as const;

/** `POST /v1/info`: one uploaded image's information and placeholders (the `info` operation). */
export async function infoRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post<{ Querystring: { name?: string; density?: number } }>('/v1/info', {
    ...imageRouteHooks(ctx, 'info', true),
    schema: {
      summary: 'Information and placeholders of one image',
      description: 'One image (multipart field `file`, or the raw body) → its size, format, frames, alpha, orientation, ICC profile name, EXIF date and camera, dominant colour, ThumbHash and BlurHash. '
        + 'The placeholders come from a thumbnail of at most 100 px made while decoding. (`GET /v1/info` describes the server instead.)',
      tags: ['images'],
      consumes: ['multipart/form-data', 'application/octet-stream', 'image/*'],
      querystring: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'file name of a raw-body upload' },
          density: { type: 'number', minimum: 1, maximum: 2400, description: 'dots per inch to draw an SVG at (default 72: the size it declares)' },
        },
      },
      response: { 200: IMAGE_INFO_SCHEMA, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const upload = await readImageUpload(request, { limits: ctx.options.limits, spillDir: ctx.spillDir, spillAbove: ctx.options.spillBytes });
    const { density } = request.query;
    const pipeline = validatePipeline({ ...(density !== undefined ? { input: { density } } : {}), steps: [{ op: 'info' }] }, ctx.options.limits);
    // Like any image: on a pool thread or a cluster's worker, through the result cache.
    const outcome = await ctx.runner.run({ source: upload.source, pipeline, sink: { kind: 'none' }, priority: 'interactive', signal: workSignal(request) });
    if (!outcome.ok) throw fromErrorInfo(outcome.error);
    reply.header('X-Imgfleet-Worker', workerLabel(outcome.worker));
    return { file: upload.name, ...(outcome.data as ImageInfo) };
  });
}
