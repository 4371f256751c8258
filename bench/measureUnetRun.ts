import { performance } from 'node:perf_hooks';
import { OnnxRuntime, type FeedTensor, type TensorInfo } from '../main/engine/runtime/OnnxRuntime';
import { Rng } from '../main/engine/util/random';
import type { BenchTask, UnetRunMeasurement } from './BenchTask';
import { median } from './median';

const TIMESTEP = 500;
const SEQUENCE = 77;

/**
 * Batch-1 feeds for a UNet or a model derived from it, from the session's declarations: rank-4
 * inputs (sample, cotangents of out_sample) at the latent size, rank-3 inputs (contexts) at 77
 * tokens, and the timestep in whatever shape the graph declares. Seeded, so the forward model
 * and its VJP see the same input.
 */
export function unetFeeds(inputs: readonly TensorInfo[], size: number): Record<string, FeedTensor> {
  const latent = size / 8;
  const rng = new Rng(7);
  const feeds: Record<string, FeedTensor> = {};
  for (const info of inputs) {
    const shape = info.shape;
    if (!shape || shape.length <= 1) {
      const dims = shape && shape.length === 0 ? [] : [typeof shape?.[0] === 'number' ? shape[0] : 1];
      feeds[info.name] = { data: new Array(dims[0] ?? 1).fill(TIMESTEP), dims };
      continue;
    }
    const fallback = shape.length === 4 ? [1, 4, latent, latent] : [1, SEQUENCE, 768];
    const dims = shape.map((d, i) => (i === 0 ? 1 : typeof d === 'number' && d > 0 ? d : fallback[i]));
    feeds[info.name] = { data: rng.fillNormal(new Float32Array(dims.reduce((a, b) => a * b, 1))), dims };
  }
  return feeds;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Session creation, untimed warm-up runs, then `repeats` runs timed inside onnxruntime and in CPU time. */
export async function measureUnetRun(task: Extract<BenchTask, { kind: 'unet-run' }>): Promise<UnetRunMeasurement> {
  const runtime = new OnnxRuntime({ provider: task.provider });
  const warmups = task.warmups ?? 1;
  try {
    const t0 = performance.now();
    const session = await runtime.createSession(task.file, { memoryPattern: task.memoryPattern, intraOpThreads: task.threads });
    const sessionMs = performance.now() - t0;
    const feeds = unetFeeds(session.inputs, task.size);
    for (let i = 0; i < warmups; i++) await session.run(feeds);
    const runsMs: number[] = [];
    const cpuMs: number[] = [];
    for (let i = 0; i < task.repeats; i++) {
      const before = runtime.insideMs;
      const cpuBefore = cpuNow();
      await session.run(feeds);
      cpuMs.push(cpuNow() - cpuBefore);
      runsMs.push(runtime.insideMs - before);
    }
    return {
      kind: 'unet-run',
      provider: runtime.describeProvider(),
      sessionMs,
      medianMs: median(runsMs),
      runsMs,
      cpuMs,
      medianCpuMs: median(cpuMs),
      warmups,
      memoryPattern: task.memoryPattern ?? true,
      threads: task.threads,
      inputs: Object.entries(feeds).map(([name, f]) => ({ name, dims: [...f.dims] })),
      outputs: session.outputs.map((o) => o.name),
    };
  } finally {
    await runtime.dispose();
  }
}
