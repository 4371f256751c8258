import { useCallback, useEffect, useRef, type PointerEvent } from 'react';
import { screenPoint, screenToImage } from '../editor/coordinates';
import type { MaskBrush } from '../editor/MaskBrush';
import type { DirtyRect } from '../editor/MaskRaster';

// How painted mask pixels show over the photo; the mask itself is exported white-on-black.
const TINT = [255, 40, 120, 140] as const;

export interface PhotoMaskEditorProps {
  photoUrl: string;
  photoName: string;
  brush: MaskBrush;
  /** Bumped by the owner after undo/redo/clear so the overlay is redrawn from the mask. */
  revision: number;
  onStrokeEnd: () => void;
}

/** The photo with a canvas overlay at the photo's own resolution, where the mask brush paints. */
export function PhotoMaskEditor({ photoUrl, photoName, brush, revision, onStrokeEnd }: PhotoMaskEditorProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const overlayRef = useRef<ImageData | null>(null);
  const { mask } = brush;

  const draw = useCallback(
    (dirty: DirtyRect | undefined) => {
      const canvas = canvasRef.current;
      const overlay = overlayRef.current;
      if (!canvas || !overlay || !dirty) return;
      for (let y = dirty.y; y < dirty.y + dirty.height; y++) {
        for (let x = dirty.x; x < dirty.x + dirty.width; x++) {
          const i = y * mask.width + x;
          const on = mask.data[i] !== 0;
          for (let c = 0; c < 4; c++) overlay.data[4 * i + c] = on ? TINT[c] : 0;
        }
      }
      canvas.getContext('2d')!.putImageData(overlay, 0, 0, dirty.x, dirty.y, dirty.width, dirty.height);
    },
    [mask],
  );

  useEffect(() => {
    overlayRef.current = new ImageData(mask.width, mask.height);
    draw({ x: 0, y: 0, width: mask.width, height: mask.height });
  }, [mask, revision, draw]);

  const toImage = (e: PointerEvent<HTMLCanvasElement>) =>
    screenToImage(screenPoint(e.clientX, e.clientY), e.currentTarget.getBoundingClientRect(), mask);

  return (
    <div style={{ position: 'relative', width: 'fit-content', alignSelf: 'flex-start', lineHeight: 0, maxWidth: '100%' }}>
      <img
        src={photoUrl}
        alt={`Photo: ${photoName}`}
        draggable={false}
        style={{ display: 'block', maxWidth: '100%', maxHeight: '68vh' }}
      />
      <canvas
        ref={canvasRef}
        width={mask.width}
        height={mask.height}
        aria-label="Mask"
        style={{ position: 'absolute', inset: 0, width: '100%', height: '100%', cursor: 'crosshair', touchAction: 'none' }}
        onPointerDown={(e) => {
          if (e.button !== 0) return;
          e.currentTarget.setPointerCapture(e.pointerId);
          draw(brush.pointerDown(toImage(e)));
        }}
        onPointerMove={(e) => {
          if (brush.painting) draw(brush.pointerMove(toImage(e)));
        }}
        onPointerUp={() => {
          if (!brush.painting) return;
          brush.pointerUp();
          onStrokeEnd();
        }}
        onPointerCancel={() => {
          if (!brush.painting) return;
          brush.pointerUp();
          onStrokeEnd();
        }}
      />
    </div>
  );
}
