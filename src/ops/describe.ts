import { INPUT_PARAMS, INPUT_POSITIONAL, OUTPUT_PARAMS, OUTPUT_POSITIONAL } from '../pipeline/spec.js';
import { OPERATIONS } from './index.js';
import { describeRange, paramJsonSchema, type ParamSpec } from './params.js';

/** JSON Schema of one step of each operation, keyed by name: for the HTTP API and tooling. */
export function operationSchemas(): Record<string, Record<string, unknown>> {
  return Object.fromEntries(OPERATIONS.map((op) => [op.name, {
    title: op.label,
    description: op.summary,
    kind: op.kind,
    positional: op.positional ?? [],
    ...objectSchema(op.params, { op: { const: op.name } }, ['op']),
  }]));
}

export function outputSchema(): Record<string, unknown> {
  return objectSchema(OUTPUT_PARAMS, {}, []);
}

export function inputSchema(): Record<string, unknown> {
  return objectSchema(INPUT_PARAMS, {}, []);
}

function objectSchema(params: ParamSpec, extra: Record<string, unknown>, required: string[]): Record<string, unknown> {
  const properties = { ...extra, ...Object.fromEntries(Object.entries(params).map(([k, p]) => [k, paramJsonSchema(p)])) };
  const req = [...required, ...Object.entries(params).filter(([, p]) => p.required).map(([k]) => k)];
  return { type: 'object', additionalProperties: false, properties, required: req };
}

export const COMPACT_SYNTAX_HELP = `Pipeline syntax
  JSON:     {"steps":[{"op":"resize","width":512,"height":512,"fit":"fill"},{"op":"blur","sigma":2}],
             "output":{"format":"webp","quality":80}}
  compact:  resize:512:512:fit=fill,blur:2,output:webp:80
            input:144,resize:512 draws an SVG input at 144 dpi ({"input":{"density":144}, …} in JSON)
            steps are separated by ",", arguments by ":"; an argument is name=value, or just the value
            for the parameters marked (1), (2), … in order. Percent-escapes write "," ":" "=" "%"
            inside a value: watermark:text=Hello%2C world
  file:     -p @pipeline.json (JSON or compact inside)`;

/** The text of `imgfleet ops`: every operation with its parameters, defaults and ranges. */
export function operationsText(): string {
  const blocks = OPERATIONS.map((op) => {
    const role = op.kind !== 'analysis' ? '' : op.fromSource ? ' (analysis: reads the file, the only step)' : ' (analysis: yields data, must be last)';
    const lines = [`${op.name} — ${op.label}${role}`, `  ${op.summary}`];
    lines.push(...paramLines(op.params, op.positional ?? []));
    return lines.join('\n');
  });
  blocks.push(['input', '  How the input is read (compact: input:<density>)', ...paramLines(INPUT_PARAMS, INPUT_POSITIONAL)].join('\n'));
  blocks.push(['output', '  Output settings (compact: output:<format>:<quality>:<effort>)', ...paramLines(OUTPUT_PARAMS, OUTPUT_POSITIONAL)].join('\n'));
  return `${blocks.join('\n\n')}\n\n${COMPACT_SYNTAX_HELP}\n`;
}

function paramLines(params: ParamSpec, positional: readonly string[]): string[] {
  return Object.entries(params).map(([name, p]) => {
    const slot = positional.indexOf(name);
    const label = `${name}${slot >= 0 ? ` (${slot + 1})` : ''}`;
    const dflt = p.default !== undefined ? `default ${p.default}` : p.required ? 'required' : 'optional';
    return `    ${label.padEnd(16)} ${describeRange(p).padEnd(34)} ${dflt.padEnd(20)} ${p.label}: ${p.description}`;
  });
}

/** The operations table of the README and docs/operations.md, made from the registry. */
export function operationsMarkdown(): string {
  const rows = OPERATIONS.map((op) => {
    const params = Object.entries(op.params).map(([name, p]) => {
      const dflt = p.default !== undefined ? ` = ${p.default}` : p.required ? ' (required)' : '';
      return `\`${name}\` ${describeRange(p).replace(/\|/g, '\\|')}${dflt}`;
    }).join('<br>');
    return `| \`${op.name}\` | ${op.summary.replace(/\|/g, '\\|')} | ${params || '—'} | ${(op.positional ?? []).join(', ') || '—'} |`;
  });
  const output = Object.entries(OUTPUT_PARAMS).map(([name, p]) => `\`${name}\` ${describeRange(p).replace(/\|/g, '\\|')}`).join('<br>');
  const input = Object.entries(INPUT_PARAMS).map(([name, p]) => `\`${name}\` ${describeRange(p).replace(/\|/g, '\\|')}: ${p.description}`).join('<br>');
  return ['| op | what it does | parameters (range = default) | compact positional order |', '|---|---|---|---|', ...rows,
    `| \`input\` | how the input is read | ${input} | ${INPUT_POSITIONAL.join(', ')} |`,
    `| \`output\` | output settings | ${output} | ${OUTPUT_POSITIONAL.join(', ')} |`].join('\n');
}
