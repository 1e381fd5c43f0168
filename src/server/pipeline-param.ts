import { assetsIn, checkAssetName } from '../io/assets.js';
import { ImgfleetError } from '../errors.js';
import type { Limits } from '../limits.js';
import { parsePipelineText } from '../pipeline/load.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import { validatePipeline } from '../pipeline/validate.js';

/**
 * The pipeline of a request: JSON or the compact syntax, from a multipart field or the query.
 * A logo (`watermark image=`) is a name in the server's assets folder, refused here when it
 * could name anything else; whoever runs the step reads it from its own assets folder.
 */
export function requestPipeline(text: string | undefined, options: { limits: Limits; assetsDir?: string }): ValidPipeline {
  if (text === undefined || text.trim() === '') {
    throw new ImgfleetError('BAD_PIPELINE', 'a pipeline is required: multipart field "pipeline" or query ?pipeline= (JSON or compact syntax, e.g. resize:512,output:webp)');
  }
  const pipeline = validatePipeline(parsePipelineText(text), options.limits);
  const assets = assetsIn(options.assetsDir);
  pipeline.spec.steps.forEach((step, index) => {
    if (step.op === 'watermark' && typeof step.image === 'string') checkAssetName(assets, step.image, `steps[${index}]`);
  });
  return pipeline;
}
