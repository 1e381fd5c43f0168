import { setFlagsFromString } from 'node:v8';

/**
 * For a command that runs once and exits (run, process, histogram, info): V8 waits eight times
 * longer (its interrupt budget) before it optimises a function with TurboFan, in this thread and
 * the pool's. The work is in libvips, libjpeg-turbo and WebAssembly; most JavaScript around it is
 * glue that TurboFan would compile on helper threads for more CPU than it saves in a batch,
 * while the loops over pixels (greyscale, text, counts) still run long enough to be optimised.
 * Measured in bench/README.md; turning TurboFan off altogether doubled the cost of those loops.
 * A cluster's submitter too: it is all glue around queue commands, and V8's helper threads spent
 * 0.07 ms of CPU per image of a 3,000-image batch on it, 0.02 with the larger budget. Servers
 * and workers, which run long, keep V8's default.
 */
export function tuneForOneShot(): void {
  setFlagsFromString('--interrupt-budget=1048576');
}
