import { describe, expect, it } from 'vitest';
import { img2imgStart } from '../../../main/engine/schedulers/img2imgStart';

describe('img2imgStart', () => {
  it.each([
    [50, 1, 0, 50],
    [50, 0.75, 13, 37], // int(37.5) = 37
    [50, 0.3, 35, 15],
    [100, 0.29, 72, 28], // 100·0.29 = 28.999999999999996 in IEEE doubles, as in Python
    [10, 0.1, 9, 1],
  ])('steps %i, strength %f → start at %i and run %i steps', (steps, strength, startIndex, numSteps) => {
    expect(img2imgStart(steps, strength)).toEqual({ startIndex, numSteps });
  });

  it.each([
    [50, 0],
    [50, 1.01],
    [50, Number.NaN],
    [10, 0.05],
    [0, 0.5],
    [2.5, 0.5],
  ])('rejects steps %s with strength %s', (steps, strength) => {
    expect(() => img2imgStart(steps, strength)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('counts steps in words: 1 step, 3 steps', () => {
    expect(() => img2imgStart(1, 0.5)).toThrow(/^Strength 0\.5 with 1 step runs no denoising step; raise the strength to at least 1 or use more steps\.$/);
    expect(() => img2imgStart(3, 0.3)).toThrow(/^Strength 0\.3 with 3 steps runs no denoising step;/);
  });
});
