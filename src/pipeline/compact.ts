/**
 * The compact pipeline syntax, one-to-one with the JSON form:
 *
 *   resize:512:512:fit=fill,blur:2,watermark:imgfleet:opacity=0.4,output:webp:80
 *
 * Steps are separated by `,`; a step is the operation's name followed by `:`-separated
 * arguments, each `name=value` or, in the operation's positional order, just the value.
 * `output:<format>:<quality>:<effort>` (or `output:format=…:quality=…:effort=…`) sets the output,
 * `input:<density>` (or `input:density=…`) how the input is read;
 * `preset:NAME` stands for a named pipeline's steps (see presets.ts). Values are
 * percent-decoded, so `%2C`, `%3A`, `%3D` and `%25` write `,` `:` `=` and `%` inside a text.
 */
import { pipelineError } from '../errors.js';
import { findOperation } from '../ops/index.js';
import { coerceText, type Param, type ParamSpec } from '../ops/params.js';
import { INPUT_PARAMS, INPUT_POSITIONAL, OUTPUT_PARAMS, OUTPUT_POSITIONAL, type PipelineSpec, type StepSpec } from './spec.js';

export function parseCompact(text: string): PipelineSpec {
  const spec: PipelineSpec = { steps: [] };
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw pipelineError('pipeline: empty; write steps like resize:800,sharpen or give JSON');
  parts.forEach((part, index) => {
    const [name, ...args] = part.split(':');
    const where = `step ${index + 1} (${name})`;
    if (name === 'output') {
      spec.output = readArgs(args, OUTPUT_PARAMS, OUTPUT_POSITIONAL, where) as PipelineSpec['output'];
      return;
    }
    if (name === 'input') {
      spec.input = readArgs(args, INPUT_PARAMS, INPUT_POSITIONAL, where) as PipelineSpec['input'];
      return;
    }
    if (name === 'preset') {
      // Expanded before validation (see presets.ts); `preset:thumb` or `preset:name=thumb`.
      const [arg = ''] = args;
      spec.steps.push({ preset: decode(arg.startsWith('name=') ? arg.slice(5) : arg, where) } as unknown as StepSpec);
      if (args.length > 1) throw pipelineError(`${where}: a preset step takes only its name, like preset:thumb`);
      return;
    }
    const op = findOperation(name);
    // Unknown names pass through so the validator reports them with the list of known ones.
    const step: StepSpec = { op: name, ...(op ? readArgs(args, op.params, op.positional ?? [], where) : rawArgs(args)) };
    spec.steps.push(step);
  });
  return spec;
}

function readArgs(args: string[], declared: ParamSpec, positional: readonly string[], where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let next = 0;
  for (const arg of args) {
    const eq = arg.indexOf('=');
    let name: string;
    let text: string;
    if (eq >= 0) {
      name = decode(arg.slice(0, eq), where);
      text = arg.slice(eq + 1);
    } else {
      if (next >= positional.length) {
        throw pipelineError(`${where}: too many unnamed values at "${arg}"; name it, like key=${arg}`);
      }
      name = positional[next++];
      text = arg;
    }
    const param: Param | undefined = declared[name];
    const value = decode(text, where);
    out[name] = param ? coerceText(param, value) : value;
  }
  return out;
}

function rawArgs(args: string[]): Record<string, unknown> {
  return Object.fromEntries(args.map((arg, i) => {
    const eq = arg.indexOf('=');
    return eq >= 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [`arg${i + 1}`, arg];
  }));
}

function decode(text: string, where: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw pipelineError(`${where}: bad percent-escape in "${text}"`);
  }
}

/**
 * Writes a (normalised) pipeline in the compact syntax; parseCompact reads it back to the same
 * JSON. With `omitDefaults`, parameters at their default are left out: shorter, same meaning.
 */
export function formatCompact(spec: PipelineSpec, options: { omitDefaults?: boolean } = {}): string {
  const parts = spec.steps.map((step) => {
    const { op, ...params } = step;
    const defaults = options.omitDefaults ? findOperation(op)?.params : undefined;
    const kept = Object.entries(params).filter(([k, v]) => v !== undefined && !(defaults && defaults[k]?.default === v));
    return [op, ...kept.map(([k, v]) => `${k}=${encode(v)}`)].join(':');
  });
  const inArgs = Object.entries(spec.input ?? {}).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encode(v)}`);
  if (inArgs.length > 0) parts.unshift(['input', ...inArgs].join(':'));
  const output = spec.output ?? {};
  const outArgs = Object.entries(output).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encode(v)}`);
  if (outArgs.length > 0) parts.push(['output', ...outArgs].join(':'));
  return parts.join(',');
}

function encode(value: unknown): string {
  return String(value).replace(/[%,:=/\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}
