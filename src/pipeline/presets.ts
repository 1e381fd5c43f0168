/**
 * Presets: named pipelines from a JSON file (`--presets presets.json` or IMGFLEET_PRESETS),
 * used as `preset:NAME` in the compact syntax or `{ "preset": "NAME" }` as a step in JSON, alone
 * or with further steps. They are expanded before validation, so what runs anywhere (a pool
 * thread, a cluster worker, the result cache's key) is the plain pipeline.
 *
 *   { "thumb": "resize:200:200:fit=cover,output:webp:75",
 *     "card": { "steps": [{ "op": "resize", "width": 800 }, { "op": "sharpen" }] } }
 */
import { readFile } from 'node:fs/promises';
import { ImgfleetError, pipelineError } from '../errors.js';
import { parsePipelineText } from './load.js';
import type { OutputSpec, PipelineSpec } from './spec.js';

export type Presets = ReadonlyMap<string, PipelineSpec>;

export const NO_PRESETS: Presets = new Map();

/** A preset's name: letters, digits, `-` and `_`, as URLs carry them unescaped. */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Reads a presets file. Each preset is checked with `check` (the pipeline validator, given by
 * the caller) and may not name another preset; a mistake names the preset and the field.
 */
export async function loadPresets(path: string, check: (spec: unknown) => PipelineSpec): Promise<Presets> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ImgfleetError('BAD_USAGE', `presets file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'cannot be read'}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ImgfleetError('BAD_USAGE', `presets file ${path}: not JSON (${(error as Error).message})`);
  }
  if (!isObject(raw)) throw new ImgfleetError('BAD_USAGE', `presets file ${path}: expected an object of named pipelines, like {"thumb": "resize:200,output:webp"}`);
  const presets = new Map<string, PipelineSpec>();
  for (const [name, value] of Object.entries(raw)) {
    if (!NAME.test(name)) throw new ImgfleetError('BAD_USAGE', `presets file ${path}: "${name}" is not a preset name (letters, digits, - and _)`);
    try {
      const spec = typeof value === 'string' ? parsePipelineText(value) : value;
      if (hasPresetStep(spec)) throw pipelineError('a preset cannot use another preset');
      presets.set(name, check(spec));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ImgfleetError('BAD_USAGE', `presets file ${path}: ${name}: ${message}`);
    }
  }
  return presets;
}

/**
 * The pipeline with its preset steps replaced by the presets' steps, in place; a preset's output
 * settings come first, and the pipeline's own `output` overrides them. Anything that is not a
 * pipeline with preset steps is returned as it is, for the validator to judge.
 */
export function expandPresets(input: unknown, presets: Presets): unknown {
  if (!isObject(input) || !Array.isArray(input.steps) || !input.steps.some(isPresetStep)) return input;
  const steps: unknown[] = [];
  let output: OutputSpec = {};
  const problems: string[] = [];
  input.steps.forEach((step, index) => {
    if (!isPresetStep(step)) {
      steps.push(step);
      return;
    }
    const { preset: name, ...rest } = step as { preset: unknown };
    const preset = typeof name === 'string' ? presets.get(name) : undefined;
    if (Object.keys(rest).length > 0) problems.push(`steps[${index}]: a preset step takes only its name ({"preset": "NAME"})`);
    else if (!preset) problems.push(`steps[${index}].preset: unknown preset ${JSON.stringify(name)} (${presets.size > 0 ? `known: ${[...presets.keys()].join(', ')}` : 'this has no presets: give --presets'})`);
    else {
      steps.push(...preset.steps);
      output = { ...output, ...preset.output };
    }
  });
  if (problems.length > 0) throw pipelineError(problems.join('; '));
  const merged = { ...output, ...(isObject(input.output) ? input.output : {}) };
  return { ...input, steps, ...(Object.keys(merged).length > 0 ? { output: merged } : {}) };
}

/** Whether a pipeline as written uses presets and nothing else (no other step, no output): what --presets-only allows. */
export function onlyPresets(input: unknown): boolean {
  return isObject(input) && Array.isArray(input.steps) && input.steps.length > 0 && input.steps.every(isPresetStep) && input.output === undefined;
}

function hasPresetStep(input: unknown): boolean {
  return isObject(input) && Array.isArray(input.steps) && input.steps.some(isPresetStep);
}

function isPresetStep(step: unknown): boolean {
  return isObject(step) && 'preset' in step && !('op' in step);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
