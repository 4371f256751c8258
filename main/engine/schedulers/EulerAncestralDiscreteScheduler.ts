import { badArgument } from '../errors';
import type { Rng } from '../util/random';
import { checkStepArgs, type StepResult } from './Scheduler';
import { EulerDiscreteScheduler } from './EulerDiscreteScheduler';

/**
 * Ancestral Euler (k-diffusion's sample_euler_ancestral, η = 1): each step goes from σ_i down to
 * σ_down deterministically and then adds fresh noise of size σ_up, where
 *
 *   σ_up = √(σ_{i+1}²·(σ_i² − σ_{i+1}²)/σ_i²),   σ_down = √(σ_{i+1}² − σ_up²),
 *   x_{i+1} = x_i + (σ_down − σ_i)·(x_i − x̂₀)/σ_i + σ_up·z,   z ~ N(0, I),
 *
 * so σ_down² + σ_up² = σ_{i+1}² and the marginal noise level stays on schedule. Needs an Rng.
 */
export class EulerAncestralDiscreteScheduler extends EulerDiscreteScheduler {
  override readonly name = 'euler-a' as const;

  override step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, rng?: Rng): StepResult {
    checkStepArgs(this, stepIndex, modelOutput, sample);
    if (!rng) throw badArgument('Euler ancestral adds noise each step; pass an Rng to step().');
    const sigmaFrom = this.sigmas[stepIndex];
    const sigmaTo = this.sigmas[stepIndex + 1];
    const sigmaUp = Math.sqrt((sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo)) / (sigmaFrom * sigmaFrom));
    const sigmaDown = Math.sqrt(Math.max(sigmaTo * sigmaTo - sigmaUp * sigmaUp, 0));
    const dt = sigmaDown - sigmaFrom;
    const predOriginalSample = this.predictOriginal(modelOutput, sample, sigmaFrom);
    const noise = rng.fillNormal(new Float32Array(sample.length));
    const prevSample = new Float32Array(sample.length);
    for (let i = 0; i < prevSample.length; i++) {
      const derivative = (sample[i] - predOriginalSample[i]) / sigmaFrom;
      prevSample[i] = sample[i] + derivative * dt + sigmaUp * noise[i];
    }
    return { prevSample, predOriginalSample };
  }
}
