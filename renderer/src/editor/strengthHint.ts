import { img2imgStart } from '../../../main/engine/schedulers/img2imgStart';

/**
 * What the strength slider says a job will do: the denoising steps img2img and inpaint actually
 * run — the engine's own img2imgStart, ⌊steps·strength⌋ of the schedule — or, when none would
 * run, the engine's reason (`problem`), which also blocks Generate.
 */
export function strengthHint(steps: number, strength: number): { text: string; problem: boolean } {
  try {
    const { numSteps } = img2imgStart(steps, strength);
    return { text: numSteps === steps ? (steps === 1 ? 'Runs its 1 step.' : `Runs all ${steps} steps.`) : `Runs ${numSteps} of the ${steps} steps.`, problem: false };
  } catch (e) {
    return { text: e instanceof Error ? e.message : String(e), problem: true };
  }
}
