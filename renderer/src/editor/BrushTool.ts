import type { ImagePoint } from './coordinates';
import type { HistoryEntry } from './History';
import { union, type Dab, type DirtyRect, type MaskRaster } from './MaskRaster';

type State = { kind: 'idle' } | { kind: 'painting'; last: ImagePoint; before: Uint8Array; dirty: DirtyRect | undefined };

/**
 * The brush and the eraser, as a state machine Idle → Painting → Idle. Everything is in image
 * coordinates; the stroke becomes one history entry on pointer-up (the rectangle it touched,
 * before and after), or is undone without one by cancel().
 */
export class BrushTool {
  private state: State = { kind: 'idle' };

  constructor(
    readonly mask: MaskRaster,
    public dab: Dab,
  ) {}

  get painting(): boolean {
    return this.state.kind === 'painting';
  }

  pointerDown(p: ImagePoint): DirtyRect | undefined {
    const before = this.mask.snapshot();
    const dirty = this.mask.stampDisc(p, this.dab);
    this.state = { kind: 'painting', last: p, before, dirty };
    return dirty;
  }

  pointerMove(p: ImagePoint): DirtyRect | undefined {
    if (this.state.kind !== 'painting') return undefined;
    const dirty = this.mask.stampSegment(this.state.last, p, this.dab);
    this.state = { ...this.state, last: p, dirty: union(this.state.dirty, dirty) };
    return dirty;
  }

  /**
   * Abandons the stroke (Escape): the mask goes back to what it was at pointer-down and nothing
   * enters the history. Returns the area to redraw.
   */
  cancel(): DirtyRect | undefined {
    if (this.state.kind !== 'painting') return undefined;
    const { before, dirty } = this.state;
    this.state = { kind: 'idle' };
    if (dirty) this.mask.writeRect(dirty, this.mask.readRect(dirty, before));
    return dirty;
  }

  /** Ends the stroke; its history entry, or undefined when it changed no pixel. */
  pointerUp(): HistoryEntry | undefined {
    if (this.state.kind !== 'painting') return undefined;
    const { before, dirty } = this.state;
    this.state = { kind: 'idle' };
    if (!dirty) return undefined;
    const old = this.mask.readRect(dirty, before);
    const now = this.mask.readRect(dirty);
    if (old.every((v, i) => v === now[i])) return undefined;
    return { kind: 'mask', label: this.dab.mode === 'eraser' ? 'Eraser stroke' : 'Brush stroke', rect: dirty, before: old, after: now };
  }
}
