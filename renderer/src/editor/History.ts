import type { DirtyRect, MaskRaster } from './MaskRaster';

/**
 * The editor's undo history. Policy — what enters history, and when:
 * - a brush or eraser stroke: one entry, on pointer-up (moves mid-stroke do not);
 * - "Invert mask" and "Clear mask": one entry each (a clear of an empty mask: none);
 * - a job result: its own entry when it arrives, however long after Generate (undo hides it);
 * - settings (prompt, sliders, brush size, zoom, pan, mode): never.
 * A new entry after some undos discards the redo branch. At most `limit` entries are kept.
 * Mask entries hold only the changed rectangle before and after, not whole masks.
 * The stack lives in memory: a reopened project gets its mask, results and hidden results back
 * from disk, with an empty undo stack.
 */
export type HistoryEntry =
  | { kind: 'mask'; label: string; rect: DirtyRect; before: Uint8Array; after: Uint8Array }
  | { kind: 'result'; label: string; resultId: string };

/** What history entries change: the mask, and which results are shown. */
export interface EditorDocument {
  mask: MaskRaster;
  hiddenResultIds: Set<string>;
}

export const HISTORY_LIMIT = 100;

export class History {
  private entries: HistoryEntry[] = [];
  /** entries[0 … cursor) are applied; entries[cursor …) can be redone. */
  private cursor = 0;

  constructor(private readonly limit = HISTORY_LIMIT) {}

  /** Records an entry whose change has already been applied to the document. */
  push(entry: HistoryEntry): void {
    this.entries.length = this.cursor;
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    this.cursor = this.entries.length;
  }

  get canUndo(): boolean {
    return this.cursor > 0;
  }

  get canRedo(): boolean {
    return this.cursor < this.entries.length;
  }

  /** Label of what Undo / Redo would do next, for tooltips. */
  get undoLabel(): string | undefined {
    return this.entries[this.cursor - 1]?.label;
  }

  get redoLabel(): string | undefined {
    return this.entries[this.cursor]?.label;
  }

  undo(doc: EditorDocument): HistoryEntry | undefined {
    if (!this.canUndo) return undefined;
    const entry = this.entries[--this.cursor];
    apply(doc, entry, 'undo');
    return entry;
  }

  redo(doc: EditorDocument): HistoryEntry | undefined {
    if (!this.canRedo) return undefined;
    const entry = this.entries[this.cursor++];
    apply(doc, entry, 'redo');
    return entry;
  }

  clear(): void {
    this.entries = [];
    this.cursor = 0;
  }

  /** Labels of applied entries, oldest first (saved with the project for the record). */
  get appliedLabels(): string[] {
    return this.entries.slice(0, this.cursor).map((e) => e.label);
  }
}

function apply(doc: EditorDocument, entry: HistoryEntry, direction: 'undo' | 'redo'): void {
  if (entry.kind === 'mask') {
    doc.mask.writeRect(entry.rect, direction === 'undo' ? entry.before : entry.after);
  } else if (direction === 'undo') {
    doc.hiddenResultIds.add(entry.resultId);
  } else {
    doc.hiddenResultIds.delete(entry.resultId);
  }
}

/** A whole-mask operation (invert, clear) as a history entry; call after changing the mask. */
export function wholeMaskEntry(label: string, mask: MaskRaster, before: Uint8Array): HistoryEntry {
  return { kind: 'mask', label, rect: mask.bounds, before, after: mask.snapshot() };
}
