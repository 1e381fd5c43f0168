import { Command } from 'commander';
import { operationSchemas, operationsText, outputSchema } from '../../ops/describe.js';

export function opsCommand(): Command {
  return new Command('ops')
    .description('list every operation with its parameters, defaults and ranges, and the pipeline syntax')
    .option('--json', 'print the JSON Schema of each operation instead')
    .action((options: { json?: boolean }) => {
      if (options.json) process.stdout.write(`${JSON.stringify({ operations: operationSchemas(), output: outputSchema() }, null, 2)}\n`);
      else process.stdout.write(operationsText());
    });
}
