import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImgfleetError } from '../errors.js';
import { probe } from '../image/decode.js';
import type { Limits } from '../limits.js';

/** A logo sent with a request (multipart field `logo`), by the name its watermark step gives. */
export interface UploadedLogo {
  name: string;
  bytes: Buffer;
}

export interface HeldLogos {
  /** The path of each logo, by its upload name, for `requestPipeline`. */
  paths: ReadonlyMap<string, string>;
  /** The request or job is done with them; safe to call more than once. */
  release(): void;
}

/** Logos one request may carry. */
export const MAX_LOGOS = 4;

/**
 * Logos sent with requests, kept on disk while a request or job uses them and removed when the
 * last one is done. A logo's file is named by its content, so the result cache (which names a
 * logo by its path) and each pool thread's logo cache see one name per logo, however often it is
 * sent. Workers read the file, so on a cluster they must share the server's data folder, as
 * they share `--assets-dir`.
 */
export class LogoStore {
  private readonly held = new Map<string, { users: number; ready: Promise<void> }>();
  private readonly removals = new Map<string, Promise<void>>();

  constructor(private readonly dir: string, private readonly limits: Limits) {}

  async hold(logos: readonly UploadedLogo[]): Promise<HeldLogos> {
    const paths = new Map<string, string>();
    const taken: string[] = [];
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const digest of taken) this.drop(digest);
    };
    try {
      for (const logo of logos) {
        await this.check(logo);
        const digest = createHash('sha256').update(logo.bytes).digest('hex');
        taken.push(digest);
        await this.take(digest, logo.bytes);
        paths.set(logo.name, this.pathOf(digest));
      }
    } catch (error) {
      release();
      throw error;
    }
    return { paths, release };
  }

  /** A logo must be an image within the input limits; the message names it. */
  private async check(logo: UploadedLogo): Promise<void> {
    try {
      await probe(logo.bytes, this.limits);
    } catch (error) {
      if (error instanceof ImgfleetError) throw new ImgfleetError(error.code, `logo "${logo.name}": ${error.message}`);
      throw error;
    }
  }

  private pathOf(digest: string): string {
    return join(this.dir, `${digest}.logo`);
  }

  private async take(digest: string, bytes: Buffer): Promise<void> {
    let entry = this.held.get(digest);
    if (!entry) {
      // A removal of the same logo still under way finishes first, so it cannot take the new file.
      const ready = (this.removals.get(digest) ?? Promise.resolve()).then(() => this.write(digest, bytes));
      entry = { users: 0, ready };
      this.held.set(digest, entry);
    }
    entry.users++;
    await entry.ready;
  }

  private async write(digest: string, bytes: Buffer): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const temporary = `${this.pathOf(digest)}.${process.pid}.${Date.now().toString(36)}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, this.pathOf(digest));
  }

  private drop(digest: string): void {
    const entry = this.held.get(digest);
    if (!entry || --entry.users > 0) return;
    this.held.delete(digest);
    const removal = entry.ready.catch(() => {}).then(() => rm(this.pathOf(digest), { force: true })).catch(() => {});
    this.removals.set(digest, removal);
    void removal.then(() => { if (this.removals.get(digest) === removal) this.removals.delete(digest); });
  }

  /** Paths of the logos held now (for tests and metrics). */
  heldCount(): number {
    return this.held.size;
  }
}
