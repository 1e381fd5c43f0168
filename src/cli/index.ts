import '../engine/threadpool-size.js';
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { ImgfleetError } from '../errors.js';
import { healthCommand } from './commands/health.js';
import { histogramCommand } from './commands/histogram.js';
import { loadtestCommand } from './commands/loadtest.js';
import { opsCommand } from './commands/ops.js';
import { processCommand } from './commands/process.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { signCommand } from './commands/sign.js';
import { workerCommand } from './commands/worker.js';
import { workersCommand } from './commands/workers.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('imgfleet')
    .description('imgfleet: fast, exact image pipelines on one machine or many')
    .version(version)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`imgfleet: ${text.replace(/^error: /, '')}`) });
  for (const command of [runCommand(), processCommand(), histogramCommand(), opsCommand(), workerCommand(), workersCommand(), serveCommand(), signCommand(), loadtestCommand(), healthCommand()]) {
    program.addCommand(command.exitOverride());
  }
  return program;
}

/** Exit status: 0 done, 1 some work failed, 2 bad usage (arguments, pipeline, inputs not found). */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    const usage = error instanceof ImgfleetError && (error.code === 'BAD_USAGE' || error.code === 'BAD_PIPELINE' || error.code === 'NOT_TILEABLE');
    console.error(`imgfleet: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = usage ? 2 : 1;
  }
}

await main(process.argv);
