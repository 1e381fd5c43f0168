import { packageVersion } from './version.js';

// A reader that stops early (`imgfleet ops | head`) ends the command quietly, as for any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Only the version: answered without loading the commands (60 ms of a 150 ms start).
  process.stdout.write(`${packageVersion()}\n`);
} else {
  const { main } = await import('./program.js');
  process.exitCode = await main(process.argv);
  // The command is over. A connection still retrying an unreachable Redis must not keep the
  // process alive; writes to a terminal, a pipe or a file are done by now (they are synchronous on Linux).
  setTimeout(() => process.exit(), 500).unref();
}
