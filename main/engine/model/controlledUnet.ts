import path from 'node:path';
import { DerivedModelCache } from '../graph/DerivedModelCache';
import { addControlResiduals } from '../graph/addControlResiduals';
import type { StableDiffusionModel } from './StableDiffusionModel';
import { UNet } from './UNet';

/** The recipe name under which the ControlNet-ready UNet is cached. */
export const CONTROL_RESIDUALS_RECIPE = 'add-control-residuals';

const opened = new WeakMap<StableDiffusionModel, Map<string, Promise<UNet>>>();

/**
 * The model's UNet in a form that takes ControlNet residuals: the UNet itself when its export
 * already has residual inputs, else the plain UNet made ControlNet-ready by addControlResiduals,
 * built once per source model into `<cacheRoot>/derived` (keyed by the folder's content hash and
 * the graph toolkit's version) and opened once per model. Its session lives on the model's
 * runtime and is released with it.
 */
export function controlledUnet(model: StableDiffusionModel, cacheRoot: string, opts: { onBuild?: () => void } = {}): Promise<UNet> {
  const own = model.components.unet;
  if (own.control) return Promise.resolve(own);
  const root = path.join(path.resolve(cacheRoot), 'derived');
  let byRoot = opened.get(model);
  if (!byRoot) opened.set(model, (byRoot = new Map()));
  let unet = byRoot.get(root);
  if (!unet) {
    unet = (async () => {
      const derived = await new DerivedModelCache(root).ensure({
        name: CONTROL_RESIDUALS_RECIPE,
        args: {},
        sourceFile: model.folder.parts.unet.file,
        sourceHash: model.folder.hash,
        derive: (source) => addControlResiduals(source.model, { dir: source.dir }).model,
      }, (p) => {
        if (!p.cached && p.stage === 'load') opts.onBuild?.();
      });
      return new UNet(await model.runtime.createSession(derived.file), model.folder.unetMaxBatch, model.folder.parts.unet.file);
    })();
    // A failed build is not remembered: the next call tries again.
    unet.catch(() => byRoot!.delete(root));
    byRoot.set(root, unet);
  }
  return unet;
}
