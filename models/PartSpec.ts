import type { ModelProto } from '../main/engine/graph/onnx';
import type { ModelPreset } from './presets';

/** What one component builder needs to know. */
export interface PartSpec {
  preset: ModelPreset;
  seed: number;
  fp16: boolean;
  /** `optimum`: optimum-exporter I/O; `torch`: diffusers' torch.onnx conversion script I/O and prefixed node names. */
  variant: 'optimum' | 'torch';
  inpainting: boolean;
  /** A UNet with ControlNet residual inputs (12 down + mid), as ControlNet-ready exports have. */
  controlResidualInputs?: boolean;
}

export interface BuiltPart {
  model: ModelProto;
  parameterCount: number;
}
