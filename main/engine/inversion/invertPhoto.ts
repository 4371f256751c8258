import { performance } from 'node:perf_hooks';
import type { StableDiffusionModel } from '../model/StableDiffusionModel';
import { latentPreview } from '../pipelines/latentPreview';
import { DDIMScheduler } from '../schedulers/DDIMScheduler';
import { neverCancelled, type CancellationToken } from '../util/cancellation';
import { Adam } from './Adam';
import { guidedLossTerms } from './guidedLoss';
import type { Inversion } from './Inversion';
import type { InversionProgress } from './InversionProgress';
import type { InversionSettings } from './InversionSettings';
import type { UNetLossGradient } from './UNetLossGradient';
import { tuningInitPrompt } from './InversionCache';

export interface InvertArgs {
  /** z*_0 = VAE mean · scaling, [1, 4, latentHeight, latentWidth]. */
  z0: Float32Array;
  latentHeight: number;
  latentWidth: number;
  settings: InversionSettings;
  /** PTI with init 'target': the prompt the first c_t starts from. */
  targetPrompt: string;
  /** Needed by PTI and null-text (not by DDIM). */
  lossGradient?: UNetLossGradient;
  cancel?: CancellationToken;
  onProgress?: (p: InversionProgress) => void | Promise<void>;
}

/** The model's DDIM schedule (η = 0) at `steps` steps, whatever sampler its folder names. */
export function inversionScheduler(model: StableDiffusionModel, steps: number): DDIMScheduler {
  const scheduler = new DDIMScheduler(model.components.scheduler.config);
  scheduler.setTimesteps(steps);
  return scheduler;
}

export async function embedPrompt(model: StableDiffusionModel, prompt: string): Promise<{ data: Float32Array; dims: number[] }> {
  const { tokenizer, text_encoder } = model.components;
  return text_encoder.encode(tokenizer.encode(prompt).ids);
}

/**
 * The inversion stage (spec §2, steps 1–2):
 *
 * 1. DDIM inversion, no guidance, conditioned on the source prompt (or ""): for k = S−1 … 0,
 *    the inverse of edit step k, z_t = (z_prev − b_k·ε)/a_k with (a_k, b_k) = stepCoefficients(k)
 *    — i.e. x̂₀ = (z − √(1−ᾱ_prev)·ε)/√ᾱ_prev, z_t = √ᾱ_t·x̂₀ + √(1−ᾱ_t)·ε.
 * 2. PTI / null-text: from z̄ = z*_T, per edit step i the tuned embedding (c_t or ∅_t, starting
 *    from the previous step's) minimises ‖a·z̄ + b·ε_guided − z*_{t−1}‖²/n by Adam, the fixed
 *    branch predicted once; then z̄ advances with the tuned embedding.
 */
export async function invertPhoto(model: StableDiffusionModel, args: InvertArgs): Promise<Omit<Inversion, 'key' | 'photo' | 'model'>> {
  const start = performance.now();
  const { unet } = model.components;
  const { settings, latentHeight, latentWidth } = args;
  const cancel = args.cancel ?? neverCancelled;
  const S = settings.steps;
  const scheduler = inversionScheduler(model, S);
  const sampleDims = [1, 4, latentHeight, latentWidth];
  const stats = { ms: 0, forwardCalls: 0, vjpCalls: 0, forwardMs: 0, vjpMs: 0, losses: [] as number[][] };
  const forward = async (z: Float32Array, t: number, c: Float32Array, dims: number[]): Promise<Float32Array> => {
    cancel.throwIfCancelled();
    const t0 = performance.now();
    const eps = await unet.predict(z, sampleDims, t, c, dims);
    stats.forwardMs += performance.now() - t0;
    stats.forwardCalls++;
    return eps;
  };

  const source = await embedPrompt(model, settings.sourcePrompt);
  const contextDims = source.dims;

  // 1. DDIM inversion.
  const trajectory = [args.z0];
  let z = args.z0;
  for (let j = 0; j < S; j++) {
    const k = S - 1 - j;
    const label = settings.invertAt === 'from' ? Math.max(0, scheduler.prevTimestep(k)) : scheduler.timesteps[k];
    const eps = await forward(z, label, source.data, contextDims);
    const { sampleCoef: a, outputCoef: b } = scheduler.stepCoefficients(k);
    const next = new Float32Array(z.length);
    for (let n = 0; n < z.length; n++) next[n] = (z[n] - b * eps[n]) / a;
    z = next;
    trajectory.push(z);
    await args.onProgress?.({ stage: 'invert', step: j + 1, totalSteps: S, preview: latentPreview(z, latentHeight, latentWidth) });
  }
  const base = { settings, latentHeight, latentWidth, timesteps: [...scheduler.timesteps], trajectory, contextDims };
  if (settings.method === 'ddim') {
    stats.ms = performance.now() - start;
    return { ...base, reconstruction: [...trajectory].reverse(), embeddings: [], stats };
  }

  // 2. Tune one embedding per step.
  const lossGradient = args.lossGradient;
  if (!lossGradient) throw new Error('invertPhoto: PTI and null-text inversion need the loss-gradient model.');
  const pti = settings.method === 'pti';
  const w = settings.guidance;
  const guided = w > 1;
  const empty = await embedPrompt(model, '');
  // The prompt PTI's first c_t starts from, as the cache key names it (see tuningInitPrompt).
  const initPrompt = tuningInitPrompt(settings, args.targetPrompt);
  let tuned: Float32Array;
  if (!pti) tuned = empty.data.slice();
  else if (settings.init === 'target') tuned = (await embedPrompt(model, args.targetPrompt)).data.slice();
  else tuned = source.data.slice();
  const embeddings: Float32Array[] = [];
  const reconstruction = [trajectory[S]];
  let zbar = trajectory[S];
  for (let i = 0; i < S; i++) {
    const t = scheduler.timesteps[i];
    const step = scheduler.stepCoefficients(i);
    const target = trajectory[S - 1 - i];
    // The fixed branch, once per step: ε_∅ for PTI, ε(c_src) for null-text.
    let fixed: Float32Array | undefined;
    if (!pti) fixed = await forward(zbar, t, source.data, contextDims);
    else if (guided) fixed = await forward(zbar, t, empty.data, contextDims);
    const k = !guided ? 1 : pti ? w : 1 - w;
    const baseEps = fixed && (pti ? fixed.map((v) => (1 - w) * v) : fixed.map((v) => w * v));
    const terms = guidedLossTerms(step, zbar, target, baseEps, k);
    const threshold = settings.earlyStop + settings.earlyStopSlope * i;
    const adam = new Adam(tuned.length, settings.lr * Math.max(0, 1 - settings.lrDecay * i));
    const losses: number[] = [];
    let eps: Float32Array | undefined;
    for (let it = 0; it < settings.innerSteps; it++) {
      cancel.throwIfCancelled();
      const t0 = performance.now();
      const r = await lossGradient.evaluate(zbar, sampleDims, t, tuned, contextDims, terms.scale, terms.residual);
      stats.vjpMs += performance.now() - t0;
      stats.vjpCalls++;
      losses.push(r.loss);
      if (r.loss < threshold) {
        eps = r.eps;
        break;
      }
      adam.step(tuned, r.grad);
    }
    // After the last update the prediction at the final embedding is still unknown.
    eps ??= await forward(zbar, t, tuned, contextDims);
    embeddings.push(tuned.slice());
    stats.losses.push(losses);
    const { sampleCoef: a, outputCoef: b } = step;
    const next = new Float32Array(zbar.length);
    for (let n = 0; n < zbar.length; n++) next[n] = a * zbar[n] + b * ((baseEps ? baseEps[n] : 0) + k * eps[n]);
    zbar = next;
    reconstruction.push(zbar);
    await args.onProgress?.({
      stage: 'tune',
      step: i + 1,
      totalSteps: S,
      innerIterations: losses.length,
      loss: losses[losses.length - 1],
      preview: latentPreview(zbar, latentHeight, latentWidth),
    });
  }
  stats.ms = performance.now() - start;
  return { ...base, reconstruction, embeddings, initPrompt, stats };
}
