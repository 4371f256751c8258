import type { ImagePoint } from './coordinates';

export type DirtyRect = { x: number; y: number; width: number; height: number };

/**
 * The inpainting mask in image coordinates, one byte per pixel: 255 = regenerate, 0 = keep.
 * Strokes stamp discs, so the mask is independent of how the canvas is displayed.
 */
export class MaskRaster {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height);
  }

  /** Paints a disc of `radius` image pixels; returns the pixels it may have changed. */
  stampDisc(center: ImagePoint, radius: number): DirtyRect | undefined {
    const x0 = Math.max(0, Math.floor(center.x - radius));
    const x1 = Math.min(this.width - 1, Math.ceil(center.x + radius));
    const y0 = Math.max(0, Math.floor(center.y - radius));
    const y1 = Math.min(this.height - 1, Math.ceil(center.y + radius));
    if (x0 > x1 || y0 > y1) return undefined;
    const r2 = radius * radius;
    for (let y = y0; y <= y1; y++) {
      // Pixel centres are at integer + 0.5.
      const dy = y + 0.5 - center.y;
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - center.x;
        if (dx * dx + dy * dy <= r2) this.data[y * this.width + x] = 255;
      }
    }
    return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  }

  /** Paints the capsule from a to b: discs spaced at most radius/2 apart along the segment. */
  stampSegment(a: ImagePoint, b: ImagePoint, radius: number): DirtyRect | undefined {
    const length = Math.hypot(b.x - a.x, b.y - a.y);
    const n = Math.max(1, Math.ceil(length / Math.max(0.5, radius / 2)));
    let dirty: DirtyRect | undefined;
    for (let i = 0; i <= n; i++) {
      const t = i / n;
      const p = { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t, space: 'image' as const };
      dirty = union(dirty, this.stampDisc(p, radius));
    }
    return dirty;
  }

  clear(): void {
    this.data.fill(0);
  }

  isEmpty(): boolean {
    return !this.data.some((v) => v !== 0);
  }

  snapshot(): Uint8Array {
    return this.data.slice();
  }

  restore(snapshot: Uint8Array): void {
    this.data.set(snapshot);
  }
}

export function union(a: DirtyRect | undefined, b: DirtyRect | undefined): DirtyRect | undefined {
  if (!a) return b;
  if (!b) return a;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}
