import { availableParallelism } from 'node:os';

/**
 * sharp runs each libvips pipeline on libuv's thread pool, which is shared by every worker
 * thread and sized once, at its first use, from UV_THREADPOOL_SIZE (default 4). One pool
 * thread per image in flight plus room for file I/O: cores + 2. Import this module first.
 */
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism() + 2));
