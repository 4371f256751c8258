import { badArgument } from '../errors';

/**
 * Where img2img starts denoising (diffusers' get_timesteps): with `steps` inference steps and
 * strength s ∈ (0, 1], init = min(⌊steps·s⌋, steps) steps are run, starting at step index
 * steps − init. The source latent is noised to that step with addNoise(x₀, ε, startIndex).
 */
export function img2imgStart(steps: number, strength: number): { startIndex: number; numSteps: number } {
  if (!Number.isInteger(steps) || steps < 1) throw badArgument(`Step count ${steps} is not valid: use an integer ≥ 1.`, { steps });
  if (!(strength > 0 && strength <= 1)) {
    throw badArgument(`Strength ${strength} is out of range: use a value in (0, 1].`, { strength });
  }
  const numSteps = Math.min(Math.floor(steps * strength), steps);
  if (numSteps === 0) {
    throw badArgument(`Strength ${strength} with ${steps} ${steps === 1 ? 'step' : 'steps'} runs no denoising step; raise the strength to at least ${1 / steps} or use more steps.`, {
      steps,
      strength,
    });
  }
  return { startIndex: steps - numSteps, numSteps };
}
