import type { FastifyInstance } from 'fastify';
import { COMPACT_SYNTAX_HELP, inputSchema, operationSchemas, outputSchema } from '../../ops/describe.js';
import { supportedFormats } from '../../image/formats.js';
import { formatCompact } from '../../pipeline/compact.js';
import type { ServerContext } from '../context.js';
import { requestPipeline } from '../pipeline-param.js';

export async function registryRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get('/v1/ops', {
    schema: { summary: 'Every operation with the JSON Schema of its parameters, and the output options', tags: ['pipeline'] },
  }, async () => ({ operations: operationSchemas(), input: inputSchema(), output: outputSchema(), formats: supportedFormats().write, readable: supportedFormats().read, syntax: COMPACT_SYNTAX_HELP }));

  app.get<{ Querystring: { pipeline?: string } }>('/v1/pipeline', {
    schema: {
      summary: 'Validate a pipeline (JSON or compact syntax): its normalised JSON, and the short compact form',
      tags: ['pipeline'],
      querystring: { type: 'object', properties: { pipeline: { type: 'string' } }, required: ['pipeline'] },
    },
  }, async (request) => {
    const pipeline = requestPipeline(request.query.pipeline, ctx.options);
    return { spec: pipeline.spec, compact: formatCompact(pipeline.spec, { omitDefaults: true }), yieldsData: pipeline.yieldsData };
  });

  app.get('/v1/presets', {
    schema: { summary: 'The server\'s presets: named pipelines usable as preset:NAME', tags: ['pipeline'] },
  }, async () => ({
    presetsOnly: ctx.options.presetsOnly,
    presets: [...ctx.options.presets].map(([name, spec]) => ({ name, compact: formatCompact(spec, { omitDefaults: true }), spec })),
  }));

  app.get('/v1/info', {
    schema: { summary: 'Engine mode, the limits uploads must respect, and the formats this build reads and writes (POST an image here for its information)', tags: ['service'] },
  }, async () => ({
    formats: supportedFormats(),
    mode: ctx.runner.engine.mode,
    engine: ctx.runner.engine.mode,
    limits: ctx.options.limits,
    maxFiles: ctx.options.maxFiles,
    resultTtlSeconds: Math.round(ctx.options.resultTtlMs / 1000),
  }));
}
