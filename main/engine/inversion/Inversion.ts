import type { InversionSettings } from './InversionSettings';

/** What the inversion stage produces and the cache keeps; the edit stage needs nothing else. */
export interface Inversion {
  /** Cache key: photo, model and settings (see InversionCache.keyOf). */
  key: string;
  settings: InversionSettings;
  model: { name: string; hash: string };
  /** The photo as given (the edit is restored to this size) and as fitted to the model. */
  photo: { width: number; height: number; fittedWidth: number; fittedHeight: number };
  latentHeight: number;
  latentWidth: number;
  /** The S DDIM train timesteps, descending (edit step i runs at timesteps[i]). */
  timesteps: number[];
  /** z*_0 … z*_S: DDIM inversion latents by noise level (0 = the photo's latent, S = z*_T). */
  trajectory: Float32Array[];
  /**
   * The latents the edit walks at η = 0: entry i is the latent before edit step i (0 = z*_T,
   * S = the result). PTI/null-text: the tuned trajectory z̄; DDIM: the inversion trajectory
   * reversed (the path a perfect reconstruction would take).
   */
  reconstruction: Float32Array[];
  /** One embedding [1, tokens, width] per edit step: PTI's c_t, null-text's ∅_t; none for DDIM. */
  embeddings: Float32Array[];
  contextDims: number[];
  /** PTI: the prompt the first c_t started from. */
  initPrompt?: string;
  stats: InversionStats;
}

export interface InversionStats {
  /** Wall time of the inversion stage, ms. */
  ms: number;
  forwardCalls: number;
  vjpCalls: number;
  /** Time inside forward and VJP runs, ms. */
  forwardMs: number;
  vjpMs: number;
  /** Per tuned step, the loss at each inner iteration (before its update). */
  losses: number[][];
}
