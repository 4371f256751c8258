import type { StableDiffusionComponents } from '../model/StableDiffusionModel';

/** Text conditioning for one denoising call: [batch, 77, width], unconditional first when guided. */
export interface PromptEmbeddings {
  data: Float32Array;
  dims: number[];
  /** True when classifier-free guidance runs: batch 2 = [negative/empty, prompt]. */
  guided: boolean;
}

/**
 * Classifier-free guidance (Ho & Salimans 2022) needs c = E(prompt) and ∅ = E(negative prompt,
 * "" by default); with w ≤ 1 the guided mix ε_∅ + w·(ε_c − ε_∅) is not worth a second branch,
 * so only c is encoded.
 */
export async function encodePrompt(
  c: Pick<StableDiffusionComponents, 'tokenizer' | 'text_encoder'>,
  prompt: string,
  negativePrompt: string,
  guidance: number,
): Promise<PromptEmbeddings> {
  const cond = await c.text_encoder.encode(c.tokenizer.encode(prompt).ids);
  if (guidance <= 1) return { data: cond.data, dims: cond.dims, guided: false };
  const uncond = await c.text_encoder.encode(c.tokenizer.encode(negativePrompt).ids);
  const data = new Float32Array(uncond.data.length + cond.data.length);
  data.set(uncond.data, 0);
  data.set(cond.data, uncond.data.length);
  return { data, dims: [2, ...cond.dims.slice(1)], guided: true };
}
