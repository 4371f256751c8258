import type { PresetName } from '../models/presets';

/** One measurement, run in a fresh child process so its peak RSS is its own. */
export type BenchTask =
  | { kind: 'generate'; preset: PresetName; dir: string }
  | { kind: 'pipeline'; dir: string; size: number; steps: number; warmup: number; provider?: string }
  | { kind: 'vjp-build'; unetFile: string; outFile: string }
  | {
      kind: 'unet-run';
      file: string;
      size: number;
      repeats: number;
      provider?: string;
      /** Untimed runs first (default 1); a second one settles onnxruntime's memory pattern. */
      warmups?: number;
      /** onnxruntime's memory pattern (default on); off is how VJP models are meant to run. */
      memoryPattern?: boolean;
      /** Threads inside one operator (default: onnxruntime's choice). */
      threads?: number;
    };

export interface GenerateResult {
  kind: 'generate';
  /** False when a complete folder for this generator version was already there. */
  generated: boolean;
  seconds: number;
  unetParameters: number;
  diskBytes: number;
}

/** Wall time of each ModelSession.run and the part of it inside onnxruntime, per component. */
export interface ComponentTime {
  calls: number;
  runMs: number;
  insideMs: number;
}

export interface PipelineMeasurement {
  kind: 'pipeline';
  provider: string;
  loadMs: number;
  /** Median wall time of one denoising step's UNet call (batch 2 when guidance runs in one call). */
  unetStepMs: number;
  unetStepInsideMs: number;
  unetBatch: number;
  steps: number;
  totalMs: number;
  insideOrtMs: number;
  /** Pipeline stages' wall time (PipelineClock). */
  stages: Record<string, number>;
  components: Record<string, ComponentTime>;
}

export interface VjpBuildMeasurement {
  kind: 'vjp-build';
  /** Decoding the source protobuf (external weights stay on disk). */
  readMs: number;
  vjpMs: number;
  saveMs: number;
  sourceNodes: number;
  derivedNodes: number;
  derivedInputs: string[];
  derivedOutputs: string[];
}

export interface UnetRunMeasurement {
  kind: 'unet-run';
  provider: string;
  /** Creating the onnxruntime session (graph optimisation included). */
  sessionMs: number;
  /** Median time inside onnxruntime over the timed runs (after the untimed warm-up runs). */
  medianMs: number;
  runsMs: number[];
  /**
   * This process's CPU time (user + system, all threads) per timed run, and its median: on a
   * machine shared with other work the wall clock also counts time spent waiting for a core.
   */
  cpuMs?: number[];
  medianCpuMs?: number;
  warmups?: number;
  memoryPattern?: boolean;
  threads?: number;
  inputs: { name: string; dims: number[] }[];
  outputs: string[];
}

export type BenchMeasurement = GenerateResult | PipelineMeasurement | VjpBuildMeasurement | UnetRunMeasurement;

/** What a child reports: its measurement, or why it has none; always its peak RSS when it got that far. */
export type ChildOutcome<M extends BenchMeasurement = BenchMeasurement> =
  | { ok: true; measurement: M; peakRssBytes: number; wallMs: number }
  | { ok: false; reason: string; peakRssBytes?: number; wallMs: number };

/** The line prefix a child writes its JSON outcome after, on stdout. */
export const RESULT_PREFIX = 'BENCH_RESULT ';
