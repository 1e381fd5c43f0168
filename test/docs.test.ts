import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ENVIRONMENT_VARIABLES } from '../src/config.js';
import { operationsDoc, readmeWithTable } from '../src/ops/write-docs.js';
import { ROOT } from './helpers.js';

describe('docs made from the registry', () => {
  it('README.md has the current operations table (run npm run docs)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.equal(readme, readmeWithTable(readme));
  });

  it('docs/operations.md is current (run npm run docs)', () => {
    assert.equal(readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8'), operationsDoc());
  });

  it('the README\'s table of variables lists every one the config reads', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    // The first cell of each row of the table names its variables, each in backticks.
    const listed = new Set([...readme.matchAll(/^\| (`[A-Z][A-Z0-9_]+`(?:, `[A-Z][A-Z0-9_]+`)*) \|/gm)].flatMap((m) => m[1].split(', ').map((name) => name.slice(1, -1))));
    assert.deepEqual(ENVIRONMENT_VARIABLES.filter((name) => !listed.has(name)), []);
  });

  it('the README shows the two Quick start commands', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.match(readme, /npm install && npm start/);
    assert.match(readme, /npm install && npm test/);
  });
});
