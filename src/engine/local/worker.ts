import { hostname } from 'node:os';
import { threadId, workerData } from 'node:worker_threads';
import { AssetLoader, type AssetPolicy } from '../../io/assets.js';
import type { Limits } from '../../limits.js';
import { executeTask, type Place } from '../../task/execute.js';
import { withObjects } from '../../task/object-io.js';
import { localIo } from '../../task/task-io.js';
import { S3Client } from '../../sources/s3/s3-client.js';
import type { S3Settings } from '../../sources/s3/s3-settings.js';
import type { Outcome, Task } from '../../task/task.js';
import { tuneSharpForParallelImages } from '../tuning.js';

/** What every thread of one pool is told when it starts. */
export interface PoolThreadSettings {
  assets: AssetPolicy;
  limits?: Partial<Limits>;
  /** The object store tasks may read and write, when a batch uses one. */
  s3?: S3Settings;
}

tuneSharpForParallelImages();
const settings = workerData as PoolThreadSettings;
const place: Place = {
  worker: `${hostname()}/thread-${threadId}`,
  io: withObjects(localIo(), { store: settings.s3 && new S3Client(settings.s3) }),
  limits: settings.limits,
  assets: new AssetLoader(settings.assets),
};

/** One task on this pool thread. */
export default function run(task: Task): Promise<Outcome> {
  return executeTask(task, place);
}
