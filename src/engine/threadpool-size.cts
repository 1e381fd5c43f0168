/*
 * The size of libuv's thread pool, where sharp starts each libvips pipeline: four threads a core,
 * so that the local engine can keep four small images a core under way when their work is all in
 * libvips (it fills the pool, less two threads for file I/O; see local-engine.ts), capped at 128.
 * The pool is shared by every worker thread and sized once, at its first use, from
 * UV_THREADPOOL_SIZE (default 4). An ES module entry has used it by the time its code runs
 * (modules are read through it), so this is CommonJS, required first by the command line's entry
 * (bin/imgfleet.js) and preloaded for the demo (`node -r`). A size set in the environment stays.
 */
import { availableParallelism } from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.min(128, Math.max(4, availableParallelism() * 4 + 2)));
