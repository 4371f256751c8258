import { describe, expect, it } from 'vitest';
import { resultSteps, stepsLabel } from '../../../renderer/src/editor/resultSteps';

describe('resultSteps', () => {
  it('shows the steps asked for, and the steps run when the engine ran fewer', () => {
    // img2img at strength 0.75 with 20 steps: the engine runs ⌊20 · 0.75⌋ = 15 and records it.
    const img2img = { steps: 20, strength: 0.75, method: 'img2img', extra: { stepsRun: 15 } };
    expect(resultSteps(img2img)).toEqual({ requested: 20, run: 15 });
    expect(stepsLabel(img2img)).toBe('20 steps, 15 run');
    expect(stepsLabel({ steps: 20, method: 'txt2img' })).toBe('20 steps');
    // A count equal to the request says nothing new; a top-level stepsRun is read too.
    expect(stepsLabel({ steps: 8, extra: { stepsRun: 8 } })).toBe('8 steps');
    expect(resultSteps({ steps: 8, stepsRun: 2 })).toEqual({ requested: 8, run: 2 });
  });

  it('says "1 step", not "1 steps"', () => {
    expect(stepsLabel({ steps: 1 })).toBe('1 step');
    expect(stepsLabel({ steps: 4, extra: { stepsRun: 1 } })).toBe('4 steps, 1 run');
    expect(stepsLabel({ extra: { stepsRun: 1 } })).toBe('1 step run');
  });

  it('ignores values that are not step counts', () => {
    expect(resultSteps({ steps: 'ten', extra: { stepsRun: 2.5 } })).toEqual({});
    expect(stepsLabel({})).toBeUndefined();
    expect(stepsLabel({ extra: { stepsRun: 3 } })).toBe('3 steps run');
    expect(resultSteps({ steps: 4, extra: [1] })).toEqual({ requested: 4 });
  });
});
