import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTextEncoder } from '../../../main/engine/model/ClipTextEncoder';
import { openModelFolder } from '../../../main/engine/model/ModelFolder';
import { UNet } from '../../../main/engine/model/UNet';
import { OnnxRuntime } from '../../../main/engine/runtime/OnnxRuntime';
import { ClipTokenizer } from '../../../main/engine/tokenizer/ClipTokenizer';
import { testModelDir, type TestModelVariant } from '../../fixtures/models';

const dirs = {} as Record<TestModelVariant, string>;
const runtimes: OnnxRuntime[] = [];

beforeAll(async () => {
  for (const v of ['tiny', 'tiny-torch', 'tiny-fp16'] as const) dirs[v] = await testModelDir(v);
});
afterAll(async () => {
  for (const r of runtimes) await r.dispose();
});

function cpuRuntime(): OnnxRuntime {
  const r = new OnnxRuntime({ provider: 'cpu' });
  runtimes.push(r);
  return r;
}

describe('OnnxRuntime metadata-driven dtypes', () => {
  // What each generated layout declares (models/unet.ts, models/textEncoder.ts) and what the
  // runtime must therefore feed.
  const expected = {
    tiny: { ids: 'int64', timestep: 'int64', sample: 'float32' },
    'tiny-torch': { ids: 'int32', timestep: 'float32', sample: 'float32' },
    'tiny-fp16': { ids: 'int64', timestep: 'int64', sample: 'float16' },
  } as const;

  for (const variant of Object.keys(expected) as (keyof typeof expected)[]) {
    it(`${variant}: reads dtypes from the session and runs text encoder and UNet`, async () => {
      const runtime = cpuRuntime();
      const folder = openModelFolder(dirs[variant]);
      const te = new ClipTextEncoder(await runtime.createSession(folder.parts.text_encoder.file));
      const unet = new UNet(await runtime.createSession(folder.parts.unet.file), folder.unetMaxBatch);
      expect(te.session.inputs[0].dtype).toBe(expected[variant].ids);
      expect(unet.timestep.dtype).toBe(expected[variant].timestep);
      expect(unet.sample.dtype).toBe(expected[variant].sample);

      const tokenizer = ClipTokenizer.fromFolder(folder.tokenizerDir);
      const hidden = await te.encode(tokenizer.encode('a photo of a cat').ids);
      expect(hidden.dims).toEqual([1, 77, folder.crossAttentionWidth]);
      expect(hidden.data).toBeInstanceOf(Float32Array);
      expect(hidden.data.every(Number.isFinite)).toBe(true);

      const sample = new Float32Array(2 * 4 * 8 * 8).map((_, i) => Math.sin(i % 256));
      const context = new Float32Array(2 * hidden.data.length);
      context.set(hidden.data, 0);
      context.set(hidden.data, hidden.data.length);
      const before = runtime.insideMs;
      const eps = await unet.predict(sample, [2, 4, 8, 8], 981, context, [2, 77, folder.crossAttentionWidth]);
      expect(eps).toBeInstanceOf(Float32Array);
      expect(eps.length).toBe(sample.length);
      expect(eps.every(Number.isFinite)).toBe(true);
      // Both batch items got the same input, so the same output.
      for (let i = 0; i < 256; i++) expect(eps[256 + i]).toBeCloseTo(eps[i], variant === 'tiny-fp16' ? 2 : 5);
      expect(runtime.insideMs).toBeGreaterThan(before);
      expect(runtime.runCount).toBe(2);
    });
  }

  it('timesteps follow the declared dtype and shape', async () => {
    const runtime = cpuRuntime();
    const optimum = new UNet(await runtime.createSession(openModelFolder(dirs.tiny).parts.unet.file), Infinity);
    const torch = new UNet(await runtime.createSession(openModelFolder(dirs['tiny-torch']).parts.unet.file), Infinity);
    // int64 graphs get σ-sampler timesteps rounded; float graphs get them as they are.
    expect(optimum.timestepFeed(980.6, 2)).toEqual({ data: [981, 981], dims: [2] });
    expect(torch.timestepFeed(980.6, 2)).toEqual({ data: [980.6, 980.6], dims: [2] });
    expect(torch.timestepFeed(10, 1)).toEqual({ data: [10], dims: [1] });
  });

  it('fp16 graphs are fed and read through float32 (fp16 and fp32 weights agree)', async () => {
    const runtime = cpuRuntime();
    const tokenizer = ClipTokenizer.fromFolder(openModelFolder(dirs.tiny).tokenizerDir);
    const ids = tokenizer.encode('an astronaut riding a horse').ids;
    const te32 = new ClipTextEncoder(await runtime.createSession(openModelFolder(dirs.tiny).parts.text_encoder.file));
    const te16 = new ClipTextEncoder(await runtime.createSession(openModelFolder(dirs['tiny-fp16']).parts.text_encoder.file));
    const a = (await te32.encode(ids)).data;
    const b = (await te16.encode(ids)).data;
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      maxAbs = Math.max(maxAbs, Math.abs(a[i]));
    }
    expect(maxAbs).toBeGreaterThan(0.1);
    // fp16 has an 11-bit mantissa: relative error ~1e-3 per op, a few ops deep.
    expect(maxDiff / maxAbs).toBeLessThan(5e-3);
    expect(maxDiff).toBeGreaterThan(0); // the fp16 path really ran in half precision
  });
});

describe('OnnxRuntime providers and errors', () => {
  it('auto falls back to the CPU with a reason when no GPU provider is usable', async () => {
    const runtime = new OnnxRuntime({ provider: 'auto' });
    runtimes.push(runtime);
    const session = await runtime.createSession(openModelFolder(dirs.tiny).parts.vae_decoder.file);
    expect(['cpu', 'cuda', 'dml', 'coreml']).toContain(runtime.provider);
    if (runtime.provider === 'cpu' && process.platform !== 'linux') expect(runtime.fallbackReasons.length).toBeGreaterThan(0);
    if (runtime.provider === 'cpu' && process.platform === 'linux') {
      expect(runtime.fallbackReasons.join(' ')).toMatch(/cuda/i);
      expect(runtime.describeProvider()).toMatch(/^cpu \(cuda: /);
    }
    await session.dispose();
  });

  it('PENTIMENTO_PROVIDER chooses the provider when no option is given', () => {
    const saved = process.env.PENTIMENTO_PROVIDER;
    process.env.PENTIMENTO_PROVIDER = 'cpu';
    try {
      expect(new OnnxRuntime().provider).toBe('cpu');
      process.env.PENTIMENTO_PROVIDER = 'tpu';
      expect(() => new OnnxRuntime()).toThrow(/Unknown execution provider "tpu"; use one of auto, cpu, cuda, dml, coreml/);
    } finally {
      if (saved === undefined) delete process.env.PENTIMENTO_PROVIDER;
      else process.env.PENTIMENTO_PROVIDER = saved;
    }
  });

  it('an explicitly requested provider that cannot start is PROVIDER_UNAVAILABLE', async () => {
    const provider = process.platform === 'darwin' ? 'dml' : 'coreml'; // never available on this platform
    const runtime = new OnnxRuntime({ provider });
    runtimes.push(runtime);
    await expect(runtime.createSession(openModelFolder(dirs.tiny).parts.vae_decoder.file)).rejects.toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      message: expect.stringContaining(provider),
    });
  });

  it('a file onnxruntime cannot load is BAD_MODEL naming the file', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-rt-'));
    try {
      const bad = path.join(tmp, 'model.onnx');
      fs.writeFileSync(bad, 'this is not a protobuf');
      await expect(cpuRuntime().createSession(bad)).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringContaining(bad) });
      await expect(cpuRuntime().createSession(path.join(tmp, 'absent.onnx'))).rejects.toMatchObject({ code: 'MODEL_MISSING' });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a disposed session refuses to run', async () => {
    const runtime = cpuRuntime();
    const session = await runtime.createSession(openModelFolder(dirs.tiny).parts.vae_decoder.file);
    await session.dispose();
    await expect(session.run({})).rejects.toThrow(/disposed/);
  });
});
