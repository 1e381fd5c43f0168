import { Command, CommanderError } from 'commander';
import { readEnvironment, type Environment } from '../config.js';
import { ImgfleetError } from '../errors.js';
import { healthCommand } from './commands/health.js';
import { histogramCommand } from './commands/histogram.js';
import { infoCommand } from './commands/info.js';
import { loadtestCommand } from './commands/loadtest.js';
import { opsCommand } from './commands/ops.js';
import { processCommand } from './commands/process.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { signCommand } from './commands/sign.js';
import { workerCommand } from './commands/worker.js';
import { workersCommand } from './commands/workers.js';
import { oneLine } from './summary.js';
import type { CommandContext } from './usage.js';
import { packageVersion } from './version.js';

/** The whole CLI; each command's action loads what it needs only when it runs. */
export function buildProgram(context: CommandContext): Command {
  const program = new Command('imgfleet')
    .description('imgfleet: fast, exact image pipelines on one machine or many')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`imgfleet: ${text.replace(/^error: /, '')}`) });
  const commands = [runCommand, processCommand, histogramCommand, infoCommand, opsCommand, workerCommand, workersCommand, serveCommand, healthCommand, signCommand, loadtestCommand];
  for (const command of commands) program.addCommand(command(context).exitOverride());
  return program;
}

const USAGE_CODES = new Set(['BAD_USAGE', 'BAD_PIPELINE', 'NOT_TILEABLE', 'REDIS_UNAVAILABLE', 'STORE_UNAVAILABLE']);

/**
 * Runs the CLI and returns its exit status: 0 done, 1 some work failed, 2 bad usage (arguments,
 * pipeline, inputs not found, a cluster that cannot be reached). Every error is one line.
 */
export async function main(argv: string[], env?: Environment): Promise<number> {
  const result = { code: 0 };
  try {
    await buildProgram({ env: env ?? readEnvironment(), result }).parseAsync(argv);
    return result.code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    console.error(oneLine(`imgfleet: ${error instanceof Error ? error.message : String(error)}`));
    return error instanceof ImgfleetError && USAGE_CODES.has(error.code) ? 2 : 1;
  }
}
