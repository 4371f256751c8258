import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlNet, resolveControlNetFile, type ControlNetInput, type ControlResiduals } from '../../../main/engine/control/ControlNet';
import { conditionTensor } from '../../../main/engine/control/controlnet/conditionTensor';
import { controlTargetOf, type ControlTarget } from '../../../main/engine/control/controlnet/controlTarget';
import { slotsToList } from '../../../main/engine/control/controlnet/residualLayout';
import { sumResiduals } from '../../../main/engine/control/controlnet/sumResiduals';
import { zeroResiduals } from '../../../main/engine/control/controlnet/zeroResiduals';
import { loadModel, saveModel } from '../../../main/engine/graph/ModelIO';
import { OnnxRuntime } from '../../../main/engine/runtime/OnnxRuntime';
import { residualUnetModelDir, testControlNetDir } from '../../../models/controlnet/testControlNets';

const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: 1 });
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-controlnet-'));
afterAll(async () => {
  await runtime.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
});

function pattern(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + seed) * Math.cos(0.011 * i * (seed + 2)));
}

/** A 64×64 condition: a bright square on black, as a canny map would look. */
function squareCondition() {
  const rgb = new Uint8Array(64 * 64 * 3);
  for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) rgb.fill(255, (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
  return conditionTensor({ rgb, width: 64, height: 64 });
}

function input(batch: number, scale: number, t = 501): ControlNetInput {
  const cond = squareCondition();
  return {
    sample: pattern(batch * 4 * 64, 1),
    sampleDims: [batch, 4, 8, 8],
    timestep: t,
    context: pattern(batch * 77 * 32, 2),
    contextDims: [batch, 77, 32],
    condition: cond.data,
    conditionDims: cond.dims,
    scale,
  };
}

function maxDiff(a: ControlResiduals, b: ControlResiduals): number {
  const x = slotsToList(a);
  const y = slotsToList(b);
  let m = 0;
  x.forEach((t, i) => {
    expect(t.dims).toEqual(y[i].dims);
    for (let k = 0; k < t.data.length; k++) m = Math.max(m, Math.abs(t.data[k] - y[i].data[k]));
  });
  return m;
}

function maxAbs(r: ControlResiduals): number {
  return Math.max(...slotsToList(r).map((t) => t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
}

/** A copy of a ControlNet whose graph outputs are listed in another order. */
function reordered(dir: string, name: string, order: (outputs: string[]) => string[]): string {
  const source = loadModel(path.join(dir, 'model.onnx'));
  const byName = new Map(source.model.graph.output.map((o) => [o.name, o]));
  const output = order(source.model.graph.output.map((o) => o.name)).map((n) => byName.get(n)!);
  const file = path.join(scratch, name, 'model.onnx');
  saveModel({ ...source.model, graph: { ...source.model.graph, output } }, file, { sourceDir: source.dir });
  return file;
}

describe('ControlNet', () => {
  let target: ControlTarget;
  beforeAll(async () => {
    const unet = await runtime.createSession(path.join(await residualUnetModelDir(), 'unet', 'model.onnx'));
    target = controlTargetOf(unet);
    await unet.dispose();
  });

  it('finds the inputs by role and the 13 outputs in order, for both exporters', async () => {
    const optimum = await ControlNet.open(runtime, testControlNetDir('tiny'));
    expect([optimum.sample.name, optimum.timestep.name, optimum.context.name, optimum.condition.name, optimum.scaleInput?.name]).toEqual([
      'sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond', 'conditioning_scale',
    ]);
    expect(optimum.outputs.mid.name).toBe('mid_block_additional_residual');
    expect(optimum.crossAttentionDim).toBe(32);
    expect(optimum.latentChannels).toBe(4);
    expect(optimum.residualChannels).toEqual([32, 32, 32, 32, 64, 64, 64, 64, 64, 64, 64, 64, 64]);
    const torch = await ControlNet.open(runtime, path.join(testControlNetDir('tiny-torch'), 'model.onnx'));
    expect(torch.outputs.down.map((o) => o.name)).toEqual(Array.from({ length: 12 }, (_, i) => `down_block_res_sample_${i}`));
    expect(torch.timestep.dtype).toBe('float32');
    const noScale = await ControlNet.open(runtime, testControlNetDir('tiny-noscale'));
    expect(noScale.scaleInput).toBeUndefined();
    await Promise.all([optimum.dispose(), torch.dispose(), noScale.dispose()]);
  });

  it('scales the residuals itself when the graph has no conditioning_scale input', async () => {
    const withInput = await ControlNet.open(runtime, testControlNetDir('tiny'));
    const without = await ControlNet.open(runtime, testControlNetDir('tiny-noscale'));
    for (const scale of [0.37, 0, 1.5]) {
      const a = await withInput.residuals(input(1, scale), target);
      const b = await without.residuals(input(1, scale), target);
      expect(maxDiff(a, b)).toBeLessThanOrEqual(1e-6 * Math.max(1, maxAbs(a)));
      if (scale === 0) expect(maxAbs(b)).toBe(0);
      else expect(maxAbs(b)).toBeGreaterThan(0.05);
    }
    await Promise.all([withInput.dispose(), without.dispose()]);
  });

  it('gives the torch export (float scalar timestep) the same residuals as the optimum one', async () => {
    const optimum = await ControlNet.open(runtime, testControlNetDir('tiny'));
    const torch = await ControlNet.open(runtime, testControlNetDir('tiny-torch'));
    const a = await optimum.residuals(input(2, 0.8), target);
    const b = await torch.residuals(input(2, 0.8), target);
    expect(maxDiff(a, b)).toBeLessThan(1e-4 * Math.max(1, maxAbs(a)));
    await Promise.all([optimum.dispose(), torch.dispose()]);
  });

  it('repeats one condition over a batch-2 call: each half equals a batch-1 call', async () => {
    const cn = await ControlNet.open(runtime, testControlNetDir('tiny'));
    const single = input(1, 1);
    const twice = (x: Float32Array) => new Float32Array([...x, ...x]);
    const both = await cn.residuals({ ...input(2, 1), sample: twice(single.sample), context: twice(single.context) });
    const one = await cn.residuals(single);
    slotsToList(both).forEach((t, i) => {
      const single = slotsToList(one)[i].data;
      expect(t.dims[0]).toBe(2);
      for (const half of [t.data.subarray(0, single.length), t.data.subarray(single.length)]) {
        let m = 0;
        for (let k = 0; k < single.length; k++) m = Math.max(m, Math.abs(half[k] - single[k]));
        expect(m).toBeLessThanOrEqual(1e-5);
      }
    });
    await cn.dispose();
  });

  it('matches outputs by order, taking the one named mid wherever it is listed', async () => {
    const dir = testControlNetDir('tiny');
    const midFirst = await ControlNet.open(runtime, reordered(dir, 'mid-first', (o) => [o[12], ...o.slice(0, 12)]));
    const plain = await ControlNet.open(runtime, dir);
    expect(midFirst.outputs.mid.name).toBe('mid_block_additional_residual');
    expect(maxDiff(await midFirst.residuals(input(1, 1), target), await plain.residuals(input(1, 1), target))).toBe(0);
    await Promise.all([midFirst.dispose(), plain.dispose()]);
  });

  it('rejects an export whose outputs are out of order, by their shapes, naming both models', async () => {
    const swapped = await ControlNet.open(
      runtime,
      reordered(testControlNetDir('tiny'), 'swapped', (o) => [o[0], o[1], o[3], o[2], ...o.slice(4)]),
    );
    const err = await swapped.residuals(input(1, 1), target).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_MODEL' });
    expect(String((err as Error).message)).toMatch(/down residual 2 \(down_block_3_additional_residual\) is \[1, 32, 4, 4\], expected \[1, 32, 8, 8\]/);
    expect(String((err as Error).message)).toContain(swapped.file);
    expect(String((err as Error).message)).toContain(target.file);
    await swapped.dispose();
  });

  it('checks the fit with the UNet: a ControlNet of another cross-attention width is refused, naming both', async () => {
    const fits = await ControlNet.open(runtime, testControlNetDir('tiny'));
    expect(() => fits.checkFits(target)).not.toThrow();
    const wide = await ControlNet.open(runtime, testControlNetDir('tiny-wide'));
    let err: unknown;
    try {
      wide.checkFits(target);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'BAD_MODEL', details: { controlnet: wide.file, unet: target.file } });
    expect((err as Error).message).toContain(`The ControlNet ${wide.file} does not fit the UNet ${target.file}: cross-attention width 48 vs the UNet's 32`);
    // Residual channels are compared too.
    const narrow: ControlTarget = {
      ...target,
      residuals: { ...target.residuals, mid: { ...target.residuals.mid, shape: [1, 128, 'h', 'w'] } },
    };
    expect(() => fits.checkFits(narrow)).toThrow(/mid residual has 64 channels vs the UNet's 128/);
    await Promise.all([fits.dispose(), wide.dispose()]);
  });

  it('sums several ControlNets elementwise, and zero residuals have the UNet inputs\' shapes', async () => {
    const a = await ControlNet.open(runtime, testControlNetDir('tiny'));
    const b = await ControlNet.open(runtime, testControlNetDir('tiny-b'));
    const ra = await a.residuals(input(1, 0.5), target);
    const rb = await b.residuals(input(1, 2), target);
    const sum = sumResiduals([ra, rb]);
    slotsToList(sum).forEach((t, i) => {
      for (const k of [0, Math.floor(t.data.length / 2), t.data.length - 1]) {
        expect(t.data[k]).toBe(Math.fround(slotsToList(ra)[i].data[k] + slotsToList(rb)[i].data[k]));
      }
    });
    const zero = zeroResiduals(target, 2, 8, 8);
    expect(slotsToList(zero).map((t) => t.dims)).toEqual(slotsToList(ra).map((t) => [2, ...t.dims.slice(1)]));
    expect(maxAbs(zero)).toBe(0);
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('refuses a condition of the wrong size and a missing model with what to do', async () => {
    const cn = await ControlNet.open(runtime, testControlNetDir('tiny'));
    const bad = { ...input(1, 1), conditionDims: [1, 3, 32, 32] };
    await expect(cn.residuals(bad)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/needs \[1, 3, 64, 64\]/) });
    await cn.dispose();
    expect(() => resolveControlNetFile(path.join(scratch, 'nope'))).toThrow(/does not exist; pass a ControlNet .onnx file/);
    fs.mkdirSync(path.join(scratch, 'empty'));
    expect(() => resolveControlNetFile(path.join(scratch, 'empty'))).toThrow(/holds no ControlNet: expected .*model\.onnx/);
  });
});
