import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { inspectModel } from '../main/engine/graph/inspectModel';
import { loadModel } from '../main/engine/graph/ModelIO';
import { ensureGeneratedModel } from '../models/ensureGeneratedModel';
import { isGeneratedModelComplete, type GenerateOptions } from '../models/generate';
import type { PresetName } from '../models/presets';
import type { BenchTask, GenerateResult } from './BenchTask';

/** The generated model every bench run measures: seed 0, optimum-exporter I/O, fp32. */
export function benchModelOptions(preset: PresetName): Omit<GenerateOptions, 'outDir'> {
  return { preset, seed: 0, variant: 'optimum' };
}

function diskBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? diskBytes(full) : fs.statSync(full).size;
  }
  return total;
}

/** Generates the preset's folder unless a complete one for this generator version is there. */
export async function ensureBenchModel(task: Extract<BenchTask, { kind: 'generate' }>): Promise<GenerateResult> {
  const options = benchModelOptions(task.preset);
  const generated = !isGeneratedModelComplete(task.dir, options);
  const t0 = performance.now();
  await ensureGeneratedModel(task.dir, options);
  const seconds = (performance.now() - t0) / 1000;
  const unet = inspectModel(loadModel(path.join(task.dir, 'unet', 'model.onnx'), { checkExternalData: false }));
  return { kind: 'generate', generated, seconds, unetParameters: unet.parameters, diskBytes: diskBytes(task.dir) };
}
