import type { PresetName } from '../models/presets';
import type { ChildOutcome, GenerateResult, PipelineMeasurement, UnetRunMeasurement, VjpBuildMeasurement } from './BenchTask';
import type { MachineDescription } from './describeMachine';

export const WALL_OVER_ORT_GOAL = 1.03;
export const VJP_OVER_FORWARD_GOAL = 2.5;

/** The VJP measured at one size: the forward model and its VJP on the same batch-1 input. */
export interface VjpAtSize {
  size: number;
  forward: ChildOutcome<UnetRunMeasurement>;
  vjp?: ChildOutcome<UnetRunMeasurement>;
}

export interface PresetReport {
  preset: PresetName;
  generate: ChildOutcome<GenerateResult>;
  pipeline?: ChildOutcome<PipelineMeasurement>;
  vjpBuild?: ChildOutcome<VjpBuildMeasurement>;
  /** Every size tried, largest first; the last is the one reported (smaller sizes follow an out-of-memory stop). */
  vjp: VjpAtSize[];
}

export interface BenchReport {
  date: string;
  machine: MachineDescription;
  options: {
    size: number;
    steps: Record<string, number>;
    warmup: Record<string, number>;
    repeats: Record<string, number>;
    provider: string;
    /** Intra-op threads of the UNet forward/VJP runs; undefined: onnxruntime's choice. */
    threads?: number;
    memoryLimitGiB: number;
  };
  presets: PresetReport[];
  /** Whatever bench/inversion.ts's runInversionBench returned, when --inversion ran it. */
  inversion?: unknown;
}
