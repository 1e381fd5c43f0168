import { assetsIn, checkAssetName } from '../io/assets.js';
import { ImgfleetError, pipelineError } from '../errors.js';
import type { Limits } from '../limits.js';
import { parsePipelineText } from '../pipeline/load.js';
import type { PipelineSpec, ValidPipeline } from '../pipeline/spec.js';
import { expandPresets, NO_PRESETS, onlyPresets, type Presets } from '../pipeline/presets.js';
import { validatePipeline } from '../pipeline/validate.js';

/**
 * The pipeline of a request: JSON or the compact syntax, from a multipart field or the query,
 * its presets expanded (`presetsOnly`, for image URLs: nothing but presets).
 * A logo (`watermark image=`) names a logo sent with the request (`logos`: upload name → the
 * name it travels under) or a file in the server's assets folder, never any other path; whoever
 * runs the step reads it from what came with the work, or from its own assets folder.
 */
export function requestPipeline(
  text: string | undefined, options: { limits: Limits; assetsDir?: string; presets?: Presets },
  request: { logos?: ReadonlyMap<string, string>; presetsOnly?: boolean } = {},
): ValidPipeline {
  const { logos } = request;
  if (text === undefined || text.trim() === '') {
    throw new ImgfleetError('BAD_PIPELINE', 'a pipeline is required: multipart field "pipeline" or query ?pipeline= (JSON or compact syntax, e.g. resize:512,output:webp)');
  }
  const parsed = parsePipelineText(text);
  if (request.presetsOnly && !onlyPresets(parsed)) {
    const known = [...(options.presets ?? NO_PRESETS).keys()];
    throw new ImgfleetError('FORBIDDEN', `this server takes only presets here, like preset:${known[0] ?? 'NAME'}${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`);
  }
  const pipeline = validatePipeline(expandPresets(parsed, options.presets ?? NO_PRESETS), options.limits);
  if (!pipeline.spec.steps.some((step) => step.op === 'watermark' && typeof step.image === 'string')) return pipeline;
  const assets = assetsIn(options.assetsDir);
  const spec: PipelineSpec = {
    ...pipeline.spec,
    steps: pipeline.spec.steps.map((step, index) => {
      if (step.op !== 'watermark' || typeof step.image !== 'string') return step;
      const sent = logos?.get(step.image);
      if (sent) return { ...step, image: sent };
      if (assets.kind === 'none') {
        throw pipelineError(`steps[${index}].image: this server has no logos: send "${step.image}" with the request (multipart field "logo"), or start the server with --assets-dir`);
      }
      try {
        checkAssetName(assets, step.image, `steps[${index}]`);
      } catch {
        throw pipelineError(`steps[${index}].image: "${step.image}" is not a file in the server's assets folder, nor a logo sent with the request`);
      }
      return step;
    }),
  };
  return validatePipeline(spec, options.limits);
}
