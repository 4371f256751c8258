import { describe, expect, it } from 'vitest';
import { imagePoint } from '../../../renderer/src/editor/coordinates';
import { MaskRaster, type Dab } from '../../../renderer/src/editor/MaskRaster';

const hard = (radius: number): Dab => ({ radius, hardness: 1, mode: 'brush' });
const painted = (m: MaskRaster) => {
  const out: string[] = [];
  for (let y = 0; y < m.height; y++) for (let x = 0; x < m.width; x++) if (m.data[y * m.width + x]) out.push(`${x},${y}`);
  return out;
};
const row = (m: MaskRaster, y: number, x0: number, x1: number) => [...m.data.subarray(y * m.width + x0, y * m.width + x1 + 1)];

describe('MaskRaster', () => {
  it('a hard dab covers exactly the pixels whose centres lie within the radius', () => {
    const m = new MaskRaster(11, 11);
    // Centre on a pixel corner: centre offsets are ±0.5 and ±1.5; 0.5²+1.5² = 2.5 ≤ 4 < 1.5²+1.5².
    m.stampDisc(imagePoint(5, 5), hard(2));
    expect(painted(m).sort()).toEqual(
      ['4,3', '5,3', '3,4', '4,4', '5,4', '6,4', '3,5', '4,5', '5,5', '6,5', '4,6', '5,6'].sort(),
    );
    expect(m.data.filter((v) => v !== 0 && v !== 255)).toHaveLength(0);
  });

  it('hardness h keeps full strength to h·r, then falls linearly to zero at r', () => {
    const m = new MaskRaster(41, 41);
    // Pixel (20 + k, 20) has its centre exactly k from the dab centre.
    m.stampDisc(imagePoint(20.5, 20.5), { radius: 10, hardness: 0.5, mode: 'brush' });
    // a(k) = 1 for k ≤ 5, (10 − k) / 5 beyond: 0.8, 0.6, 0.4, 0.2, 0 → ×255.
    expect(row(m, 20, 20, 31)).toEqual([255, 255, 255, 255, 255, 255, 204, 153, 102, 51, 0, 0]);
    // Symmetric in every direction.
    expect([...m.data.subarray(0)].filter((_, i) => i % 41 === 20).slice(20, 32)).toEqual([255, 255, 255, 255, 255, 255, 204, 153, 102, 51, 0, 0]);
    // Hardness 0 is a cone: a(k) = 1 − k/10.
    const cone = new MaskRaster(41, 41);
    cone.stampDisc(imagePoint(20.5, 20.5), { radius: 10, hardness: 0, mode: 'brush' });
    expect(row(cone, 20, 20, 30)).toEqual([255, 230, 204, 179, 153, 128, 102, 77, 51, 26, 0]);
  });

  it('the eraser lowers values with the same profile, and never raises them', () => {
    const m = new MaskRaster(41, 41);
    m.data.fill(255);
    m.data[20 * 41 + 29] = 10; // already lower than the eraser would leave (255 − 51)
    m.stampDisc(imagePoint(20.5, 20.5), { radius: 10, hardness: 0.5, mode: 'eraser' });
    expect(row(m, 20, 20, 31)).toEqual([0, 0, 0, 0, 0, 0, 51, 102, 153, 10, 255, 255]);
  });

  it('overlapping dabs of the brush take the maximum instead of building up', () => {
    const once = new MaskRaster(41, 41);
    once.stampDisc(imagePoint(20.5, 20.5), { radius: 10, hardness: 0.2, mode: 'brush' });
    const twice = new MaskRaster(41, 41);
    for (let i = 0; i < 3; i++) twice.stampDisc(imagePoint(20.5, 20.5), { radius: 10, hardness: 0.2, mode: 'brush' });
    expect(twice.data).toEqual(once.data);
  });

  it('clips dabs at the edges and reports the clipped rectangle', () => {
    const m = new MaskRaster(7, 5);
    expect(m.stampDisc(imagePoint(0, 0), hard(2))).toEqual({ x: 0, y: 0, width: 3, height: 3 });
    // (1, 1) has its centre (1.5, 1.5) at 2.12 > 2.
    expect(painted(m).sort()).toEqual(['0,0', '0,1', '1,0']);
    expect(m.stampDisc(imagePoint(-10, -10), hard(2))).toBeUndefined();
  });

  it('a segment paints a capsule without gaps', () => {
    const m = new MaskRaster(60, 20);
    m.stampSegment(imagePoint(10, 10), imagePoint(50, 10), hard(3));
    // Pixel centres y = 9.5 and 10.5 along the whole segment are inside.
    for (let x = 10; x < 50; x++) expect([m.data[9 * 60 + x], m.data[10 * 60 + x]], `x=${x}`).toEqual([255, 255]);
    expect(m.data[10 * 60 + 55]).toBe(0);
  });

  it('inverts, clears, and round-trips rectangles', () => {
    const m = new MaskRaster(4, 3);
    m.data.set([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
    const rect = { x: 1, y: 1, width: 2, height: 2 };
    expect([...m.readRect(rect)]).toEqual([50, 60, 90, 100]);
    m.invert();
    expect([...m.data.subarray(0, 4)]).toEqual([255, 245, 235, 225]);
    m.writeRect(rect, Uint8Array.from([1, 2, 3, 4]));
    expect([...m.data]).toEqual([255, 245, 235, 225, 215, 1, 2, 185, 175, 3, 4, 145]);
    m.clear();
    expect(m.isEmpty()).toBe(true);
    expect(() => new MaskRaster(0, 3)).toThrow(/at least 1×1/);
  });
});
