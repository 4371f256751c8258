import { ActionIcon, Box, Group, Loader, Paper, Text, Tooltip } from '@mantine/core';
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type PointerEvent, type ReactNode } from 'react';
import type { CanvasController } from '../editor/CanvasController';
import { screenPoint } from '../editor/coordinates';
import type { HistoryEntry } from '../editor/History';
import type { DirtyRect } from '../editor/MaskRaster';
import { comparePercent, MAX_SCALE, MIN_SCALE, type Viewport } from '../editor/Viewport';

// How painted mask pixels show over the photo (the mask itself is exported white-on-black).
const TINT = [255, 48, 112] as const;
const TINT_OPACITY = 0.55;

export interface CanvasImage {
  url: string;
  width: number;
  height: number;
  alt: string;
}

export interface CanvasViewProps {
  /** The layer the viewport is fitted to (the photo, or in Generate mode the shown result). */
  base: CanvasImage | null;
  /** Owns the mask and the viewport; its mask has the base image's size. */
  controller: CanvasController | null;
  showMask: boolean;
  paintEnabled: boolean;
  /** An "after" image drawn over the base, right of the compare position (percent of the width). */
  compare: CanvasImage | null;
  comparePosition: number;
  /** Dragging on the picture in before/after view moves the divider (Space or the middle button still pans). */
  onComparePosition?: (percent: number) => void;
  /** Bumped by the owner after undo/redo/invert/clear so the overlay is redrawn from the mask. */
  maskRevision: number;
  /** In image pixels. */
  brushDiameter: number;
  onCommit: (entry: HistoryEntry) => void;
  placeholder: ReactNode;
  /** Floating controls at the canvas's top-left corner (the before/after switch). */
  overlay?: ReactNode;
  /** While set (e.g. "Opening chelsea.png…"), a loader with this text covers the canvas. */
  busy?: string;
}

/**
 * The canvas: the photo layer, the mask layer (a canvas at the photo's own resolution) and an
 * optional "after" layer, all inside one element transformed by the viewport, so every layer
 * stays registered to the image grid at any zoom. Input goes through the CanvasController.
 */
export function CanvasView(props: CanvasViewProps) {
  const { base, controller, showMask, paintEnabled, compare, comparePosition, onComparePosition, maskRevision, brushDiameter, onCommit, placeholder, overlay, busy } = props;
  // A primary-button drag on the before/after view moves its divider rather than the picture.
  const draggingDivider = useRef(false);
  const frameRef = useRef<HTMLDivElement>(null);
  const maskRef = useRef<HTMLCanvasElement | null>(null);
  // The mask canvas mounts only once the viewport is known; it is drawn whole when it does.
  const [maskCanvas, setMaskCanvas] = useState<HTMLCanvasElement | null>(null);
  const overlayRef = useRef<ImageData | null>(null);
  const [viewport, setViewport] = useState<Viewport | null>(null);
  const [cursor, setCursor] = useState<{ x: number; y: number } | null>(null);
  const [panning, setPanning] = useState(false);
  /** The view is fitted and the user has not zoomed or panned since: a resized canvas re-fits it. */
  const fitted = useRef(true);

  const frameSize = () => {
    const r = frameRef.current?.getBoundingClientRect();
    return { width: r?.width ?? 800, height: r?.height ?? 600 };
  };

  // A new image (or controller) is shown fitted to the frame.
  useLayoutEffect(() => {
    if (!controller) return setViewport(null);
    fitted.current = true;
    setViewport(controller.fit(frameSize()));
  }, [controller]);

  // The window or a panel beside the canvas changed its size: a fitted view fits the new size.
  useEffect(() => {
    const frame = frameRef.current;
    if (!frame || !controller) return;
    const observer = new ResizeObserver(() => {
      if (fitted.current) setViewport(controller.fit(frameSize()));
    });
    observer.observe(frame);
    return () => observer.disconnect();
  }, [controller]);

  useEffect(() => {
    if (controller) controller.paintEnabled = paintEnabled;
  }, [controller, paintEnabled]);

  const draw = useCallback(
    (dirty: DirtyRect | undefined) => {
      const canvas = maskRef.current;
      const overlay = overlayRef.current;
      if (!controller || !canvas || !overlay || !dirty) return;
      const { mask } = controller;
      for (let y = dirty.y; y < dirty.y + dirty.height; y++) {
        for (let x = dirty.x; x < dirty.x + dirty.width; x++) {
          const i = y * mask.width + x;
          const v = mask.data[i];
          overlay.data[4 * i] = TINT[0];
          overlay.data[4 * i + 1] = TINT[1];
          overlay.data[4 * i + 2] = TINT[2];
          overlay.data[4 * i + 3] = Math.round(v * TINT_OPACITY);
        }
      }
      canvas.getContext('2d')!.putImageData(overlay, 0, 0, dirty.x, dirty.y, dirty.width, dirty.height);
    },
    [controller],
  );

  useEffect(() => {
    if (!controller) return;
    overlayRef.current = new ImageData(controller.mask.width, controller.mask.height);
    draw(controller.mask.bounds);
  }, [controller, maskRevision, draw, maskCanvas]);

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const frame = frameRef.current;
    if (!frame || !controller) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = frame.getBoundingClientRect();
      fitted.current = false;
      setViewport(controller.wheel(screenPoint(e.clientX - r.left, e.clientY - r.top), e.deltaY));
    };
    frame.addEventListener('wheel', onWheel, { passive: false });
    return () => frame.removeEventListener('wheel', onWheel);
  }, [controller]);

  // Space held (outside text fields) turns the primary button into panning.
  useEffect(() => {
    if (!controller) return;
    const typing = (e: KeyboardEvent) => e.target instanceof HTMLElement && e.target.closest('input, textarea, select, [contenteditable="true"]') !== null;
    const down = (e: KeyboardEvent) => {
      if (e.code !== 'Space' || typing(e)) return;
      if (e.target === document.body || frameRef.current?.contains(e.target as Node)) e.preventDefault();
      controller.spaceHeld = true;
      setPanning(true);
    };
    const up = (e: KeyboardEvent) => {
      if (e.code !== 'Space') return;
      controller.spaceHeld = false;
      setPanning(false);
    };
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  }, [controller]);

  // Escape abandons a stroke mid-drag (the mask returns to what it was; no history entry).
  useEffect(() => {
    if (!controller) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || controller.state === 'idle') return;
      e.preventDefault();
      e.stopPropagation();
      draw(controller.cancel().dirty);
      setPanning(controller.spaceHeld);
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [controller, draw]);

  const local = (e: PointerEvent<HTMLDivElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return screenPoint(e.clientX - r.left, e.clientY - r.top);
  };

  const moveDivider = (e: PointerEvent<HTMLDivElement>) => {
    if (controller && base && onComparePosition) onComparePosition(comparePercent(controller.viewport, local(e), base.width));
  };
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (!controller) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    if (e.button === 1) e.preventDefault(); // no auto-scroll
    if (compare && onComparePosition && e.button === 0 && !controller.spaceHeld) {
      draggingDivider.current = true;
      moveDivider(e);
      return;
    }
    draw(controller.pointerDown({ point: local(e), button: e.button }).dirty);
    setPanning(controller.state === 'panning' || controller.spaceHeld);
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (!controller) return;
    const p = local(e);
    setCursor({ x: p.x, y: p.y });
    if (draggingDivider.current) {
      moveDivider(e);
      return;
    }
    const change = controller.pointerMove({ point: p, button: e.button });
    draw(change.dirty);
    if (change.viewport) {
      fitted.current = false;
      setViewport(change.viewport);
    }
  };
  const onPointerUp = () => {
    if (!controller) return;
    if (draggingDivider.current) {
      draggingDivider.current = false;
      return;
    }
    const { committed } = controller.pointerUp();
    setPanning(controller.spaceHeld);
    if (committed) onCommit(committed);
  };

  const zoom = (factor: number) => {
    if (!controller) return;
    fitted.current = false;
    setViewport(controller.zoomBy(factor, frameSize()));
  };
  const fit = () => {
    if (!controller) return;
    fitted.current = true;
    setViewport(controller.fit(frameSize()));
  };

  const showBrush = paintEnabled && showMask && cursor && viewport && !panning;
  const scale = viewport?.scale ?? 1;
  // Zoom stops at the viewport's limits, and so do its buttons.
  const atMin = scale <= MIN_SCALE * 1.0001;
  const atMax = scale >= MAX_SCALE * 0.9999;

  return (
    <Paper withBorder radius="md" style={{ position: 'relative', flex: 1, minHeight: 320, overflow: 'hidden' }} className="pentimento-canvas">
      <div
        ref={frameRef}
        data-testid="canvas-frame"
        aria-label="Canvas"
        role="application"
        style={{
          position: 'absolute',
          inset: 0,
          overflow: 'hidden',
          touchAction: 'none',
          cursor: !controller ? 'default' : panning ? 'grab' : compare && onComparePosition ? 'ew-resize' : paintEnabled && showMask ? 'none' : 'grab',
          backgroundColor: 'var(--mantine-color-default-hover)',
          backgroundImage:
            'linear-gradient(45deg, var(--checker) 25%, transparent 25%), linear-gradient(-45deg, var(--checker) 25%, transparent 25%), linear-gradient(45deg, transparent 75%, var(--checker) 75%), linear-gradient(-45deg, transparent 75%, var(--checker) 75%)',
          backgroundSize: '20px 20px',
          backgroundPosition: '0 0, 0 10px, 10px -10px, -10px 0',
        }}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onPointerLeave={() => setCursor(null)}
        onAuxClick={(e) => e.preventDefault()}
      >
        {base && viewport ? (
          <div
            style={{
              position: 'absolute',
              left: 0,
              top: 0,
              width: base.width,
              height: base.height,
              transformOrigin: '0 0',
              transform: `translate(${viewport.offsetX}px, ${viewport.offsetY}px) scale(${scale})`,
              boxShadow: '0 2px 14px rgba(0,0,0,0.25)',
              lineHeight: 0,
            }}
          >
            <img src={base.url} alt={base.alt} draggable={false} width={base.width} height={base.height} style={{ display: 'block', imageRendering: scale >= 2 ? 'pixelated' : 'auto' }} />
            {controller && (
              <canvas
                ref={(el) => {
                  maskRef.current = el;
                  setMaskCanvas(el);
                }}
                width={controller.mask.width}
                height={controller.mask.height}
                aria-label="Mask"
                style={{ position: 'absolute', inset: 0, width: '100%', height: '100%', visibility: showMask ? 'visible' : 'hidden', pointerEvents: 'none' }}
              />
            )}
            {compare && (
              <>
                <img
                  src={compare.url}
                  alt={compare.alt}
                  draggable={false}
                  style={{ position: 'absolute', inset: 0, width: '100%', height: '100%', clipPath: `inset(0 0 0 ${comparePosition}%)` }}
                />
                <div
                  aria-hidden
                  style={{ position: 'absolute', top: 0, bottom: 0, left: `${comparePosition}%`, width: 2 / scale, marginLeft: -1 / scale, background: 'white', boxShadow: '0 0 4px rgba(0,0,0,0.6)' }}
                />
              </>
            )}
          </div>
        ) : (
          <Box style={{ position: 'absolute', inset: 0, display: 'grid', placeItems: 'center', padding: 24, pointerEvents: 'none' }}>{placeholder}</Box>
        )}
        {showBrush && (
          <div
            aria-hidden
            style={{
              position: 'absolute',
              left: cursor.x,
              top: cursor.y,
              width: brushDiameter * scale,
              height: brushDiameter * scale,
              transform: 'translate(-50%, -50%)',
              borderRadius: '50%',
              border: '1.5px solid white',
              boxShadow: '0 0 0 1px rgba(0,0,0,0.55)',
              pointerEvents: 'none',
            }}
          />
        )}
      </div>
      {overlay && (
        <Paper shadow="sm" radius="md" p={4} withBorder style={{ position: 'absolute', left: 10, top: 10 }}>
          {overlay}
        </Paper>
      )}
      {busy && (
        <Box
          role="status"
          data-testid="canvas-busy"
          style={{
            position: 'absolute',
            inset: 0,
            zIndex: 2,
            display: 'grid',
            placeItems: 'center',
            background: 'color-mix(in srgb, var(--mantine-color-body) 70%, transparent)',
          }}
        >
          <Group gap="sm" wrap="nowrap">
            <Loader size="sm" aria-hidden />
            <Text fw={600}>{busy}</Text>
          </Group>
        </Box>
      )}
      {controller && viewport && (
        <Paper shadow="sm" radius="md" p={4} withBorder style={{ position: 'absolute', right: 10, bottom: 10 }}>
          <Group gap={4} wrap="nowrap">
            <Tooltip label={atMin ? `Zoom out (at the ${Math.round(MIN_SCALE * 100)}% limit)` : 'Zoom out'}>
              <ActionIcon variant="subtle" aria-label="Zoom out" onClick={() => zoom(1 / 1.25)} disabled={atMin}>
                <span style={{ fontSize: 18, lineHeight: 1 }}>−</span>
              </ActionIcon>
            </Tooltip>
            <Text size="xs" w={44} ta="center" data-testid="zoom-level">
              {Math.round(scale * 100)}%
            </Text>
            <Tooltip label={atMax ? `Zoom in (at the ${Math.round(MAX_SCALE * 100)}% limit)` : 'Zoom in'}>
              <ActionIcon variant="subtle" aria-label="Zoom in" onClick={() => zoom(1.25)} disabled={atMax}>
                <span style={{ fontSize: 18, lineHeight: 1 }}>+</span>
              </ActionIcon>
            </Tooltip>
            <Tooltip label="Fit to view">
              <ActionIcon variant="subtle" aria-label="Fit" onClick={fit} w="auto" px={6}>
                <Text size="xs" fw={600}>
                  Fit
                </Text>
              </ActionIcon>
            </Tooltip>
          </Group>
        </Paper>
      )}
    </Paper>
  );
}
