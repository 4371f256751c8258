import { describe, expect, it } from 'vitest';
import { SymbolicDims } from '../../../main/engine/graph/SymbolicDims';

describe('SymbolicDims', () => {
  it('broadcast is max: commutative, associative, idempotent; 1 and numbers > 1 decide', () => {
    const d = new SymbolicDims();
    const bt = d.broadcast('batch', 'steps');
    expect(d.broadcast('steps', 'batch')).toBe(bt);
    expect(d.broadcast('batch', bt)).toBe(bt);
    expect(d.broadcast(bt, d.broadcast('steps', bt))).toBe(bt);
    expect(d.broadcast(1, 'batch')).toBe('batch');
    expect(d.broadcast('batch', 4)).toBe(4);
    expect(d.broadcast(1, 1)).toBe(1);
    expect(d.same(bt, 'batch')).toBe(false);
  });

  it('products are monomials: a Reshape -1 is their exact quotient', () => {
    const d = new SymbolicDims();
    const hw = d.product(['h', 'w']);
    expect(d.product(['w', 'h'])).toBe(hw);
    const all = d.product(['b', 32, 'h', 'w']);
    expect(d.quotient(all, d.product(['b', 8]))).toBe(d.product([4, 'h', 'w']));
    expect(d.quotient(all, d.product(['b', 32]))).toBe(hw);
    expect(d.quotient(hw, 'b')).toBeUndefined();
    expect(d.quotient(all, 3)).toBeUndefined();
    expect(d.product([3, 4])).toBe(12);
    expect(d.arith('Mul', 'h', 'w')).toBe(hw);
  });

  it('Conv output sizes: stride 1 with same padding keeps the dim, stride s of a multiple of s divides it, else one symbol per expression', () => {
    const d = new SymbolicDims();
    expect(d.convOut('h', 3, 1, 1, 1, 1)).toBe('h');
    expect(d.convOut('h', 1, 1, 1, 0, 0)).toBe('h');
    expect(d.convOut(64, 3, 2, 1, 1, 1)).toBe(32);
    expect(d.convOut(63, 3, 2, 1, 1, 1)).toBe(32);
    expect(d.convOut(d.product([2, 'h']), 3, 2, 1, 1, 1)).toBe('h');
    const down = d.convOut('h', 3, 2, 1, 1, 1);
    expect(typeof down).toBe('string');
    expect(d.convOut('h', 3, 2, 1, 1, 1)).toBe(down);
    expect(d.convOut('w', 3, 2, 1, 1, 1)).not.toBe(down);
    // A valid 3×3 conv shrinks by 2: a new symbol, not h.
    expect(d.same(d.convOut('h', 3, 1, 1, 0, 0), 'h')).toBe(false);
  });

  it('unify records runtime equalities; products become the representative so later arithmetic can divide', () => {
    const d = new SymbolicDims();
    const down = d.convOut('h', 3, 2, 1, 1, 1);
    const up = d.product([down, 2]);
    expect(d.same(up, 'h')).toBe(false);
    d.unify('h', up); // a skip Concat of the upsampled tensor with the full-size one
    expect(d.same(up, 'h')).toBe(true);
    expect(d.divisible('h', 2)).toBe(true);
    expect(d.convOut('h', 3, 2, 1, 1, 1)).toBe(down);
    d.unify('b', 'batch');
    expect(d.same('b', 'batch')).toBe(true);
    expect(d.same(d.broadcast('b', 'steps'), d.broadcast('steps', 'batch'))).toBe(true);
    d.unify('n', 7);
    expect(d.canon('n')).toBe(7);
  });

  it('a broadcast max collapses once its members are proven equal', () => {
    const d = new SymbolicDims();
    const m = d.broadcast('batch', 'steps');
    d.unify(m, 'batch'); // e.g. Concat of a time-conditioned tensor with a batch-sized skip
    expect(d.same(m, 'batch')).toBe(true);
    expect(d.canon(d.broadcast('batch', 'steps'))).toBe('batch');
  });
});
