/**
 * Points in distinct spaces, so a mask stroke cannot land in the wrong one: screen (CSS pixels
 * relative to the viewport) and image (pixels of the source photo, where the mask lives).
 */
export type ScreenPoint = { readonly x: number; readonly y: number; readonly space: 'screen' };
export type ImagePoint = { readonly x: number; readonly y: number; readonly space: 'image' };

export const screenPoint = (x: number, y: number): ScreenPoint => ({ x, y, space: 'screen' });
export const imagePoint = (x: number, y: number): ImagePoint => ({ x, y, space: 'image' });

/** Maps a screen point over an image element drawn at `rect` to the image's own pixel grid. */
export function screenToImage(
  p: ScreenPoint,
  rect: { left: number; top: number; width: number; height: number },
  image: { width: number; height: number },
): ImagePoint {
  return imagePoint(((p.x - rect.left) * image.width) / rect.width, ((p.y - rect.top) * image.height) / rect.height);
}
