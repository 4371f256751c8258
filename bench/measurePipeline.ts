import { performance } from 'node:perf_hooks';
import { StableDiffusionModel } from '../main/engine/model/StableDiffusionModel';
import { textToImage } from '../main/engine/pipelines/textToImage';
import type { ModelSession } from '../main/engine/runtime/OnnxRuntime';
import type { BenchTask, ComponentTime, PipelineMeasurement } from './BenchTask';
import { median } from './median';

export const BENCH_PROMPT = 'a photograph of an astronaut riding a horse on the moon';
export const BENCH_NEGATIVE = 'blurry, low quality';
export const BENCH_SEED = 42;
export const BENCH_GUIDANCE = 7.5;

const COMPONENTS = ['text_encoder', 'unet', 'vae_encoder', 'vae_decoder'] as const;

interface RunLog {
  components: Record<string, ComponentTime>;
  unetCalls: { runMs: number; insideMs: number; batch: number }[];
}

/**
 * Times each session's run() from outside (wall, conversions included) against the runtime's
 * clock of time inside onnxruntime, so the pipeline's overhead can be split into the runtime
 * module's tensor conversions and everything the pipeline does between calls.
 */
function instrument(model: StableDiffusionModel): () => RunLog {
  let log: RunLog = { components: {}, unetCalls: [] };
  const runtime = model.runtime;
  const unet = model.components.unet;
  for (const name of COMPONENTS) {
    const session: ModelSession = model.components[name].session;
    const run = session.run.bind(session);
    session.run = async (feeds, outputNames) => {
      const inside0 = runtime.insideMs;
      const t0 = performance.now();
      try {
        return await run(feeds, outputNames);
      } finally {
        const runMs = performance.now() - t0;
        const insideMs = runtime.insideMs - inside0;
        const c = (log.components[name] ??= { calls: 0, runMs: 0, insideMs: 0 });
        c.calls++;
        c.runMs += runMs;
        c.insideMs += insideMs;
        if (name === 'unet') log.unetCalls.push({ runMs, insideMs, batch: feeds[unet.sample.name]?.dims[0] ?? 1 });
      }
    };
  }
  return () => {
    const done = log;
    log = { components: {}, unetCalls: [] };
    return done;
  };
}

/** Model load, then txt2img at size×size with classifier-free guidance, as the app runs it (previews on). */
export async function measurePipeline(task: Extract<BenchTask, { kind: 'pipeline' }>): Promise<PipelineMeasurement> {
  const model = await StableDiffusionModel.load(task.dir, { provider: task.provider });
  try {
    const takeLog = instrument(model);
    const request = {
      prompt: BENCH_PROMPT,
      negativePrompt: BENCH_NEGATIVE,
      steps: task.steps,
      guidance: BENCH_GUIDANCE,
      seed: BENCH_SEED,
      width: task.size,
      height: task.size,
      // The app and the CLI always listen to progress, which makes the pipeline build previews.
      onProgress: () => {},
    };
    for (let i = 0; i < task.warmup; i++) await textToImage(model, request);
    takeLog();
    const result = await textToImage(model, request);
    const log = takeLog();
    return {
      kind: 'pipeline',
      provider: model.runtime.describeProvider(),
      loadMs: model.loadMs,
      unetStepMs: median(log.unetCalls.map((c) => c.runMs)),
      unetStepInsideMs: median(log.unetCalls.map((c) => c.insideMs)),
      unetBatch: Math.max(...log.unetCalls.map((c) => c.batch)),
      steps: result.stepsRun,
      totalMs: result.timings.total,
      insideOrtMs: result.timings.insideOrt,
      stages: {
        encodePrompt: result.timings.encodePrompt,
        prepareLatents: result.timings.prepareLatents,
        denoise: result.timings.denoise,
        decode: result.timings.decode,
      },
      components: log.components,
    };
  } finally {
    await model.dispose();
  }
}
