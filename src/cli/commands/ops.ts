import { Command } from 'commander';
import type { CommandContext } from '../usage.js';

export function opsCommand(_context: CommandContext): Command {
  return new Command('ops')
    .description('list every operation with its parameters, defaults and ranges, and the pipeline syntax')
    .option('--json', 'print the JSON Schema of each operation instead')
    .action(async (options: { json?: boolean }) => {
      const { operationSchemas, operationsText, outputSchema } = await import('../../ops/describe.js');
      if (options.json) process.stdout.write(`${JSON.stringify({ operations: operationSchemas(), output: outputSchema() }, null, 2)}\n`);
      else process.stdout.write(operationsText());
    });
}
