import { readFileSync } from 'node:fs';
import { ImgfleetError } from '../errors.js';
import { AUTO_FORMAT, type PipelineSpec } from '../pipeline/spec.js';
import { sha256 } from '../sources/source-store.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * The content address of a result: SHA-256 over the source's bytes, the normalised pipeline
 * (with its output format already negotiated) and the imgfleet version, whose outputs may
 * differ from another's. Equal addresses mean equal results, so it serves as the ETag too.
 */
export function resultKey(input: Uint8Array, spec: PipelineSpec): string {
  return resultKeyOf(sha256(input), spec);
}

/** The same, from the SHA-256 of the source (hex), when it is already known. */
export function resultKeyOf(sourceDigest: string, spec: PipelineSpec): string {
  if (spec.output?.format === AUTO_FORMAT) throw new ImgfleetError('INTERNAL', 'output format auto must be negotiated before the result key is made');
  return sha256(Buffer.from(`imgfleet ${version}\n${sourceDigest}\n${canonicalJson(spec)}`));
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
