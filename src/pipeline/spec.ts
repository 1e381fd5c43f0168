import type { Operation } from '../ops/types.js';
import type { ParamSpec } from '../ops/params.js';

/** Every format imgfleet can write; `jxl` only where libvips was built with it (see src/image/formats.ts). */
export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'tiff', 'gif', 'jxl'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `auto` is chosen per request from its Accept header (see negotiate.ts), before anything runs. */
export const AUTO_FORMAT = 'auto';

/** The output settings, declared like an operation's parameters. */
export const OUTPUT_PARAMS: ParamSpec = {
  format: { type: 'enum', values: [...OUTPUT_FORMATS, AUTO_FORMAT], label: 'Format', description: 'output format (default: the input’s); auto: AVIF or WebP when the HTTP request accepts it, else the input’s' },
  quality: { type: 'integer', min: 1, max: 100, label: 'Quality', description: 'lossy quality, 1 smallest to 100 best (default: jpeg 80, webp 80, avif 50, tiff 80, jxl 75)' },
  effort: {
    type: 'integer', min: 0, max: 9, label: 'Effort',
    description: 'encoder effort, more for smaller files and slower: avif 0–9 (default 0), webp 0–6 (default 2), png zlib level 0–9 (default 2), jxl 1–9 (default 4); jpeg, tiff and gif ignore it',
  },
  frames: {
    type: 'enum', values: ['all', 'first'], label: 'Frames',
    description: 'of an animated GIF or WebP: all (default) keeps it animated when the output is gif or webp, every frame through the steps with its delay and the loop count; first takes the first frame only (other formats always do)',
  },
  maxBytes: {
    type: 'integer', min: 100, max: 1_000_000_000, label: 'Most bytes',
    description: 'the highest quality (jpeg, webp, avif, tiff, jxl) whose result fits in this many bytes, found by a binary search over quality; the quality chosen shows in the stats; an error when even quality 1 does not fit',
  },
};
export const OUTPUT_POSITIONAL = ['format', 'quality', 'effort'] as const;

/** How the input is read, declared like an operation's parameters; each applies to the formats it names. */
export const INPUT_PARAMS: ParamSpec = {
  density: {
    type: 'number', min: 1, max: 2400, label: 'Density',
    description: 'dots per inch an SVG is drawn at: 72 draws it at the size it declares, 144 at twice that (the pixel limit counts the drawn size); other formats ignore it',
  },
};
export const INPUT_POSITIONAL = ['density'] as const;

export interface InputSpec {
  density?: number;
}

/** The highest effort each encoder takes, where it is below the parameter's own maximum. */
export const MAX_EFFORT: Partial<Record<OutputFormat, number>> = { webp: 6 };

export interface OutputSpec {
  format?: OutputFormat | typeof AUTO_FORMAT;
  quality?: number;
  effort?: number;
  frames?: 'all' | 'first';
  maxBytes?: number;
}

/** Output formats that can hold an animation. */
export const ANIMATED_OUTPUTS: readonly OutputFormat[] = ['gif', 'webp'];

/** One step as users write it: the operation's name and its parameters. */
export interface StepSpec {
  op: string;
  [param: string]: unknown;
}

/** A pipeline as users write it, in JSON or the compact syntax. */
export interface PipelineSpec {
  input?: InputSpec;
  steps: StepSpec[];
  output?: OutputSpec;
}

export interface ValidStep {
  op: Operation;
  /** Every parameter, with defaults filled in. */
  params: Record<string, unknown>;
}

/** A pipeline that passed validation: safe to run, and `spec` is its normalised JSON. */
export interface ValidPipeline {
  input?: InputSpec;
  steps: ValidStep[];
  output: OutputSpec;
  spec: PipelineSpec;
  /** True when the last step is an analysis that yields data instead of an image. */
  yieldsData: boolean;
}
