/**
 * How a long-running command (a worker, a server) ends: the first SIGTERM or Ctrl-C stops it
 * gracefully, within a limit; a second one, or the limit passing, ends the process at once.
 * This is the one place that calls process.exit: a graceful stop that cannot finish must not
 * keep a process alive.
 */
export async function untilStopped(stop: (signal: string) => Promise<void>, options: { limitMs: number; log: (line: string) => void }): Promise<void> {
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        options.log(`${signal} again: exiting now`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      stopping = true;
      const started = performance.now();
      const deadline = setTimeout(() => {
        options.log(`could not stop within ${Math.round(options.limitMs / 1000)} s (${((performance.now() - started) / 1000).toFixed(1)} s passed): exiting now`);
        process.exit(1);
      }, options.limitMs);
      deadline.unref();
      void stop(signal).catch((error: unknown) => options.log(`while stopping: ${error instanceof Error ? error.message : String(error)}`)).finally(() => {
        clearTimeout(deadline);
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Ends the process at once on SIGTERM or Ctrl-C while a long-running command is still starting (there is nothing to drain yet). */
export function exitOnSignalWhileStarting(log: (line: string) => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal} while starting: exiting`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
