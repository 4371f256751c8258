import { performance } from 'node:perf_hooks';
import type { OnnxRuntime } from '../runtime/OnnxRuntime';
import type { PipelineTimings } from './PipelineRequest';

/** Wall time per pipeline stage, and the share of it spent inside onnxruntime. */
export class PipelineClock {
  private readonly start = performance.now();
  private readonly ortStart: number;
  private last = this.start;
  private readonly laps: Record<string, number> = {};

  constructor(private readonly runtime: OnnxRuntime) {
    this.ortStart = runtime.insideMs;
  }

  /** Charges the time since the previous lap to `stage`. */
  lap(stage: 'encodePrompt' | 'prepareLatents' | 'denoise' | 'decode'): void {
    const now = performance.now();
    this.laps[stage] = (this.laps[stage] ?? 0) + now - this.last;
    this.last = now;
  }

  finish(): PipelineTimings {
    return {
      encodePrompt: 0,
      prepareLatents: 0,
      denoise: 0,
      decode: 0,
      ...this.laps,
      total: performance.now() - this.start,
      insideOrt: this.runtime.insideMs - this.ortStart,
    };
  }
}
