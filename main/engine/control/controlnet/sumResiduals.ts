import type { OutputTensor } from '../../runtime/OnnxRuntime';
import type { ControlResiduals } from '../ControlNet';

/** Several ControlNets at once: diffusers' MultiControlNetModel adds their residuals elementwise. */
export function sumResiduals(all: readonly ControlResiduals[]): ControlResiduals {
  if (all.length === 1) return all[0];
  const add = (tensors: OutputTensor[]): OutputTensor => {
    const data = Float32Array.from(tensors[0].data);
    for (const t of tensors.slice(1)) for (let k = 0; k < data.length; k++) data[k] += t.data[k];
    return { data, dims: [...tensors[0].dims] };
  };
  return {
    down: all[0].down.map((_, i) => add(all.map((r) => r.down[i]))),
    mid: add(all.map((r) => r.mid)),
  };
}
