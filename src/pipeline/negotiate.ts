import { pipelineError } from '../errors.js';
import { AUTO_FORMAT, type OutputFormat, type OutputSpec, type ValidPipeline } from './spec.js';

/**
 * `output:auto` for one request: AVIF when its Accept header lists image/avif, else WebP when it
 * lists image/webp, else the input's own format. Wildcards (image/*, *\/*) do not count: every
 * browser sends them, including those that cannot decode AVIF. An animated input skips AVIF,
 * which libvips writes as one frame, so that it stays animated.
 */
export function negotiateFormat(accept: string | undefined, input: { animated?: boolean } = {}): 'avif' | 'webp' | undefined {
  const accepted = acceptedTypes(accept ?? '');
  if (accepted.has('image/avif') && !input.animated) return 'avif';
  if (accepted.has('image/webp')) return 'webp';
  return undefined;
}

/** The pipeline with `auto` replaced by the negotiated format (or by none: the input's). */
export function resolveAutoFormat(pipeline: ValidPipeline, accept: string | undefined, input: { animated?: boolean } = {}): ValidPipeline {
  if (pipeline.output.format !== AUTO_FORMAT) return pipeline;
  const format = negotiateFormat(accept, { animated: input.animated && pipeline.output.frames !== 'first' });
  const { format: _auto, ...rest } = pipeline.output;
  const output: OutputSpec = format ? { ...rest, format } : rest;
  const spec = { ...pipeline.spec };
  if (Object.keys(output).length > 0) spec.output = output;
  else delete spec.output;
  return { ...pipeline, output, spec };
}

export function isAuto(pipeline: ValidPipeline): boolean {
  return pipeline.output.format === AUTO_FORMAT;
}

/** A format fixed in advance, for work with no request to negotiate with (batches, files). */
export function fixedFormat(output: OutputSpec): OutputFormat | undefined {
  if (output.format === AUTO_FORMAT) {
    throw pipelineError('output.format: auto is chosen from an HTTP request’s Accept header (image URLs, /v1/process); name a format here');
  }
  return output.format;
}

function acceptedTypes(accept: string): Set<string> {
  const types = new Set<string>();
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (type && (q === undefined || Number(q.slice(2)) > 0)) types.add(type);
  }
  return types;
}
