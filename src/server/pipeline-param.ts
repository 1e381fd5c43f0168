import { isAbsolute, relative, resolve } from 'node:path';
import { ImgfleetError, pipelineError } from '../errors.js';
import type { Limits } from '../limits.js';
import { parsePipelineText } from '../pipeline/load.js';
import type { PipelineSpec, ValidPipeline } from '../pipeline/spec.js';
import { validatePipeline } from '../pipeline/validate.js';

/**
 * The pipeline of a request: JSON or the compact syntax, from a multipart field or the query.
 * A logo (`watermark image=`) names a logo sent with the request (`logos`: its path by upload
 * name) or a file in the server's assets folder, never any other path.
 */
export function requestPipeline(text: string | undefined, limits: Limits, assetsDir?: string, logos?: ReadonlyMap<string, string>): ValidPipeline {
  if (text === undefined || text.trim() === '') {
    throw new ImgfleetError('BAD_PIPELINE', 'a pipeline is required: multipart field "pipeline" or query ?pipeline= (JSON or compact syntax, e.g. resize:512,output:webp)');
  }
  const pipeline = validatePipeline(parsePipelineText(text), limits);
  if (!pipeline.spec.steps.some((step) => step.op === 'watermark' && step.image !== undefined)) return pipeline;
  const spec: PipelineSpec = {
    ...pipeline.spec,
    steps: pipeline.spec.steps.map((step, index) => step.op === 'watermark' && typeof step.image === 'string'
      ? { ...step, image: logos?.get(step.image) ?? assetPath(step.image, index, assetsDir) }
      : step),
  };
  return validatePipeline(spec, limits);
}

function assetPath(name: string, index: number, assetsDir: string | undefined): string {
  if (!assetsDir) throw pipelineError(`steps[${index}].image: this server has no logos: send "${name}" with the request (multipart field "logo"), or start the server with --assets-dir`);
  const path = resolve(assetsDir, name);
  const inside = relative(resolve(assetsDir), path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    throw pipelineError(`steps[${index}].image: "${name}" is not a file in the server's assets folder, nor a logo sent with the request`);
  }
  return path;
}
