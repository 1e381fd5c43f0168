/**
 * The small schema language operations declare their parameters in. One declaration gives
 * defaults, validation with messages that name the field and the bad value, JSON Schema for
 * the HTTP API, and the text of `imgfleet ops`.
 */
import { parseColor } from '../image/color.js';

interface ParamBase {
  /** A short name for people, as forms show it ("Radius (σ)" for sigma). */
  label: string;
  /** What it does, in words a person acts on; the CLI, the API's schema and the page show it. */
  description: string;
  /** Must be given (only for parameters without a default). */
  required?: boolean;
}

export interface NumberParam extends ParamBase {
  type: 'number' | 'integer';
  default?: number;
  min?: number;
  max?: number;
  /** The value must be strictly greater than min. */
  exclusiveMin?: boolean;
}

export interface EnumParam extends ParamBase {
  type: 'enum';
  values: readonly string[];
  default?: string;
}

export interface BooleanParam extends ParamBase {
  type: 'boolean';
  default?: boolean;
}

export interface StringParam extends ParamBase {
  type: 'string';
  default?: string;
  maxLength?: number;
}

export interface ColorParam extends ParamBase {
  type: 'color';
  default?: string;
  /** Accept the word `none`. */
  allowNone?: boolean;
}

export type Param = NumberParam | EnumParam | BooleanParam | StringParam | ColorParam;
export type ParamSpec = Record<string, Param>;

/** Returns an error message for one field, or the value with its type settled. */
type FieldResult = { ok: true; value: unknown } | { ok: false; expected: string };

export function checkValue(param: Param, value: unknown): FieldResult {
  switch (param.type) {
    case 'number':
    case 'integer': {
      const expected = describeNumber(param);
      if (typeof value !== 'number' || !Number.isFinite(value)) return { ok: false, expected };
      if (param.type === 'integer' && !Number.isInteger(value)) return { ok: false, expected };
      if (param.min !== undefined && (param.exclusiveMin ? value <= param.min : value < param.min)) return { ok: false, expected };
      if (param.max !== undefined && value > param.max) return { ok: false, expected };
      return { ok: true, value };
    }
    case 'enum':
      return typeof value === 'string' && param.values.includes(value)
        ? { ok: true, value }
        : { ok: false, expected: `one of ${param.values.join(', ')}` };
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false, expected: 'true or false' };
    case 'string': {
      const limit = param.maxLength ?? 1000;
      return typeof value === 'string' && value.length > 0 && value.length <= limit
        ? { ok: true, value }
        : { ok: false, expected: `a non-empty string of at most ${limit} characters` };
    }
    case 'color': {
      const expected = `a colour like #ff8800, #f80, #ff880080 or a name (white, black, red, …)${param.allowNone ? ', or none' : ''}`;
      if (typeof value !== 'string') return { ok: false, expected };
      if (param.allowNone && value === 'none') return { ok: true, value };
      return parseColor(value) ? { ok: true, value } : { ok: false, expected };
    }
  }
}

export function describeNumber(param: NumberParam): string {
  const kind = param.type === 'integer' ? 'an integer' : 'a number';
  const { min, max } = param;
  if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
  if (min !== undefined) return `${kind} ${param.exclusiveMin ? '>' : '≥'} ${min}`;
  if (max !== undefined) return `${kind} ≤ ${max}`;
  return kind;
}

export function describeRange(param: Param): string {
  switch (param.type) {
    case 'number':
    case 'integer': {
      const { min, max } = param;
      const lo = min === undefined ? '' : `${param.exclusiveMin ? '>' : ''}${min}`;
      const hi = max === undefined ? '' : String(max);
      return lo || hi ? `${lo}..${hi}` : param.type;
    }
    case 'enum': return param.values.join('|');
    case 'boolean': return 'true|false';
    case 'string': return 'text';
    case 'color': return param.allowNone ? 'colour|none' : 'colour';
  }
}

/** Renders a value the way users write it, for messages. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}

/** JSON Schema (draft 7) of one parameter, for the HTTP API. */
export function paramJsonSchema(param: Param): Record<string, unknown> {
  const base: Record<string, unknown> = { title: param.label, description: param.description };
  if (param.default !== undefined) base.default = param.default;
  switch (param.type) {
    case 'number':
    case 'integer':
      return {
        ...base, type: param.type,
        ...(param.min !== undefined ? { [param.exclusiveMin ? 'exclusiveMinimum' : 'minimum']: param.min } : {}),
        ...(param.max !== undefined ? { maximum: param.max } : {}),
      };
    case 'enum': return { ...base, type: 'string', enum: [...param.values] };
    case 'boolean': return { ...base, type: 'boolean' };
    case 'string': return { ...base, type: 'string', minLength: 1, maxLength: param.maxLength ?? 1000 };
    case 'color': return { ...base, type: 'string', format: 'color' };
  }
}

/** Reads a compact-syntax text value as the parameter's type (numbers and booleans). */
export function coerceText(param: Param, text: string): unknown {
  if (param.type === 'number' || param.type === 'integer') {
    const n = Number(text);
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
  if (param.type === 'boolean') {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
  }
  return text;
}
