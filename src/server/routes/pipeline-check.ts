import type { FastifyInstance } from 'fastify';
import { ImgfleetError, type ErrorCode } from '../../errors.js';
import { formatCompact } from '../../pipeline/compact.js';
import { parsePipelineText } from '../../pipeline/load.js';
import type { ValidPipeline } from '../../pipeline/spec.js';
import { expandPresets } from '../../pipeline/presets.js';
import { validatePipeline } from '../../pipeline/validate.js';
import { planTiling } from '../../tiling/plan.js';
import type { ServerContext } from '../context.js';
import { requestPipeline } from '../pipeline-param.js';
import { tilingChoice } from './jobs.js';

/** One problem of a pipeline, placed: `step` counts from 0 as in `steps[i]`; `field` names the parameter. */
export interface PipelineProblem {
  code: ErrorCode;
  message: string;
  step?: number;
  field?: string;
}

const PROBLEM = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, step: { type: 'integer' }, field: { type: 'string' } } } as const;

/**
 * Checks a pipeline as a job would before it reads any upload, and says where each problem is:
 * for forms that mark the field at fault while it is being edited.
 */
export async function pipelineCheckRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get<{ Querystring: { pipeline: string; tile?: string; logos?: string } }>('/v1/pipeline/check', {
    schema: {
      summary: 'Check a pipeline (and a tile size) before sending images: every problem with the step and field it is in',
      description: 'Always 200: `valid` says whether a job with this pipeline would start. `parsed` is the pipeline as read, before checking (absent when it cannot be read), so a form can show it with each problem at its field. `logos` names the logos the request will carry (multipart field `logo`), so a watermark naming one counts as found.',
      tags: ['pipeline'],
      querystring: {
        type: 'object',
        properties: {
          pipeline: { type: 'string' },
          tile: { type: 'string', description: 'the tile size a job would ask for' },
          logos: { type: 'string', description: 'comma-separated names of logos sent with the job' },
        },
        required: ['pipeline'],
      },
      response: {
        200: {
          type: 'object',
          properties: {
            valid: { type: 'boolean' },
            problems: { type: 'array', items: PROBLEM },
            parsed: { type: 'object', additionalProperties: true },
            spec: { type: 'object', additionalProperties: true },
            compact: { type: 'string' },
            yieldsData: { type: 'boolean' },
            tiling: { type: 'object', properties: { possible: { type: 'boolean' }, reason: { type: 'string' } } },
          },
        },
      },
    },
  }, async (request) => {
    const { pipeline: text, tile, logos } = request.query;
    let pipeline: ValidPipeline;
    let parsed: unknown;
    try {
      parsed = parsePipelineText(text);
      pipeline = validatePipeline(expandPresets(parsed, ctx.options.presets), ctx.options.limits);
      const sent = new Map((logos ?? '').split(',').filter(Boolean).map((name) => [name, name]));
      requestPipeline(text, ctx.options, { logos: sent });
    } catch (error) {
      if (!(error instanceof ImgfleetError)) throw error;
      return { valid: false, problems: placeProblems(error), ...(isObject(parsed) ? { parsed } : {}) };
    }
    const problems: PipelineProblem[] = [];
    const planned = planTiling(pipeline);
    if (tile !== undefined && tile !== '') {
      try {
        tilingChoice(tile);
        if (!planned.ok) {
          const problem = placed('NOT_TILEABLE', planned.reason);
          problems.push({ ...problem, message: `cannot run on tiles: ${problem.message}` });
        }
      } catch (error) {
        if (!(error instanceof ImgfleetError)) throw error;
        problems.push({ code: error.code, field: 'tile', message: error.message.replace(/^tile: /, '') });
      }
    }
    return {
      valid: problems.length === 0,
      problems,
      spec: pipeline.spec,
      compact: formatCompact(pipeline.spec, { omitDefaults: true }),
      yieldsData: pipeline.yieldsData,
      tiling: planned.ok ? { possible: true } : { possible: false, reason: planned.reason },
    };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The validator reports every problem at once, joined with "; ", each led by where it is. */
const WHERE = /(?:steps\[\d+\](?: \([\w-]+\))?(?:\.[\w$]+)?|steps|output(?:\.[\w$]+)?|pipeline(?: JSON)?|step \d+ \([^)]*\)|[\w$]+): /;

export function placeProblems(error: ImgfleetError): PipelineProblem[] {
  const parts = error.message.split(new RegExp(`; (?=${WHERE.source})`));
  return parts.map((part) => placed(error.code, part));
}

function placed(code: ErrorCode, text: string): PipelineProblem {
  let match = /^steps\[(\d+)\](?: \([\w-]+\))?(?:\.([\w$]+))?: ([\s\S]*)$/.exec(text);
  if (match) return { code, step: Number(match[1]), ...(match[2] ? { field: match[2] } : {}), message: match[3] };
  match = /^step (\d+) \([^)]*\): ([\s\S]*)$/.exec(text);
  if (match) return { code, step: Number(match[1]) - 1, message: match[2] };
  match = /^output\.([\w$]+): ([\s\S]*)$/.exec(text);
  if (match) return { code, field: `output.${match[1]}`, message: match[2] };
  return { code, message: text };
}
