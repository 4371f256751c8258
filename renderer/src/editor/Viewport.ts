import { imagePoint, screenPoint, type ImagePoint, type ScreenPoint } from './coordinates';

/**
 * How the photo sits in the canvas viewport: screen = image · scale + offset. The mask is
 * always painted through `screenToImage`, so zoom and pan never move it relative to the photo.
 */
export interface Viewport {
  readonly scale: number;
  readonly offsetX: number;
  readonly offsetY: number;
}

export type Size = { readonly width: number; readonly height: number };

export const MIN_SCALE = 0.05;
export const MAX_SCALE = 32;

export const IDENTITY: Viewport = { scale: 1, offsetX: 0, offsetY: 0 };

export function screenToImage(v: Viewport, p: ScreenPoint): ImagePoint {
  return imagePoint((p.x - v.offsetX) / v.scale, (p.y - v.offsetY) / v.scale);
}

/** Where a pointer at screen point p sets the before/after divider: percent of the image width, 0–100. */
export function comparePercent(v: Viewport, p: ScreenPoint, imageWidth: number): number {
  const x = screenToImage(v, p).x;
  return Math.round(Math.min(100, Math.max(0, (100 * x) / imageWidth)));
}

export function imageToScreen(v: Viewport, p: ImagePoint): ScreenPoint {
  return screenPoint(p.x * v.scale + v.offsetX, p.y * v.scale + v.offsetY);
}

/**
 * The whole image, centred, as large as fits inside `view` less `margin` on each side. A photo
 * that fits at 100 % stays there, unless it would fill less than half the view: a small one
 * (an icon, a 1×1 test image) is enlarged by the largest whole factor that fits, so its pixels
 * stay square, up to MAX_SCALE.
 */
export function fitViewport(image: Size, view: Size, margin = 16): Viewport {
  const w = Math.max(1, view.width - 2 * margin);
  const h = Math.max(1, view.height - 2 * margin);
  const fits = Math.min(w / image.width, h / image.height);
  const scale = clampScale(fits < 1 ? fits : Math.max(1, Math.floor(fits)));
  return { scale, offsetX: (view.width - image.width * scale) / 2, offsetY: (view.height - image.height * scale) / 2 };
}

/** Zooms by `factor` about `anchor`: the image point under the anchor stays under it. */
export function zoomAt(v: Viewport, anchor: ScreenPoint, factor: number): Viewport {
  const scale = clampScale(v.scale * factor);
  const fixed = screenToImage(v, anchor);
  return { scale, offsetX: anchor.x - fixed.x * scale, offsetY: anchor.y - fixed.y * scale };
}

export function panBy(v: Viewport, dx: number, dy: number): Viewport {
  return { scale: v.scale, offsetX: v.offsetX + dx, offsetY: v.offsetY + dy };
}

/** One wheel notch (deltaY = ±100 in Chromium) zooms by 2^(1/4) ≈ 1.19. */
export function wheelZoomFactor(deltaY: number): number {
  return Math.pow(2, -deltaY / 400);
}

function clampScale(s: number): number {
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, s));
}
