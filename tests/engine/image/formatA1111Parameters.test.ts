import { describe, expect, it } from 'vitest';
import { formatA1111Parameters } from '../../../main/engine/image/formatA1111Parameters';

describe('formatA1111Parameters', () => {
  const base = {
    prompt: 'a lighthouse at dusk',
    negativePrompt: '',
    seed: 1,
    steps: 20,
    guidance: 7.5,
    scheduler: 'ddim',
    width: 512,
    height: 768,
    model: { name: 'sd15', hash: 'deadbeef' },
  };

  it('omits an empty negative prompt and optional fields', () => {
    expect(formatA1111Parameters(base)).toBe(
      'a lighthouse at dusk\nSteps: 20, Sampler: ddim, CFG scale: 7.5, Seed: 1, Size: 512x768, Model hash: deadbeef, Model: sd15',
    );
  });

  it('writes no Seed pair for parameters without a seed', () => {
    const { seed: _seed, ...noSeed } = base;
    expect(formatA1111Parameters(noSeed)).toBe('a lighthouse at dusk\nSteps: 20, Sampler: ddim, CFG scale: 7.5, Size: 512x768, Model hash: deadbeef, Model: sd15');
  });

  it('quotes values with commas or colons so the pair line still splits', () => {
    const text = formatA1111Parameters({ ...base, negativePrompt: 'blur', model: { name: 'my, model: v2', hash: 'h' }, extra: { note: 'a "b"' } });
    expect(text.split('\n')).toEqual([
      'a lighthouse at dusk',
      'Negative prompt: blur',
      'Steps: 20, Sampler: ddim, CFG scale: 7.5, Seed: 1, Size: 512x768, Model hash: h, Model: "my, model: v2", note: "a \\"b\\""',
    ]);
  });
});
