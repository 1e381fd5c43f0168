/** imgfleet as a library: the processor, the pipeline tools, the operations and the engines. */
export { processImage, type ProcessOptions, type ProcessResult, type ProcessStats, type StepTiming } from './pipeline/process.js';
export { validatePipeline } from './pipeline/validate.js';
export { parseCompact, formatCompact } from './pipeline/compact.js';
export { readPipelineArgument, parsePipelineText } from './pipeline/load.js';
export type { PipelineSpec, StepSpec, OutputSpec, OutputFormat, ValidPipeline } from './pipeline/spec.js';
export { OPERATIONS, findOperation, type Operation } from './ops/index.js';
export { operationSchemas, outputSchema } from './ops/describe.js';
export type { HistogramData } from './ops/histogram.js';
export { histogramFile, type HistogramFile } from './histogram/histogram-file.js';
export { LocalEngine, type LocalEngineOptions } from './engine/local/local-engine.js';
export { SequentialEngine } from './engine/sequential-engine.js';
export type { Engine, FileTask, TaskOutcome } from './engine/types.js';
export { BatchJob, type BatchItem, type BatchReport, type BatchSummary, type ItemState } from './jobs/batch-job.js';
export { runBatch } from './jobs/run-batch.js';
export { runFiles, type RunFilesOptions } from './jobs/run-files.js';
export { ImgfleetError, type ErrorCode, type ErrorInfo } from './errors.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
