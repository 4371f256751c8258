import type { ImagePoint } from './coordinates';

export type DirtyRect = { x: number; y: number; width: number; height: number };

/** What a dab does: the brush raises mask values towards 255, the eraser lowers them towards 0. */
export type BrushMode = 'brush' | 'eraser';

export interface Dab {
  /** In image pixels. */
  radius: number;
  /** 1 = hard edge; h < 1 = full strength out to h·radius, then a linear ramp down to 0 at radius. */
  hardness: number;
  mode: BrushMode;
}

/**
 * The inpainting mask in image coordinates, one byte per pixel: 255 = regenerate, 0 = keep.
 * Strokes stamp discs, so the mask is independent of how the canvas is displayed.
 */
export class MaskRaster {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    data?: Uint8Array,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new RangeError(`A mask needs a whole-pixel size of at least 1×1, not ${width}×${height}.`);
    }
    if (data && data.length !== width * height) throw new RangeError(`Mask data has ${data.length} bytes; ${width}×${height} needs ${width * height}.`);
    this.data = data ?? new Uint8Array(width * height);
  }

  /**
   * Stamps one dab. The coverage at a pixel whose centre is d from the dab's centre is
   * a(d) = 1 for d ≤ h·r, (r − d) / (r − h·r) for h·r < d < r, 0 beyond; the brush sets
   * m ← max(m, round(255·a)), the eraser m ← min(m, 255 − round(255·a)). Taking max/min (not
   * adding) means overlapping dabs of one stroke never build up beyond a single dab's profile.
   */
  stampDisc(center: ImagePoint, dab: Dab): DirtyRect | undefined {
    const r = dab.radius;
    if (!(r > 0)) return undefined;
    const x0 = Math.max(0, Math.floor(center.x - r));
    const x1 = Math.min(this.width - 1, Math.ceil(center.x + r));
    const y0 = Math.max(0, Math.floor(center.y - r));
    const y1 = Math.min(this.height - 1, Math.ceil(center.y + r));
    if (x0 > x1 || y0 > y1) return undefined;
    const hard = Math.min(1, Math.max(0, dab.hardness)) * r;
    const ramp = r - hard;
    for (let y = y0; y <= y1; y++) {
      const dy = y + 0.5 - center.y;
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - center.x;
        const d = Math.sqrt(dx * dx + dy * dy);
        if (d > r) continue;
        const a = d <= hard ? 1 : (r - d) / ramp;
        const v = Math.round(255 * a);
        const i = y * this.width + x;
        if (dab.mode === 'brush') {
          if (v > this.data[i]) this.data[i] = v;
        } else if (255 - v < this.data[i]) {
          this.data[i] = 255 - v;
        }
      }
    }
    return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  }

  /** Stamps dabs from a to b (excluding a, which the previous call stamped), spaced ≤ radius/4 apart. */
  stampSegment(a: ImagePoint, b: ImagePoint, dab: Dab): DirtyRect | undefined {
    const length = Math.hypot(b.x - a.x, b.y - a.y);
    const n = Math.max(1, Math.ceil(length / Math.max(0.5, dab.radius / 4)));
    let dirty: DirtyRect | undefined;
    for (let i = 1; i <= n; i++) {
      const t = i / n;
      const p: ImagePoint = { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t, space: 'image' };
      dirty = union(dirty, this.stampDisc(p, dab));
    }
    return dirty;
  }

  invert(): void {
    for (let i = 0; i < this.data.length; i++) this.data[i] = 255 - this.data[i];
  }

  clear(): void {
    this.data.fill(0);
  }

  isEmpty(): boolean {
    return !this.data.some((v) => v !== 0);
  }

  get bounds(): DirtyRect {
    return { x: 0, y: 0, width: this.width, height: this.height };
  }

  snapshot(): Uint8Array {
    return this.data.slice();
  }

  /** The bytes of `rect`, row by row. */
  readRect(rect: DirtyRect, from: Uint8Array = this.data): Uint8Array {
    const out = new Uint8Array(rect.width * rect.height);
    for (let row = 0; row < rect.height; row++) {
      const start = (rect.y + row) * this.width + rect.x;
      out.set(from.subarray(start, start + rect.width), row * rect.width);
    }
    return out;
  }

  writeRect(rect: DirtyRect, bytes: Uint8Array): void {
    for (let row = 0; row < rect.height; row++) {
      this.data.set(bytes.subarray(row * rect.width, (row + 1) * rect.width), (rect.y + row) * this.width + rect.x);
    }
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
