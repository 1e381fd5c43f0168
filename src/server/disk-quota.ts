import { ImgfleetError } from '../errors.js';
import { formatBytes } from '../limits.js';

/**
 * Bytes the jobs keep on disk (uploads, results, previews), per job and in total: a job that
 * would pass either limit fails with STORAGE_FULL (507) instead of filling the disk, and a job
 * gives its bytes back when it is deleted or expires.
 */
export class DiskQuota {
  private readonly byJob = new Map<string, number>();
  private total = 0;

  constructor(readonly perJob: number, readonly limit: number) {}

  get used(): number {
    return this.total;
  }

  /** Counts `bytes` more for `job`, or throws STORAGE_FULL, counting nothing, when they do not fit. */
  add(job: string, bytes: number): void {
    const mine = this.byJob.get(job) ?? 0;
    if (mine + bytes > this.perJob) {
      throw new ImgfleetError('STORAGE_FULL', `this job's files would pass its limit of ${formatBytes(this.perJob)} on the server's disk: send fewer or smaller images, or choose a smaller result`);
    }
    if (this.total + bytes > this.limit) {
      throw new ImgfleetError('STORAGE_FULL', `the server's disk space for jobs (${formatBytes(this.limit)}) is full: download or delete finished jobs, or retry when they expire`);
    }
    this.byJob.set(job, mine + bytes);
    this.total += bytes;
  }

  /** Gives back everything `job` held. */
  release(job: string): void {
    this.total -= this.byJob.get(job) ?? 0;
    this.byJob.delete(job);
  }
}
