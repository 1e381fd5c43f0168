import type { Limits } from '../limits.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import type { Source as StoredSource } from '../sources/source-store.js';
import type { TilingChoice } from '../tiling/choose.js';
import type { TileEvent } from '../tiling/run-tiled.js';
import type { ObjectSink, ObjectSource, Priority, Sink, Source } from '../task/task.js';

/** An image from a source store (image URLs): known by its digest, read only when computed. */
export interface StoreSource {
  kind: 'store';
  source: StoredSource;
}

/** One image someone asks for: the runner turns it into the task an engine runs, or a cache hit. */
export interface ImageRequest {
  source: Extract<Source, { kind: 'file' | 'bytes' }> | ObjectSource | StoreSource;
  /** With its output format decided (`output:auto` negotiated). */
  pipeline: ValidPipeline;
  sink: Extract<Sink, { kind: 'file' | 'bytes' | 'none' }> | ObjectSink;
  priority: Priority;
  /** Tiles for this image; none: the runner's choice. */
  tiling?: TilingChoice;
  /** Tighter limits for this image than the runner's. */
  limits?: Partial<Limits>;
  /** Progress of an image that runs as tiles. */
  onTile?: (event: TileEvent) => void;
  /** Logos sent with the request, by the names its watermark steps give (see Task.assets). */
  assets?: Record<string, Extract<Source, { kind: 'file' | 'bytes' }>>;
  /** Aborted when nobody waits for the result any more (the client went away): its work stops. */
  signal?: AbortSignal;
}
