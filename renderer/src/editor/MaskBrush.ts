import type { ImagePoint } from './coordinates';
import type { DirtyRect, MaskRaster } from './MaskRaster';

type State = { kind: 'idle' } | { kind: 'painting'; last: ImagePoint; before: Uint8Array };

const MAX_UNDO = 30;

/**
 * The mask brush as a small state machine, Idle → Painting → Idle. A whole stroke (and a
 * "Clear mask") is one undo entry, recorded on pointer-up; moves mid-stroke are not.
 */
export class MaskBrush {
  private state: State = { kind: 'idle' };
  private readonly undoStack: Uint8Array[] = [];
  private readonly redoStack: Uint8Array[] = [];

  constructor(
    readonly mask: MaskRaster,
    public radius: number,
  ) {}

  get painting(): boolean {
    return this.state.kind === 'painting';
  }

  pointerDown(p: ImagePoint): DirtyRect | undefined {
    this.state = { kind: 'painting', last: p, before: this.mask.snapshot() };
    return this.mask.stampDisc(p, this.radius);
  }

  pointerMove(p: ImagePoint): DirtyRect | undefined {
    if (this.state.kind !== 'painting') return undefined;
    const dirty = this.mask.stampSegment(this.state.last, p, this.radius);
    this.state = { ...this.state, last: p };
    return dirty;
  }

  pointerUp(): void {
    if (this.state.kind !== 'painting') return;
    this.record(this.state.before);
    this.state = { kind: 'idle' };
  }

  clear(): void {
    if (this.mask.isEmpty()) return;
    this.record(this.mask.snapshot());
    this.mask.clear();
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  undo(): void {
    const previous = this.undoStack.pop();
    if (!previous) return;
    this.redoStack.push(this.mask.snapshot());
    this.mask.restore(previous);
  }

  redo(): void {
    const next = this.redoStack.pop();
    if (!next) return;
    this.undoStack.push(this.mask.snapshot());
    this.mask.restore(next);
  }

  private record(before: Uint8Array): void {
    this.undoStack.push(before);
    if (this.undoStack.length > MAX_UNDO) this.undoStack.shift();
    this.redoStack.length = 0;
  }
}
