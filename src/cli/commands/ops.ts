import { Command } from 'commander';
import type { CommandContext } from '../usage.js';

export function opsCommand(_context: CommandContext): Command {
  return new Command('ops')
    .description('list every operation with its parameters, defaults and ranges, the pipeline syntax, and the formats this build reads and writes')
    .option('--json', 'print the JSON Schema of each operation instead')
    .action(async (options: { json?: boolean }) => {
      const [{ inputSchema, operationSchemas, operationsText, outputSchema }, { formatsText, supportedFormats }] = await Promise.all([
        import('../../ops/describe.js'), import('../../image/formats.js'),
      ]);
      if (options.json) process.stdout.write(`${JSON.stringify({ operations: operationSchemas(), input: inputSchema(), output: outputSchema(), formats: supportedFormats() }, null, 2)}\n`);
      else process.stdout.write(`${operationsText()}\n${formatsText()}`);
    });
}
