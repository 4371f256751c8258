/**
 * The generated ControlNets the tests run, cached under .cache/test-models like the generated
 * SD folders (tests/fixtures/models.ts), with the UNet they pair with: the tiny preset, seed 1234.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureGeneratedModel } from '../ensureGeneratedModel';
import { GENERATOR_VERSION, type GenerateOptions } from '../generate';
import { CONTROLNET_GENERATOR_VERSION, ensureGeneratedControlNet, type ControlNetOptions } from './generateControlNet';

export type TestControlNetName = 'tiny' | 'tiny-b' | 'tiny-torch' | 'tiny-noscale' | 'tiny-wide' | 'tiny-fp16';

export const TEST_CONTROLNET_SEED = 4321;

export const testControlNetOptions: Record<TestControlNetName, ControlNetOptions> = {
  tiny: { preset: 'tiny', seed: TEST_CONTROLNET_SEED },
  /** A second ControlNet (other weights) for the multi-ControlNet tests. */
  'tiny-b': { preset: 'tiny', seed: TEST_CONTROLNET_SEED + 1 },
  'tiny-torch': { preset: 'tiny', seed: TEST_CONTROLNET_SEED, variant: 'torch' },
  'tiny-noscale': { preset: 'tiny', seed: TEST_CONTROLNET_SEED, conditioningScale: false },
  /** Made for another base model: cross-attention width 48 instead of the tiny UNet's 32. */
  'tiny-wide': { preset: 'tiny', seed: TEST_CONTROLNET_SEED, crossAttentionDim: 48 },
  'tiny-fp16': { preset: 'tiny', seed: TEST_CONTROLNET_SEED, fp16: true },
};

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The folder of a generated test ControlNet, generated first when missing or stale. */
export function testControlNetDir(name: TestControlNetName): string {
  const options = testControlNetOptions[name];
  if (!options) throw new Error(`Unknown test ControlNet '${name}'; valid: ${Object.keys(testControlNetOptions).join(', ')}.`);
  return ensureGeneratedControlNet(path.join(REPO_ROOT, '.cache', 'test-models', `controlnet-v${CONTROLNET_GENERATOR_VERSION}`, name), options);
}

/** The tiny SD folder (seed 1234) whose UNet is exported with ControlNet residual inputs. */
export const residualUnetModelOptions: Omit<GenerateOptions, 'outDir'> = { preset: 'tiny', seed: 1234, controlResidualInputs: true };

export function residualUnetModelDir(variant: 'optimum' | 'torch' = 'optimum'): Promise<string> {
  const dir = path.join(REPO_ROOT, '.cache', 'test-models', `v${GENERATOR_VERSION}`, variant === 'torch' ? 'tiny-torch-control-residuals' : 'tiny-control-residuals');
  return ensureGeneratedModel(dir, { ...residualUnetModelOptions, variant });
}
