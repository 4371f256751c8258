import { describe, expect, it } from 'vitest';
import { typedNumber } from '../../../renderer/src/components/typedNumber';

const STEPS = { min: 1, max: 200, integer: true };
const SEED = { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true };

describe('typedNumber', () => {
  it('lets plain and partial numbers through', () => {
    for (const t of ['', '-', '12', '1.', '-0.5', ' 7 ']) expect(typedNumber(t, STEPS)).toEqual({ kind: 'plain' });
  });

  it('reads exponent notation as its value instead of dropping the letter', () => {
    expect(typedNumber('1e3', { ...STEPS, max: 1000 })).toEqual({ kind: 'value', value: 1000 });
    expect(typedNumber('2.5E1', STEPS)).toEqual({ kind: 'value', value: 25 });
  });

  it('refuses, with a reason, what is not a number or out of range', () => {
    expect(typedNumber('1e3', STEPS)).toEqual({ kind: 'refused', message: '1e3 is over 200.' });
    expect(typedNumber('1e30', SEED)).toEqual({ kind: 'refused', message: `1e30 is over ${Number.MAX_SAFE_INTEGER}.` });
    expect(typedNumber('1e', STEPS)).toEqual({ kind: 'refused', message: '"e" is not part of a number; type digits only.' });
    expect(typedNumber('abc', STEPS)).toEqual({ kind: 'refused', message: '"a" is not part of a number; type digits only.' });
    expect(typedNumber('1e-1', STEPS)).toEqual({ kind: 'refused', message: '1e-1 is not a whole number.' });
  });
});
