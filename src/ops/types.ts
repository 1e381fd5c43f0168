import type { Frame } from '../image/frame.js';
import type { ParamSpec } from './params.js';

export interface Size {
  width: number;
  height: number;
}

/** What an operation may ask of the engine running it. */
export interface OpContext {
  /** Bytes of a named asset (a logo file), read once and cached by the caller. */
  loadAsset(ref: string): Promise<Buffer>;
}

interface OperationBase<P> {
  name: string;
  summary: string;
  params: ParamSpec;
  /** Parameter names the compact syntax accepts without `name=`, in order. */
  positional?: readonly string[];
  /** Rules between fields; returns [field, message] when broken. */
  check?(params: P): [field: string, message: string] | undefined;
}

export interface ImageOperation<P = any> extends OperationBase<P> {
  kind: 'image';
  /** Output size for a given input size, when the operation changes it (for limit checks). */
  outputSize?(input: Size, params: P): Size;
  apply(frame: Frame, params: P, ctx: OpContext): Promise<Frame>;
}

/** An operation that yields data about the image instead of a new image; it ends a pipeline. */
export interface AnalysisOperation<P = any, R = unknown> extends OperationBase<P> {
  kind: 'analysis';
  analyse(frame: Frame, params: P, ctx: OpContext): Promise<R>;
}

export type Operation = ImageOperation | AnalysisOperation;
