import { setFlagsFromString } from 'node:v8';

/**
 * For a command that runs once and exits (run, process, histogram, info): V8 stops optimising
 * JavaScript with TurboFan, in this thread and the pool's. The work is in libvips, libjpeg-turbo
 * and WebAssembly; the JavaScript around it is glue that TurboFan compiles on helper threads for
 * more CPU than it ever saves in a batch (measured in bench/README.md: 12 % less CPU for 1,000
 * small thumbnails, the same for 8,091). Servers and workers, which run for days, keep it, and so
 * does a cluster's submitter, whose own work is that JavaScript (the queue, the Redis protocol).
 */
export function tuneForOneShot(): void {
  setFlagsFromString('--no-opt');
}
