import { PentimentoError } from '../errors';

/**
 * Throws BAD_MODEL when a component's output holds NaN or ±Inf. Such values would otherwise
 * pass through the sampler and come out of tensorToRgb as an all-black image with exit 0;
 * the usual causes are broken weights and fp16 overflow (SD 1.x's VAE decoder is known for it).
 */
export function checkFinite(values: Float32Array, component: string, file: string): void {
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) nan++;
    else if (v === Infinity || v === -Infinity) inf++;
  }
  if (nan === 0 && inf === 0) return;
  const kind = nan > 0 ? 'NaN' : 'infinite';
  throw new PentimentoError(
    'BAD_MODEL',
    `${component} produced ${kind} values (${nan + inf} of ${values.length}); its weights may be broken, or an fp16 ` +
      `model overflowed: with fp16 models try the fp32 ${component.startsWith('vae') ? 'VAE' : 'model'} or --provider cpu. (${file})`,
    { component, file, nan, infinite: inf },
  );
}
