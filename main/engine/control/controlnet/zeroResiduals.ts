import { PentimentoError } from '../../errors';
import type { ControlResiduals } from '../ControlNet';
import type { ControlTarget } from './controlTarget';
import { residualLabel, residualSpatialSize, slotsToList } from './residualLayout';

/**
 * All-zero residuals for a [batch, ·, h, w] latent: what a residual-ready UNet is fed on steps
 * where no ControlNet is active (outside every guidance start/end window), giving the plain
 * UNet's output.
 */
export function zeroResiduals(target: ControlTarget, batch: number, h: number, w: number): ControlResiduals {
  const list = slotsToList(target.residuals).map((info, i) => {
    const c = info.shape?.[1];
    if (typeof c !== 'number') {
      throw new PentimentoError('BAD_MODEL', `${target.file}: the ${residualLabel(i)} input '${info.name}' has no fixed channel count.`, { file: target.file });
    }
    const dims = [batch, c, residualSpatialSize(h, i), residualSpatialSize(w, i)];
    return { data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims };
  });
  return { down: list.slice(0, -1), mid: list[list.length - 1] };
}
