import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ImgfleetError } from '../errors.js';
import type { Lane } from '../pipeline/lane.js';
import { AUTO_FORMAT, type PipelineSpec } from '../pipeline/spec.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * The content address of a result: SHA-256 over the source's bytes (its digest, in hex), the
 * normalised pipeline (with its output format already negotiated), the lane that makes it
 * (lanes may differ in pixels) and the imgfleet version, whose outputs may differ from
 * another's. Equal addresses mean equal results, so it serves as the ETag too.
 */
export function resultKeyOf(sourceDigest: string, spec: PipelineSpec, lane: Lane | string): string {
  if (spec.output?.format === AUTO_FORMAT) throw new ImgfleetError('INTERNAL', 'output format auto must be negotiated before the result key is made');
  return sha256Hex(`imgfleet ${version}\n${sourceDigest}\n${lane}\n${canonicalJson(spec)}`);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with every object's keys sorted, so equal specs give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
