import { describe, expect, it } from 'vitest';
import { History, wholeMaskEntry } from '../../../renderer/src/editor/History';
import { MaskRaster } from '../../../renderer/src/editor/MaskRaster';

function doc(w = 4, h = 2) {
  return { mask: new MaskRaster(w, h), hiddenResultIds: new Set<string>() };
}

describe('History', () => {
  it('invert and clear are whole-mask entries that undo to the exact bytes', () => {
    const d = doc();
    d.mask.data.set([0, 50, 100, 255, 1, 2, 3, 4]);
    const h = new History();
    let before = d.mask.snapshot();
    d.mask.invert();
    h.push(wholeMaskEntry('Invert mask', d.mask, before));
    before = d.mask.snapshot();
    d.mask.clear();
    h.push(wholeMaskEntry('Clear mask', d.mask, before));
    expect(h.undoLabel).toBe('Clear mask');

    h.undo(d);
    expect([...d.mask.data]).toEqual([255, 205, 155, 0, 254, 253, 252, 251]);
    h.undo(d);
    expect([...d.mask.data]).toEqual([0, 50, 100, 255, 1, 2, 3, 4]);
    expect(h.redoLabel).toBe('Invert mask');
    h.redo(d);
    h.redo(d);
    expect(d.mask.isEmpty()).toBe(true);
  });

  it('a result is its own entry: undo hides it, redo shows it again', () => {
    const d = doc();
    const h = new History();
    h.push({ kind: 'result', label: 'Result 1', resultId: 'r-1' });
    h.undo(d);
    expect([...d.hiddenResultIds]).toEqual(['r-1']);
    h.redo(d);
    expect(d.hiddenResultIds.size).toBe(0);
  });

  it('a new entry after undo discards the redo branch', () => {
    const d = doc();
    const h = new History();
    h.push({ kind: 'result', label: 'a', resultId: 'a' });
    h.push({ kind: 'result', label: 'b', resultId: 'b' });
    h.undo(d);
    h.push({ kind: 'result', label: 'c', resultId: 'c' });
    expect(h.canRedo).toBe(false);
    expect(h.appliedLabels).toEqual(['a', 'c']);
    expect(h.redo(d)).toBeUndefined();
  });

  it('keeps at most `limit` entries, dropping the oldest', () => {
    const h = new History(3);
    for (const id of ['1', '2', '3', '4', '5']) h.push({ kind: 'result', label: id, resultId: id });
    expect(h.appliedLabels).toEqual(['3', '4', '5']);
    const d = doc();
    while (h.undo(d));
    expect([...d.hiddenResultIds].sort()).toEqual(['3', '4', '5']);
  });
});
