import { PentimentoError } from '../../errors';
import type { TensorInfo } from '../../runtime/OnnxRuntime';
import { orderResiduals, type ResidualSlots } from './residualLayout';

/** What a ControlNet must fit: a UNet that takes the 13 residuals as inputs. */
export interface ControlTarget {
  /** The UNet's file, for messages. */
  file: string;
  crossAttentionDim: number | undefined;
  /** Channels of the latent it denoises (its output's), which a ControlNet's sample must have. */
  latentChannels: number | undefined;
  /** The residual inputs in diffusers' order. */
  residuals: ResidualSlots<TensorInfo>;
}

const dimOf = (info: TensorInfo | undefined, i: number): number | undefined => {
  const d = info?.shape?.[i];
  return typeof d === 'number' && d > 0 ? d : undefined;
};

function isResidualName(name: string): boolean {
  return /residual|res_sample|down_block|mid_block/i.test(name);
}

/**
 * Reads a residual-ready UNet's declarations: the sample is the rank-4 input not named like a
 * residual (the first rank-4 input otherwise), the context the rank-3 one, and every other rank-4
 * input a residual, ordered as in `orderResiduals`.
 */
export function controlTargetOf(unet: { file: string; inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[] }): ControlTarget {
  const rank4 = unet.inputs.filter((i) => i.shape?.length === 4);
  const sample = rank4.find((i) => !isResidualName(i.name)) ?? rank4[0];
  const context = unet.inputs.find((i) => i.shape?.length === 3);
  if (!sample) {
    throw new PentimentoError('BAD_MODEL', `${unet.file}: no 4-D sample input, so this is not a UNet.`, { file: unet.file });
  }
  const residuals = orderResiduals(
    rank4.filter((i) => i !== sample),
    `The UNet ${unet.file}`,
  );
  return { file: unet.file, crossAttentionDim: dimOf(context, 2), latentChannels: dimOf(unet.outputs[0], 1), residuals };
}

/** True when the UNet declares more rank-4 inputs than its sample: it takes residuals already. */
export function takesControlResiduals(unet: { inputs: readonly TensorInfo[] }): boolean {
  return unet.inputs.filter((i) => i.shape?.length === 4).length > 1;
}
