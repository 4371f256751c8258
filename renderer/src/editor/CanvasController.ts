import { BrushTool } from './BrushTool';
import type { ScreenPoint } from './coordinates';
import type { HistoryEntry } from './History';
import type { Dab, DirtyRect, MaskRaster } from './MaskRaster';
import { PanTool } from './PanTool';
import { fitViewport, IDENTITY, screenToImage, wheelZoomFactor, zoomAt, type Size, type Viewport } from './Viewport';

/** Pointer buttons as DOM numbers them. */
export const PRIMARY_BUTTON = 0;
export const MIDDLE_BUTTON = 1;

export interface PointerInput {
  /** Relative to the viewport element's top-left corner, in CSS pixels. */
  point: ScreenPoint;
  button: number;
}

/** What a pointer event changed, for the view to redraw. */
export interface CanvasChange {
  dirty?: DirtyRect;
  viewport?: Viewport;
  /** Set when a stroke ended: the entry to push onto the history. */
  committed?: HistoryEntry;
}

/**
 * Routes pointer, wheel and key input to the tools, free of the DOM so it can be driven
 * headlessly. Middle button, or the primary button while Space is held, pans; the primary
 * button otherwise paints with the brush (or eraser) in image coordinates.
 */
export class CanvasController {
  viewport: Viewport = IDENTITY;
  spaceHeld = false;
  /** False while the mask is not editable (e.g. Generate mode): the primary button then pans. */
  paintEnabled = true;
  readonly brush: BrushTool;
  private readonly pan = new PanTool();

  constructor(mask: MaskRaster, dab: Dab) {
    this.brush = new BrushTool(mask, dab);
  }

  get mask(): MaskRaster {
    return this.brush.mask;
  }

  get state(): 'idle' | 'painting' | 'panning' {
    return this.brush.painting ? 'painting' : this.pan.panning ? 'panning' : 'idle';
  }

  pointerDown(input: PointerInput): CanvasChange {
    if (this.state !== 'idle') return {};
    if (input.button === MIDDLE_BUTTON || (input.button === PRIMARY_BUTTON && (this.spaceHeld || !this.paintEnabled))) {
      this.pan.pointerDown(input.point);
      return {};
    }
    if (input.button !== PRIMARY_BUTTON) return {};
    return { dirty: this.brush.pointerDown(screenToImage(this.viewport, input.point)) };
  }

  pointerMove(input: PointerInput): CanvasChange {
    if (this.brush.painting) return { dirty: this.brush.pointerMove(screenToImage(this.viewport, input.point)) };
    if (this.pan.panning) {
      this.viewport = this.pan.pointerMove(input.point, this.viewport);
      return { viewport: this.viewport };
    }
    return {};
  }

  /** Pointer-up and pointer-cancel alike: a stroke is kept and committed either way. */
  pointerUp(): CanvasChange {
    if (this.pan.panning) {
      this.pan.pointerUp();
      return {};
    }
    const committed = this.brush.pointerUp();
    return committed ? { committed } : {};
  }

  /** Escape: a stroke in progress is undone and never committed; a pan just stops. */
  cancel(): CanvasChange {
    if (this.pan.panning) {
      this.pan.pointerUp();
      return {};
    }
    return { dirty: this.brush.cancel() };
  }

  wheel(point: ScreenPoint, deltaY: number): Viewport {
    this.viewport = zoomAt(this.viewport, point, wheelZoomFactor(deltaY));
    return this.viewport;
  }

  zoomBy(factor: number, view: Size): Viewport {
    this.viewport = zoomAt(this.viewport, { x: view.width / 2, y: view.height / 2, space: 'screen' }, factor);
    return this.viewport;
  }

  fit(view: Size): Viewport {
    this.viewport = fitViewport(this.mask, view);
    return this.viewport;
  }
}
