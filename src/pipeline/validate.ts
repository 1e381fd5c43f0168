import { pipelineError } from '../errors.js';
import { supportedFormats, writesFormat } from '../image/formats.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { findOperation, OPERATIONS } from '../ops/index.js';
import { checkValue, showValue, type ParamSpec } from '../ops/params.js';
import { INPUT_PARAMS, MAX_EFFORT, OUTPUT_PARAMS, type InputSpec, type OutputSpec, type PipelineSpec, type StepSpec, type ValidPipeline, type ValidStep } from './spec.js';

/**
 * Checks a whole pipeline before any pixel is decoded and fills in defaults. Every problem is
 * reported at once, each naming the step, the field and the bad value:
 * `steps[2].sigma: expected a number from 0.3 to 100, got -1`.
 */
export function validatePipeline(input: unknown, limits: Pick<Limits, 'maxSteps'> = DEFAULT_LIMITS): ValidPipeline {
  const problems: string[] = [];
  if (!isObject(input)) throw pipelineError(`pipeline: expected an object like {"steps": [...]}, got ${showValue(input)}`);
  for (const key of Object.keys(input)) {
    if (key !== 'steps' && key !== 'output' && key !== 'input') problems.push(`${key}: unknown field (a pipeline has input, steps and output)`);
  }
  const rawSteps = input.steps ?? [];
  if (!Array.isArray(rawSteps)) throw pipelineError(`steps: expected a list of steps, got ${showValue(rawSteps)}`);
  if (rawSteps.length > limits.maxSteps) {
    problems.push(`steps: ${rawSteps.length} steps is over the limit of ${limits.maxSteps}`);
  }

  const steps: ValidStep[] = [];
  rawSteps.forEach((raw, index) => {
    const where = `steps[${index}]`;
    if (!isObject(raw)) {
      problems.push(`${where}: expected an object like {"op": "blur", "sigma": 2}, got ${showValue(raw)}`);
      return;
    }
    if ('preset' in raw && !('op' in raw)) {
      problems.push(`${where}: preset ${showValue(raw.preset)} is not known here (presets are given with --presets)`);
      return;
    }
    const op = typeof raw.op === 'string' ? findOperation(raw.op) : undefined;
    if (!op) {
      problems.push(`${where}.op: unknown operation ${showValue(raw.op)} (known: ${OPERATIONS.map((o) => o.name).join(', ')})`);
      return;
    }
    const { op: _name, ...given } = raw;
    const params = checkParams(op.params, given, where, op.name, problems);
    if (!params) return;
    const broken = op.check?.(params);
    if (broken) {
      problems.push(`${where}.${broken[0]}: ${broken[1]}`);
      return;
    }
    if (op.kind === 'analysis' && op.fromSource && rawSteps.length !== 1) {
      problems.push(`${where}: ${op.name} reads the image file itself, so it must be the only step`);
    } else if (op.kind === 'analysis' && index !== rawSteps.length - 1) {
      problems.push(`${where}: ${op.name} yields data, not an image, so it must be the last step`);
    }
    steps.push({ op, params });
  });

  const output = input.output === undefined ? {} : input.output;
  let validOutput: OutputSpec = {};
  if (!isObject(output)) {
    problems.push(`output: expected an object like {"format": "webp", "quality": 80}, got ${showValue(output)}`);
  } else {
    validOutput = (checkParams(OUTPUT_PARAMS, output, 'output', 'output', problems) ?? {}) as OutputSpec;
    const most = validOutput.format === undefined || validOutput.format === 'auto' ? undefined : MAX_EFFORT[validOutput.format];
    if (most !== undefined && validOutput.effort !== undefined && validOutput.effort > most) {
      problems.push(`output.effort: expected an integer from 0 to ${most} for ${validOutput.format}, got ${validOutput.effort}`);
    }
    if (validOutput.format !== undefined && validOutput.format !== 'auto' && !writesFormat(validOutput.format)) {
      problems.push(`output.format: the libvips of this build does not write ${validOutput.format} (it writes ${supportedFormats().write.join(', ')})`);
    }
  }

  let validInput: InputSpec = {};
  if (input.input !== undefined) {
    if (!isObject(input.input)) problems.push(`input: expected an object like {"density": 144}, got ${showValue(input.input)}`);
    else validInput = (checkParams(INPUT_PARAMS, input.input, 'input', 'input', problems) ?? {}) as InputSpec;
  }

  if (problems.length > 0) throw pipelineError(problems.join('; '));
  const spec: PipelineSpec = { steps: steps.map((s) => ({ op: s.op.name, ...s.params }) as StepSpec) };
  if (Object.keys(validInput).length > 0) spec.input = validInput;
  if (Object.keys(validOutput).length > 0) spec.output = validOutput;
  const last = steps[steps.length - 1];
  return { ...(spec.input ? { input: validInput } : {}), steps, output: validOutput, spec, yieldsData: last?.op.kind === 'analysis' };
}

function checkParams(
  declared: ParamSpec, given: Record<string, unknown>, where: string, owner: string, problems: string[],
): Record<string, unknown> | undefined {
  const before = problems.length;
  const params: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    if (!(key in declared)) {
      const known = Object.keys(declared);
      problems.push(`${where}.${key}: unknown parameter for ${owner}${known.length ? ` (known: ${known.join(', ')})` : ' (it takes none)'}`);
    }
  }
  for (const [name, param] of Object.entries(declared)) {
    const value = given[name];
    if (value === undefined || value === null) {
      if (param.default !== undefined) params[name] = param.default;
      else if (param.required) problems.push(`${where}.${name}: required`);
      continue;
    }
    const result = checkValue(param, value);
    if (result.ok) params[name] = result.value;
    else problems.push(`${where}.${name}: expected ${result.expected}, got ${showValue(value)}`);
  }
  return problems.length === before ? params : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
