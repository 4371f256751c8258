/** Widths of one generated model; the block structure is always SD1.5's. */
export interface ModelPreset {
  unet: {
    blockOutChannels: [number, number, number, number];
    layersPerBlock: 2;
    normGroups: number;
    /** diffusers' `attention_head_dim` for SD1.5 is really the number of heads (8). */
    heads: number;
    crossAttentionDim: number;
  };
  text: { hidden: number; layers: number; heads: number; intermediate: number; vocab: 49408; positions: 77 };
  vae: { blockOutChannels: [number, number, number, number]; normGroups: number; latentChannels: 4 };
}

export type PresetName = 'tiny' | 'full';

export const presets: Record<PresetName, ModelPreset> = {
  tiny: {
    unet: { blockOutChannels: [32, 64, 64, 64], layersPerBlock: 2, normGroups: 8, heads: 2, crossAttentionDim: 32 },
    text: { hidden: 32, layers: 2, heads: 2, intermediate: 128, vocab: 49408, positions: 77 },
    vae: { blockOutChannels: [8, 16, 16, 16], normGroups: 4, latentChannels: 4 },
  },
  full: {
    unet: { blockOutChannels: [320, 640, 1280, 1280], layersPerBlock: 2, normGroups: 32, heads: 8, crossAttentionDim: 768 },
    text: { hidden: 768, layers: 12, heads: 12, intermediate: 3072, vocab: 49408, positions: 77 },
    vae: { blockOutChannels: [128, 256, 512, 512], normGroups: 32, latentChannels: 4 },
  },
};
