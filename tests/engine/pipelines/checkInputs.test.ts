import { describe, expect, it } from 'vitest';
import { PentimentoError } from '../../../main/engine/errors';
import { checkCommon, checkSize, checkStrength } from '../../../main/engine/pipelines/checkInputs';
import { checkEta, checkInversionSettings } from '../../../main/engine/inversion/InversionSettings';

/** The error a check throws (it must throw one). */
function refusal(check: () => unknown): PentimentoError {
  try {
    check();
  } catch (e) {
    if (e instanceof PentimentoError) return e;
    throw e;
  }
  throw new Error('the check accepted the value');
}

describe('input checks name the refused value in details.field, and start their message with it', () => {
  const ok = { prompt: 'a cat' };
  const cases: [string, () => unknown, string][] = [
    ['steps', () => checkCommon({ ...ok, steps: 0 }, 'ddim'), 'steps is 0; use a whole number from 1 to 500.'],
    ['guidance', () => checkCommon({ ...ok, guidance: 31 }, 'ddim'), 'guidance is 31; '],
    ['seed', () => checkCommon({ ...ok, seed: -1 }, 'ddim'), 'seed is -1; '],
    ['scheduler', () => checkCommon({ ...ok, scheduler: 'lms' as never }, 'ddim'), 'scheduler is "lms"; '],
    ['strength', () => checkStrength(1.5), 'strength is 1.5; '],
    ['height', () => checkSize(64, 60), 'height is 60; use a multiple of 8'],
    ['eta', () => checkEta(2), 'eta is 2; '],
    ['innerSteps', () => checkInversionSettings({ method: 'pti', innerSteps: -1 }), 'innerSteps is -1; '],
    ['guidance', () => checkInversionSettings({ method: 'nti', guidance: 1 }), 'guidance is 1; null-text inversion'],
  ];
  for (const [field, check, start] of cases) {
    it(field, () => {
      const e = refusal(check);
      expect(e.code).toBe('BAD_ARGUMENT');
      expect(e.details?.field).toBe(field);
      expect(e.message.startsWith(start)).toBe(true);
    });
  }
});
