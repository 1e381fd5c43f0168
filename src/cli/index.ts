// Sizes libuv's thread pool before anything can start it.
import '../engine/threadpool-size.js';
import { main } from './program.js';

process.exitCode = await main(process.argv);
// The command is over. A connection still retrying an unreachable Redis must not keep the
// process alive; writes to a terminal, a pipe or a file are done by now (they are synchronous on Linux).
setTimeout(() => process.exit(), 500).unref();
