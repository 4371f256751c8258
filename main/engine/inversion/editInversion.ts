import type { StableDiffusionModel } from '../model/StableDiffusionModel';
import { latentPreview } from '../pipelines/latentPreview';
import { neverCancelled, type CancellationToken } from '../util/cancellation';
import type { Inversion } from './Inversion';
import type { InversionProgress } from './InversionProgress';
import { embedPrompt, inversionScheduler } from './invertPhoto';

export interface EditArgs {
  /** The target prompt. */
  prompt: string;
  /** 0 reconstructs the photo; 1 conditions every step on the target prompt alone. */
  eta: number;
  /** latentHeight × latentWidth weights in [0, 1] (1 = edit); outside, the reconstruction is kept. */
  latentMask?: Float32Array;
  cancel?: CancellationToken;
  onProgress?: (p: InversionProgress) => void | Promise<void>;
}

/**
 * The edit stage (spec §2, step 3): from z*_T, S DDIM steps (η_ddim = 0) with guidance w, step i
 * conditioned on c̃ = η·c_target + (1−η)·c_i — c_i the tuned c_t (PTI) or the source prompt's
 * embedding (null-text, DDIM) — against the unconditional ∅_t (null-text) or ∅. After each
 * step, z ← m·z + (1 − m)·z̄ with z̄ the reconstruction trajectory, so unmasked latents are
 * exactly the reconstruction's.
 */
export async function editInversion(model: StableDiffusionModel, inv: Inversion, args: EditArgs): Promise<{ latent: Float32Array; forwardCalls: number }> {
  const { unet } = model.components;
  const cancel = args.cancel ?? neverCancelled;
  const { settings, latentHeight, latentWidth, contextDims } = inv;
  const S = settings.steps;
  const scheduler = inversionScheduler(model, S);
  const eta = args.eta;
  const w = settings.guidance;
  const guided = w > 1;
  const target = (await embedPrompt(model, args.prompt)).data;
  const source = (await embedPrompt(model, settings.sourcePrompt)).data;
  const empty = (await embedPrompt(model, '')).data;
  const plane = latentHeight * latentWidth;
  const oneBatch = guided && unet.acceptsBatch2;
  const dims = (batch: number) => [batch, ...contextDims.slice(1)];
  const sampleDims = (batch: number) => [batch, 4, latentHeight, latentWidth];
  let calls = 0;

  let z = inv.reconstruction[0];
  for (let i = 0; i < S; i++) {
    cancel.throwIfCancelled();
    const t = inv.timesteps[i];
    const own = settings.method === 'pti' ? inv.embeddings[i] : source;
    const cond = new Float32Array(own.length);
    for (let n = 0; n < own.length; n++) cond[n] = eta * target[n] + (1 - eta) * own[n];
    const uncond = settings.method === 'nti' ? inv.embeddings[i] : empty;
    let eps: Float32Array;
    if (!guided) {
      eps = await unet.predict(z, sampleDims(1), t, cond, dims(1));
      calls++;
    } else {
      let epsU: Float32Array;
      let epsC: Float32Array;
      if (oneBatch) {
        const both = await unet.predict(concat(z, z), sampleDims(2), t, concat(uncond, cond), dims(2));
        epsU = both.subarray(0, z.length);
        epsC = both.subarray(z.length);
        calls++;
      } else {
        epsU = await unet.predict(z, sampleDims(1), t, uncond, dims(1));
        epsC = await unet.predict(z, sampleDims(1), t, cond, dims(1));
        calls += 2;
      }
      eps = new Float32Array(z.length);
      for (let n = 0; n < z.length; n++) eps[n] = epsU[n] + w * (epsC[n] - epsU[n]);
    }
    const { sampleCoef: a, outputCoef: b } = scheduler.stepCoefficients(i);
    const next = new Float32Array(z.length);
    for (let n = 0; n < z.length; n++) next[n] = a * z[n] + b * eps[n];
    if (args.latentMask) {
      const kept = inv.reconstruction[i + 1];
      const m = args.latentMask;
      for (let n = 0; n < next.length; n++) {
        const weight = m[n % plane];
        next[n] = weight === 0 ? kept[n] : weight * next[n] + (1 - weight) * kept[n];
      }
    }
    z = next;
    await args.onProgress?.({ stage: 'edit', step: i + 1, totalSteps: S, preview: latentPreview(z, latentHeight, latentWidth) });
  }
  return { latent: z, forwardCalls: calls };
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
