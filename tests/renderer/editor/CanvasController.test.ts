import { describe, expect, it } from 'vitest';
import { CanvasController, MIDDLE_BUTTON, PRIMARY_BUTTON } from '../../../renderer/src/editor/CanvasController';
import { screenPoint } from '../../../renderer/src/editor/coordinates';
import { History } from '../../../renderer/src/editor/History';
import { MaskRaster } from '../../../renderer/src/editor/MaskRaster';
import { screenToImage } from '../../../renderer/src/editor/Viewport';

const at = (m: MaskRaster, x: number, y: number) => m.data[y * m.width + x];
const down = (c: CanvasController, x: number, y: number, button = PRIMARY_BUTTON) => c.pointerDown({ point: screenPoint(x, y), button });
const move = (c: CanvasController, x: number, y: number, button = PRIMARY_BUTTON) => c.pointerMove({ point: screenPoint(x, y), button });

describe('CanvasController (pointer events in, mask pixels out)', () => {
  it('paints in image coordinates on a zoomed, panned view of an odd-sized photo', () => {
    // 451×300 like chelsea.png; shown at 250 % and shifted: screen = image · 2.5 + (−100, 30).
    const c = new CanvasController(new MaskRaster(451, 300), { radius: 3, hardness: 1, mode: 'brush' });
    c.viewport = { scale: 2.5, offsetX: -100, offsetY: 30 };
    expect(c.state).toBe('idle');
    down(c, 200, 180); // image (120, 60)
    expect(c.state).toBe('painting');
    for (let x = 210; x <= 300; x += 10) move(c, x, 180); // to image (160, 60)
    const { committed } = c.pointerUp();
    expect(c.state).toBe('idle');

    const m = c.mask;
    // Along y = 60 (centre 60.5 is 0.5 from the line): from 117 (|117.5 − 120| = 2.5 ≤ 3) to 162.
    expect([at(m, 116, 60), at(m, 117, 60), at(m, 140, 60), at(m, 162, 60), at(m, 163, 60)]).toEqual([0, 255, 255, 255, 0]);
    // Across it at x = 140: rows 57…62 (centres within 3 of y = 60), not 56 or 63.
    expect([56, 57, 62, 63].map((y) => at(m, 140, y))).toEqual([0, 255, 255, 0]);
    // The entry's rectangle is the dabs' boxes: floor(120 − 3) … ceil(160 + 3) by floor(60 − 3) … ceil(60 + 3).
    expect(committed).toMatchObject({ kind: 'mask', label: 'Brush stroke', rect: { x: 117, y: 57, width: 47, height: 7 } });
  });

  it('keeps the stroke under the pointer after a wheel zoom and a space-drag pan', () => {
    const c = new CanvasController(new MaskRaster(101, 77), { radius: 2, hardness: 1, mode: 'brush' });
    c.fit({ width: 400, height: 300 });
    c.wheel(screenPoint(150, 120), -300);
    c.spaceHeld = true;
    down(c, 100, 100);
    expect(c.state).toBe('panning');
    const panned = move(c, 130, 90).viewport!;
    c.pointerUp();
    expect(c.mask.isEmpty()).toBe(true);
    c.spaceHeld = false;

    const target = screenToImage(panned, screenPoint(222, 111));
    down(c, 222, 111);
    c.pointerUp();
    expect(at(c.mask, Math.floor(target.x), Math.floor(target.y))).toBe(255);
  });

  it('pans with the middle button and never paints with it', () => {
    const c = new CanvasController(new MaskRaster(50, 50), { radius: 5, hardness: 1, mode: 'brush' });
    down(c, 10, 10, MIDDLE_BUTTON);
    expect(c.state).toBe('panning');
    expect(move(c, 25, 5).viewport).toEqual({ scale: 1, offsetX: 15, offsetY: -5 });
    expect(c.pointerUp()).toEqual({});
    expect(c.mask.isEmpty()).toBe(true);
    // Right button: nothing.
    down(c, 10, 10, 2);
    expect(c.state).toBe('idle');
  });

  it('erases, and a stroke that changed nothing makes no history entry', () => {
    const c = new CanvasController(new MaskRaster(20, 20), { radius: 3, hardness: 1, mode: 'eraser' });
    down(c, 10, 10);
    expect(c.pointerUp().committed).toBeUndefined();
    c.mask.data.fill(255);
    down(c, 10, 10);
    const { committed } = c.pointerUp();
    expect(committed?.label).toBe('Eraser stroke');
    expect([at(c.mask, 10, 10), at(c.mask, 0, 0)]).toEqual([0, 255]);
  });

  it('strokes undo and redo exactly; mid-stroke moves are not separate entries', () => {
    const c = new CanvasController(new MaskRaster(64, 48), { radius: 4, hardness: 0.5, mode: 'brush' });
    const history = new History();
    const doc = { mask: c.mask, hiddenResultIds: new Set<string>() };
    down(c, 10, 10);
    move(c, 30, 12);
    move(c, 50, 30);
    history.push(c.pointerUp().committed!);
    const afterFirst = c.mask.snapshot();
    down(c, 20, 40);
    move(c, 40, 40);
    history.push(c.pointerUp().committed!);
    const afterSecond = c.mask.snapshot();

    history.undo(doc);
    expect(c.mask.data).toEqual(afterFirst);
    history.undo(doc);
    expect(c.mask.isEmpty()).toBe(true);
    expect(history.canUndo).toBe(false);
    history.redo(doc);
    history.redo(doc);
    expect(c.mask.data).toEqual(afterSecond);
  });

  it('Escape (cancel) mid-stroke puts back the mask as it was, commits nothing, and ends a pan', () => {
    const c = new CanvasController(new MaskRaster(64, 48), { radius: 4, hardness: 1, mode: 'brush' });
    down(c, 10, 10);
    move(c, 40, 10);
    c.pointerUp();
    const before = c.mask.snapshot();
    // A second stroke crossing the first, then Escape before pointer-up.
    down(c, 20, 2);
    move(c, 20, 40);
    expect(at(c.mask, 20, 30)).toBe(255);
    const { dirty } = c.cancel();
    expect(dirty).toMatchObject({ x: 16, y: 0 });
    expect(c.state).toBe('idle');
    expect(Buffer.from(c.mask.data).equals(Buffer.from(before))).toBe(true);
    expect(c.pointerUp()).toEqual({}); // the button's release after Escape records nothing
    // Escape while panning just stops the pan.
    c.spaceHeld = true;
    down(c, 5, 5);
    expect(c.state).toBe('panning');
    expect(c.cancel()).toEqual({});
    expect(c.state).toBe('idle');
  });
});
