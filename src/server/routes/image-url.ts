import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ImgfleetError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { ACCEPTED_HINTS, applyClientHints } from '../client-hints.js';
import { requestPipeline } from '../pipeline-param.js';
import { sendResult } from '../send-result.js';
import { UNSIGNED, verify } from '../signing.js';
import { ERROR_RESPONSES, imageRouteHooks } from './shared.js';

/** The pipeline part of an image URL that asks for the source's information instead of an image. */
export const INFO_PATH = 'info';

/**
 * `GET /i/<signature>/<pipeline>/<source>`: an image made on the fly from a source in the
 * server's source store, for <img src>. The signature is checked before anything else is read.
 */
export async function imageUrlRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get('/i/*', {
    ...imageRouteHooks(ctx, 'imageUrl', false),
    schema: {
      summary: 'An image by URL: /i/<signature>/<pipeline>/<source>',
      description: 'The pipeline in the compact syntax (`output:auto` picks AVIF or WebP from the Accept header, with Vary: Accept), the source a key in the server\'s source store. '
        + 'The signature is the base64url HMAC-SHA256 of `/<pipeline>/<source>` with a key of IMGFLEET_KEY (`imgfleet sign` makes one); `_` when the server allows unsigned URLs. '
        + 'With --client-hints, Sec-CH-DPR / DPR set the dpr of resize steps that leave it at 1, and Sec-CH-Width / Width the width of resize steps that give none; Vary names the hints that apply. '
        + '`/i/<signature>/info/<source>` answers the source\'s information and placeholders as JSON (as POST /v1/info), signed like any image URL, even on a presets-only server. '
        + 'ETag is the content address of the result (If-None-Match → 304); Cache-Control carries the server\'s max-age.',
      tags: ['images'],
      response: { 200: { description: 'the image (JSON for /info/)', type: 'string', format: 'binary' }, 304: { description: 'not modified (If-None-Match)', type: 'null' }, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const { pipelineText, source } = checkedParts(request, ctx);
    const sources = ctx.options.sources;
    if (!sources) throw new ImgfleetError('NOT_FOUND', 'this server has no image source (start it with --source-dir or --source-url)');
    // The source's information is facts, not a derived image: presets-only does not govern it.
    const asked = requestPipeline(pipelineText, ctx.options, { presetsOnly: ctx.options.presetsOnly && pipelineText !== INFO_PATH });
    const { pipeline, vary } = ctx.options.clientHints ? applyClientHints(asked, request.headers, ctx.options.limits) : { pipeline: asked, vary: [] };
    if (ctx.options.clientHints) reply.header('Accept-CH', ACCEPTED_HINTS);
    // `*` matches whatever the URL names: answered without fetching its source.
    if (request.headers['if-none-match']?.trim() === '*') return reply.status(304).send();
    return sendResult(ctx, request, reply, {
      source: { kind: 'store', source: await sources.open(source) }, pipeline, name: source.split('/').pop()!, maxAgeSeconds: ctx.options.maxAgeSeconds, anonymous: true, vary,
    });
  });
}

/** The URL's parts, from the raw path as sent (the signature covers it byte for byte), once its signature holds. */
function checkedParts(request: FastifyRequest, ctx: ServerContext): { pipelineText: string; source: string } {
  const raw = (request.raw.url ?? request.url).split('?')[0].slice('/i/'.length);
  const slash = raw.indexOf('/');
  const signature = slash < 0 ? raw : raw.slice(0, slash);
  const path = slash < 0 ? '' : raw.slice(slash);
  const { signingKeys, allowUnsigned } = ctx.options;
  const unsigned = signature === UNSIGNED && allowUnsigned;
  if (!unsigned && !verify(signature, path, signingKeys)) {
    const reason = signature === '' || signature === UNSIGNED ? 'missing' : 'bad';
    ctx.metrics.signatureFailures.inc({ reason });
    const why = signingKeys.length === 0 ? 'this server has no signing keys (IMGFLEET_KEY) and takes no unsigned URLs'
      : reason === 'missing' ? 'the URL is not signed' : 'the signature does not match the URL';
    throw new ImgfleetError('FORBIDDEN', why);
  }
  const [, pipelineText = '', ...parts] = path.split('/');
  if (pipelineText === '' || parts.length === 0) throw new ImgfleetError('NOT_FOUND', 'expected /i/<signature>/<pipeline>/<source>');
  let source: string;
  try {
    source = parts.map((part) => decodeURIComponent(part)).join('/');
  } catch {
    throw new ImgfleetError('BAD_USAGE', 'bad percent-escape in the source');
  }
  // The compact parser decodes percent-escapes itself, after splitting on , : and =.
  return { pipelineText, source };
}
