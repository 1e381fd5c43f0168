import { Zip, ZipPassThrough } from 'fflate';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

/** One entry of an archive: a file read as it is sent, or a few bytes made here. */
export type ZipEntry = { name: string; path: string } | { name: string; bytes: Uint8Array };

/**
 * A zip of the entries (stored, not recompressed: images are compressed already), made as the
 * client reads it: a file is read one chunk at a time, and the next chunk only when the client
 * has taken the last, so a slow reader costs a chunk of memory, not the archive.
 */
export function zipStream(entries: Iterable<ZipEntry>): Readable {
  return Readable.from(zipChunks(entries), { objectMode: false });
}

async function* zipChunks(entries: Iterable<ZipEntry>): AsyncGenerator<Uint8Array> {
  const ready: Uint8Array[] = [];
  let failure: Error | undefined;
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else ready.push(chunk);
  });
  const drain = function* (): Generator<Uint8Array> {
    if (failure) throw failure;
    while (ready.length > 0) yield ready.shift()!;
  };
  for (const entry of entries) {
    const file = new ZipPassThrough(entry.name);
    zip.add(file);
    if ('bytes' in entry) {
      file.push(entry.bytes, true);
      yield* drain();
      continue;
    }
    for await (const chunk of createReadStream(entry.path)) {
      file.push(chunk as Buffer);
      yield* drain();
    }
    file.push(new Uint8Array(0), true);
    yield* drain();
  }
  zip.end();
  yield* drain();
}
