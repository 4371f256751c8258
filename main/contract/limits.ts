/**
 * Limits on generation settings that the engine enforces and the UI's controls use, in one place
 * so a result made by either can be re-run by the other. Plain constants: the renderer imports
 * this file, so it must import nothing.
 */

/**
 * Upper bound of the classifier-free guidance scale: the app's slider and A1111's go to 30;
 * far beyond, ε_u + s·(ε_c − ε_u) only blows up (a huge scale overflows to NaN in the UNet's
 * next step), so it is refused up front rather than failing late.
 */
export const MAX_GUIDANCE = 30;

/**
 * Every sampler supports this many steps with SD's scheduler configs (leading spacing and
 * steps_offset 1 run out of distinct timesteps near N = 1000: DDIM stops at 999, DPM-Solver++ at
 * 998); far past the ~20–100 steps samplers need, so a round bound that never depends on the sampler.
 */
export const MAX_STEPS = 500;

/** Seeds are whole numbers from 0 to 2^53−1 (exact in a JavaScript number). */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;
