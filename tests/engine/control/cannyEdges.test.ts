import { describe, expect, it } from 'vitest';
import { cannyEdges } from '../../../main/engine/control/cannyEdges';

const W = 32;
const H = 32;

function image(value: (x: number, y: number) => number): Float32Array {
  return Float32Array.from({ length: W * H }, (_, i) => value(i % W, Math.floor(i / W)));
}

const edgeAt = (e: Uint8Array, x: number, y: number) => e[y * W + x] === 1;

describe('cannyEdges', () => {
  // A white square [8, 24)² on black: its border runs between pixels 7|8 and 23|24.
  const square = image((x, y) => (x >= 8 && x < 24 && y >= 8 && y < 24 ? 1 : 0));
  const edges = cannyEdges(square, W, H);
  const near = (v: number) => v === 7 || v === 8 || v === 23 || v === 24;

  it('puts every edge pixel on the square border (one of the two pixels either side of it), none inside or outside', () => {
    let count = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if (!edgeAt(edges, x, y)) continue;
        count++;
        const inBox = x >= 7 && x <= 24 && y >= 7 && y <= 24;
        expect(inBox && (near(x) || near(y)), `edge at (${x}, ${y})`).toBe(true);
      }
    }
    expect(count).toBeGreaterThan(50);
  });

  it('thins each side to a line 1–2 pixels wide along its whole straight part', () => {
    for (let t = 10; t < 22; t++) {
      const across = (pick: (d: number) => [number, number], lo: number) =>
        [lo - 1, lo, lo + 1, lo + 2].filter((d) => edgeAt(edges, ...pick(d))).length;
      for (const lo of [7, 23]) {
        const rows = across((d) => [d, t], lo);
        const cols = across((d) => [t, d], lo);
        expect(rows, `row ${t} near x=${lo}`).toBeGreaterThanOrEqual(1);
        expect(rows).toBeLessThanOrEqual(2);
        expect(cols, `column ${t} near y=${lo}`).toBeGreaterThanOrEqual(1);
        expect(cols).toBeLessThanOrEqual(2);
      }
    }
  });

  it('scales magnitudes to step height: a straight step of 0.19 is below the high threshold 0.2, one of 0.21 is an edge', () => {
    const step = (h: number) => image((x) => (x >= 16 ? h : 0));
    expect(cannyEdges(step(0.19), W, H).reduce((s, v) => s + v, 0)).toBe(0);
    const strong = cannyEdges(step(0.21), W, H);
    // One full-height line, at one of the two pixels beside the step.
    expect(strong.reduce((s, v) => s + v, 0)).toBe(H);
    const column = [15, 16].find((x) => edgeAt(strong, x, 0))!;
    for (let y = 0; y < H; y++) expect(edgeAt(strong, column, y)).toBe(true);
    // Thresholds are settings: with high 0.18 the 0.19 step is an edge too.
    expect(cannyEdges(step(0.19), W, H, { low: 0.05, high: 0.18 }).reduce((s, v) => s + v, 0)).toBe(H);
  });

  it('keeps weak edges (between low and high) only where they connect to a strong edge', () => {
    // A step of 0.15 is weak everywhere: nothing survives.
    const weak = image((x) => (x >= 16 ? 0.15 : 0));
    expect(cannyEdges(weak, W, H).reduce((s, v) => s + v, 0)).toBe(0);
    // A step whose height falls from 0.5 (row 0) to 0.12 (row 31) is strong at the top and weak
    // (below 0.2) from row 25 down; the weak rows are kept through the line's strong part.
    const height = (y: number) => 0.5 - ((0.5 - 0.12) * y) / 31;
    const e = cannyEdges(image((x, y) => (x >= 16 ? height(y) : 0)), W, H);
    for (let y = 0; y < H; y++) expect(edgeAt(e, 15, y) || edgeAt(e, 16, y), `row ${y}`).toBe(true);
    // The weak rows alone, without the strong part, vanish.
    const weakRows = cannyEdges(image((x, y) => (x >= 16 ? height(Math.max(25, y)) : 0)), W, H);
    expect(weakRows.reduce((s, v) => s + v, 0)).toBe(0);
  });

  it('finds nothing in a flat image and rejects bad thresholds', () => {
    expect(cannyEdges(image(() => 0.4), W, H).reduce((s, v) => s + v, 0)).toBe(0);
    expect(() => cannyEdges(square, W, H, { low: 0.3, high: 0.2 })).toThrow(/low ≤ high/);
  });
});
