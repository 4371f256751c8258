/**
 * Points in distinct spaces, so a mask stroke cannot land in the wrong one:
 * - screen: CSS pixels relative to the canvas viewport's top-left corner;
 * - image: pixels of the working photo, where the mask lives (pixel centres at k + 0.5);
 * - latent: the diffusion model's grid, image / 8 (the VAE downsamples by 8 on each axis).
 */
type Point<S extends string> = { readonly x: number; readonly y: number; readonly space: S };
export type ScreenPoint = Point<'screen'>;
export type ImagePoint = Point<'image'>;
export type LatentPoint = Point<'latent'>;

/** SD 1.5's VAE: three stride-2 downsamplings. */
export const LATENT_SCALE = 8;

export const screenPoint = (x: number, y: number): ScreenPoint => ({ x, y, space: 'screen' });
export const imagePoint = (x: number, y: number): ImagePoint => ({ x, y, space: 'image' });
export const latentPoint = (x: number, y: number): LatentPoint => ({ x, y, space: 'latent' });

export const imageToLatent = (p: ImagePoint): LatentPoint => latentPoint(p.x / LATENT_SCALE, p.y / LATENT_SCALE);
export const latentToImage = (p: LatentPoint): ImagePoint => imagePoint(p.x * LATENT_SCALE, p.y * LATENT_SCALE);
