import { checkFinite } from '../model/checkFinite';
import type { UNet } from '../model/UNet';
import type { Scheduler } from '../schedulers';
import type { CancellationToken } from '../util/cancellation';
import { neverCancelled } from '../util/cancellation';
import type { Rng } from '../util/random';
import type { PromptEmbeddings } from './encodePrompt';
import { latentPreview } from './latentPreview';
import type { PipelineProgress } from './PipelineRequest';
import type { PreparedControl } from './prepareControl';

export interface DenoiseArgs {
  unet: UNet;
  scheduler: Scheduler;
  /** x at step `startIndex`, [1, 4, h, w] in the scheduler's sample space. */
  latents: Float32Array;
  latentHeight: number;
  latentWidth: number;
  startIndex: number;
  prompt: PromptEmbeddings;
  guidance: number;
  rng: Rng;
  /** Inpainting UNets: the 5 channels (mask, masked-image latent) appended to every input. */
  extraChannels?: Float32Array;
  /** Runs after each step on the new sample (latent blending); `stepIndex` is the step just done. */
  afterStep?: (sample: Float32Array, stepIndex: number) => Float32Array;
  splitGuidanceBatch?: boolean;
  /** ControlNets: their residuals go into every UNet call (`unet` must then be ControlNet-ready). */
  control?: PreparedControl;
  onProgress?: (p: PipelineProgress) => void | Promise<void>;
  cancel?: CancellationToken;
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Step 7 of every pipeline: for i = startIndex … n−1,
 *   ε = ε_∅ + w·(ε_c − ε_∅)   (both branches in one batch-2 call when the UNet takes it;
 *                              with ControlNets, each call gets their residuals for its own batch),
 *   x ← scheduler.step(ε, i, x),
 * checking for cancellation before each step and reporting progress after it.
 */
export async function denoise(a: DenoiseArgs): Promise<Float32Array> {
  const { unet, scheduler, prompt, guidance } = a;
  const cancel = a.cancel ?? neverCancelled;
  const channels = unet.sample.shape && typeof unet.sample.shape[1] === 'number' ? unet.sample.shape[1] : a.extraChannels ? 9 : 4;
  const sampleDims = (batch: number) => [batch, channels, a.latentHeight, a.latentWidth];
  const contextRow = prompt.data.length / prompt.dims[0];
  const contextDims = (batch: number) => [batch, ...prompt.dims.slice(1)];
  const oneBatch = prompt.guided && unet.acceptsBatch2 && !a.splitGuidanceBatch;
  const totalSteps = scheduler.timesteps.length - a.startIndex;
  let x = a.latents;

  for (let i = a.startIndex; i < scheduler.timesteps.length; i++) {
    cancel.throwIfCancelled();
    const t = scheduler.timesteps[i];
    const scaled = scheduler.scaleModelInput(x, i);
    const input = a.extraChannels ? concat(scaled, a.extraChannels) : scaled;
    const predict = async (x: Float32Array, dims: number[], context: Float32Array, ctxDims: number[]): Promise<Float32Array> => {
      const residuals = a.control
        ? await a.control.residuals({
            sample: dims[0] === 1 ? scaled : concat(scaled, scaled),
            batch: dims[0],
            latentHeight: a.latentHeight,
            latentWidth: a.latentWidth,
            t,
            context,
            contextDims: ctxDims,
            step: i - a.startIndex,
            totalSteps,
          })
        : undefined;
      return unet.predict(x, dims, t, context, ctxDims, residuals);
    };
    let eps: Float32Array;
    if (!prompt.guided) {
      eps = await predict(input, sampleDims(1), prompt.data, contextDims(1));
    } else {
      let epsUncond: Float32Array;
      let epsCond: Float32Array;
      if (oneBatch) {
        const both = await predict(concat(input, input), sampleDims(2), prompt.data, contextDims(2));
        epsUncond = both.subarray(0, both.length / 2);
        epsCond = both.subarray(both.length / 2);
      } else {
        epsUncond = await predict(input, sampleDims(1), prompt.data.subarray(0, contextRow), contextDims(1));
        epsCond = await predict(input, sampleDims(1), prompt.data.subarray(contextRow), contextDims(1));
      }
      eps = new Float32Array(epsCond.length);
      for (let k = 0; k < eps.length; k++) eps[k] = epsUncond[k] + guidance * (epsCond[k] - epsUncond[k]);
    }
    const { prevSample, predOriginalSample } = scheduler.step(eps, i, x, a.rng);
    x = a.afterStep ? a.afterStep(prevSample, i) : prevSample;
    if (a.onProgress) {
      await a.onProgress({
        step: i - a.startIndex + 1,
        totalSteps,
        preview: latentPreview(predOriginalSample, a.latentHeight, a.latentWidth),
      });
    }
  }
  cancel.throwIfCancelled();
  // Finite ε can still step to Inf (a huge guidance scale); the decoder must not be blamed for it.
  checkFinite(x, 'unet', unet.session.file);
  return x;
}
