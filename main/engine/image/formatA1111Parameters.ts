import type { GenerationParameters } from './GenerationParameters';

/**
 * A1111's `parameters` text, which other tools (Civitai, ComfyUI importers, image browsers)
 * read: the prompt, then "Negative prompt: …", then one line of "Key: value" pairs.
 * A value with a comma, colon or quote is written as a JSON string, as A1111 quotes them,
 * so the pair line still splits on ", ".
 */
export function formatA1111Parameters(p: GenerationParameters): string {
  const pairs: Array<[string, unknown]> = [
    ['Steps', p.steps],
    ['Sampler', p.scheduler],
    ['CFG scale', p.guidance],
    // No Seed where nothing is random (inversion edits): a "Seed: 0" would be re-used as one.
    ...(p.seed !== undefined ? [['Seed', p.seed] as [string, unknown]] : []),
    ['Size', `${p.width}x${p.height}`],
    ['Model hash', p.model.hash],
    ['Model', p.model.name],
  ];
  if (p.strength !== undefined) pairs.push(['Denoising strength', p.strength]);
  if (p.method !== undefined) pairs.push(['Method', p.method]);
  for (const [key, value] of Object.entries(p.extra ?? {})) {
    if (value === undefined || value === null) continue;
    pairs.push([key, typeof value === 'object' ? JSON.stringify(value) : value]);
  }
  const line = pairs.map(([k, v]) => `${k}: ${quote(String(v))}`).join(', ');
  const lines = [p.prompt];
  if (p.negativePrompt) lines.push(`Negative prompt: ${p.negativePrompt}`);
  lines.push(line);
  return lines.join('\n');
}

function quote(value: string): string {
  return /[,:"\n]/.test(value) ? JSON.stringify(value) : value;
}
