import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromFloat16, toFloat16 } from '../../main/engine/graph/fp16';
import { isExternal, externalRef, loadModel, type LoadedModel } from '../../main/engine/graph/ModelIO';
import { DataType, valueElemType } from '../../main/engine/graph/onnx';
import { ClipTokenizer } from '../../main/engine/tokenizer/ClipTokenizer';
import { randomNormal } from '../../main/engine/util/random';
import { expectedFiles, generateModelFolder, GENERATOR_VERSION } from '../../models/generate';
import { presets } from '../../models/presets';
import { TEST_MODEL_SEED, testModelDir, type TestModelVariant } from '../fixtures/models';

const tiny = presets.tiny;
const BOS = 49406;
const EOS = 49407;

/** The 16 cross-attention modules of SD1.5's UNet in execution order. */
const ATTN2_MODULES = [
  ...[0, 1, 2].flatMap((b) => [0, 1].map((a) => `down_blocks.${b}/attentions.${a}`)),
  'mid_block/attentions.0',
  ...[1, 2, 3].flatMap((b) => [0, 1, 2].map((a) => `up_blocks.${b}/attentions.${a}`)),
];

function stats(data: ArrayLike<number>): { finite: boolean; std: number } {
  let sum = 0;
  let sq = 0;
  let finite = true;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) finite = false;
    sum += v;
    sq += v * v;
  }
  const mean = sum / data.length;
  return { finite, std: Math.sqrt(Math.max(0, sq / data.length - mean * mean)) };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** CLIP ids: bos, a few content tokens, eos, eos padding to 77. */
function promptIds(contentLengths: number[]): number[][] {
  return contentLengths.map((n, row) => {
    const ids = [BOS, ...Array.from({ length: n }, (_, i) => 320 + 7 * i + row), EOS];
    while (ids.length < 77) ids.push(EOS);
    return ids;
  });
}

interface Sessions {
  variant: TestModelVariant;
  dir: string;
  fp16: boolean;
  torch: boolean;
  text: ort.InferenceSession;
  unet: ort.InferenceSession;
  vaeEncoder: ort.InferenceSession;
  vaeDecoder: ort.InferenceSession;
}

async function openSessions(variant: TestModelVariant): Promise<Sessions> {
  const dir = await testModelDir(variant);
  const open = (part: string) => ort.InferenceSession.create(path.join(dir, part, 'model.onnx'), { intraOpNumThreads: 1 });
  return {
    variant,
    dir,
    fp16: variant === 'tiny-fp16',
    torch: variant === 'tiny-torch',
    text: await open('text_encoder'),
    unet: await open('unet'),
    vaeEncoder: await open('vae_encoder'),
    vaeDecoder: await open('vae_decoder'),
  };
}

async function release(s: Sessions | undefined): Promise<void> {
  if (!s) return;
  for (const session of [s.text, s.unet, s.vaeEncoder, s.vaeDecoder]) await session.release();
}

function floatTensor(s: Sessions, data: Float32Array, dims: number[]): ort.Tensor {
  return s.fp16 ? new ort.Tensor('float16', toFloat16(data), dims) : new ort.Tensor('float32', data, dims);
}

function floats(t: ort.Tensor): Float32Array {
  return t.type === 'float16' ? fromFloat16(t.data as Uint16Array) : (t.data as Float32Array);
}

function idsTensor(s: Sessions, rows: number[][]): ort.Tensor {
  const flat = rows.flat();
  return s.torch
    ? new ort.Tensor('int32', Int32Array.from(flat), [rows.length, rows[0].length])
    : new ort.Tensor('int64', BigInt64Array.from(flat.map(BigInt)), [rows.length, rows[0].length]);
}

function timestepTensor(s: Sessions, values: number[]): ort.Tensor {
  if (!s.torch) return new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [values.length]);
  return floatTensor(s, Float32Array.from(values), [values.length]);
}

async function encodeText(s: Sessions, rows: number[][]): Promise<{ last: ort.Tensor; pooled: ort.Tensor }> {
  const out = await s.text.run({ input_ids: idsTensor(s, rows) });
  return { last: out.last_hidden_state, pooled: out.pooler_output };
}

async function runUnet(s: Sessions, latents: Float32Array, dims: number[], timesteps: number[], context: Float32Array, contextDims: number[]): Promise<ort.Tensor> {
  const out = await s.unet.run({
    sample: floatTensor(s, latents, dims),
    timestep: timestepTensor(s, timesteps),
    encoder_hidden_states: floatTensor(s, context, contextDims),
  });
  return out.out_sample;
}

const SIZES: [number, number][] = [
  [64, 64],
  [96, 64],
];

for (const variant of ['tiny', 'tiny-torch'] as const) {
  describe(`generated ${variant} model runs in onnxruntime`, () => {
    let s: Sessions;
    beforeAll(async () => {
      s = await openSessions(variant);
    });
    afterAll(() => release(s));

    it('text encoder: [B, 77, H] states and pooler_output = the state at the first eos', async () => {
      for (const lengths of [[2], [2, 5]]) {
        const rows = promptIds(lengths);
        const { last, pooled } = await encodeText(s, rows);
        const B = rows.length;
        expect(last.dims).toEqual([B, 77, tiny.text.hidden]);
        expect(pooled.dims).toEqual([B, tiny.text.hidden]);
        const lastData = floats(last);
        const st = stats(lastData);
        expect(st.finite).toBe(true);
        expect(st.std).toBeGreaterThan(0.01);
        for (let b = 0; b < B; b++) {
          const eosAt = rows[b].indexOf(EOS);
          expect(eosAt).toBe(lengths[b] + 1);
          const start = (b * 77 + eosAt) * tiny.text.hidden;
          expect(Array.from(floats(pooled).subarray(b * tiny.text.hidden, (b + 1) * tiny.text.hidden))).toEqual(
            Array.from(lastData.subarray(start, start + tiny.text.hidden)),
          );
        }
      }
    });

    it('text encoder is causal: a token changes no earlier position', async () => {
      const a = promptIds([4]);
      const b = promptIds([4]);
      b[0][3] = 1000;
      const la = floats((await encodeText(s, a)).last);
      const lb = floats((await encodeText(s, b)).last);
      const H = tiny.text.hidden;
      expect(maxAbsDiff(la.subarray(0, 3 * H), lb.subarray(0, 3 * H))).toBe(0);
      expect(maxAbsDiff(la.subarray(3 * H, 4 * H), lb.subarray(3 * H, 4 * H))).toBeGreaterThan(1e-3);
    });

    for (const [height, width] of SIZES) {
      for (const batch of [1, 2]) {
        it(`UNet and VAE at ${width}×${height} px, batch ${batch}`, async () => {
          const h = height / 8;
          const w = width / 8;
          const context = floats((await encodeText(s, promptIds(batch === 1 ? [3] : [3, 6]))).last);
          const latents = randomNormal([batch, 4, h, w], 7);
          const out = await runUnet(s, latents, [batch, 4, h, w], new Array(batch).fill(500), context, [batch, 77, tiny.unet.crossAttentionDim]);
          expect(out.dims).toEqual([batch, 4, h, w]);
          const st = stats(floats(out));
          expect(st.finite).toBe(true);
          expect(st.std).toBeGreaterThan(0.01);

          const image = randomNormal([batch, 3, height, width], 8).map((v) => Math.tanh(v));
          const enc = await s.vaeEncoder.run({ sample: floatTensor(s, image, [batch, 3, height, width]) });
          const encoded = s.torch ? enc.latent_parameters : enc.latent_sample;
          expect(encoded.dims).toEqual([batch, s.torch ? 8 : 4, h, w]);
          const est = stats(floats(encoded));
          expect(est.finite).toBe(true);
          expect(est.std).toBeGreaterThan(0.01);

          const dec = await s.vaeDecoder.run({ latent_sample: floatTensor(s, latents, [batch, 4, h, w]) });
          expect(dec.sample.dims).toEqual([batch, 3, height, width]);
          const dst = stats(floats(dec.sample));
          expect(dst.finite).toBe(true);
          expect(dst.std).toBeGreaterThan(0.01);
        });
      }
    }

    it('UNet output depends on encoder_hidden_states and on the timestep', async () => {
      const dims = [1, 4, 8, 8];
      const latents = randomNormal(dims, 11);
      const ctxDims = [1, 77, tiny.unet.crossAttentionDim];
      const ctxA = floats((await encodeText(s, promptIds([2]))).last);
      const ctxB = floats((await encodeText(s, promptIds([9]))).last);
      const base = floats(await runUnet(s, latents, dims, [500], ctxA, ctxDims));
      const otherContext = floats(await runUnet(s, latents, dims, [500], ctxB, ctxDims));
      const otherTime = floats(await runUnet(s, latents, dims, [20], ctxA, ctxDims));
      const again = floats(await runUnet(s, latents, dims, [500], ctxA, ctxDims));
      expect(maxAbsDiff(base, again)).toBe(0);
      expect(maxAbsDiff(base, otherContext)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(base, otherTime)).toBeGreaterThan(1e-3);
    });

    it('UNet batch rows are independent and one timestep serves the whole batch', async () => {
      const dims = [2, 4, 8, 8];
      const latents = randomNormal(dims, 12);
      const ctx = floats((await encodeText(s, promptIds([3, 3]))).last);
      const ctxDims = [2, 77, tiny.unet.crossAttentionDim];
      const both = floats(await runUnet(s, latents, dims, [300, 300], ctx, ctxDims));
      const shared = floats(await runUnet(s, latents, dims, [300], ctx, ctxDims));
      expect(maxAbsDiff(both, shared)).toBeLessThan(1e-5);
      const half = latents.length / 2;
      const first = floats(await runUnet(s, latents.slice(0, half), [1, 4, 8, 8], [300], ctx.slice(0, ctx.length / 2), [1, 77, tiny.unet.crossAttentionDim]));
      expect(maxAbsDiff(both.subarray(0, half), first)).toBeLessThan(1e-4);
    });
  });
}

/**
 * The first input's dims, symbolic ones by name. (Reads dimParam first: protobufjs reports an
 * unset oneof int64 as its prototype default 0, so onnx.ts's valueShape sees 0 for symbolic dims.)
 */
function inputShape(m: LoadedModel): (number | string)[] {
  return m.model.graph.input[0].type!.tensorType!.shape!.dim.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
}

describe('generated model graphs', () => {
  const models = new Map<string, LoadedModel>();
  const model = async (variant: TestModelVariant, part: string) => {
    const key = `${variant}/${part}`;
    if (!models.has(key)) models.set(key, loadModel(path.join(await testModelDir(variant), part, 'model.onnx')));
    return models.get(key)!;
  };

  for (const [variant, prefix] of [
    ['tiny', ''],
    ['tiny-torch', '/u'],
  ] as const) {
    it(`${variant}: 16 attn2 to_k and to_v MatMuls named by diffusers module path, in execution order, reading encoder_hidden_states`, async () => {
      const { model: m } = await model(variant, 'unet');
      const initializers = new Map(m.graph.initializer.map((t) => [t.name, t]));
      for (const proj of ['to_k', 'to_v']) {
        const nodes = m.graph.node.filter((n) => n.opType === 'MatMul' && n.name.endsWith(`/attn2/${proj}/MatMul`));
        expect(nodes.map((n) => n.name)).toEqual(ATTN2_MODULES.map((mod) => `${prefix}/${mod}/transformer_blocks.0/attn2/${proj}/MatMul`));
        for (const n of nodes) {
          expect(n.input[0]).toBe('encoder_hidden_states');
          const weight = initializers.get(n.input[1]);
          expect(weight?.dims[0]).toBe(tiny.unet.crossAttentionDim);
        }
      }
      // Self-attention keys read the image tokens, never the text.
      const attn1 = m.graph.node.filter((n) => n.opType === 'MatMul' && n.name.endsWith('/attn1/to_k/MatMul'));
      expect(attn1).toHaveLength(16);
      for (const n of attn1) expect(n.input[0]).not.toBe('encoder_hidden_states');
    });
  }

  it('UNet weights live in an external file (model.onnx_data for optimum, weights.pb for torch)', async () => {
    for (const [variant, file] of [
      ['tiny', 'model.onnx_data'],
      ['tiny-torch', 'weights.pb'],
    ] as const) {
      const loaded = await model(variant, 'unet');
      const matmulWeights = loaded.model.graph.initializer.filter((t) => t.name.startsWith('onnx::MatMul_'));
      expect(matmulWeights.length).toBeGreaterThan(100);
      for (const t of matmulWeights) {
        expect(isExternal(t)).toBe(true);
        expect(externalRef(t).location).toBe(file);
      }
      expect(fs.statSync(path.join(loaded.dir, file)).size).toBeGreaterThan(4 * 1e6);
      expect(fs.statSync(loaded.path).size).toBeLessThan(2e6);
    }
  });

  it('input and output names and dtypes per variant', async () => {
    const io = (m: LoadedModel) => ({
      inputs: Object.fromEntries(m.model.graph.input.map((v) => [v.name, DataType[valueElemType(v)]])),
      outputs: Object.fromEntries(m.model.graph.output.map((v) => [v.name, DataType[valueElemType(v)]])),
    });
    expect(io(await model('tiny', 'unet'))).toEqual({
      inputs: { sample: 'FLOAT', timestep: 'INT64', encoder_hidden_states: 'FLOAT' },
      outputs: { out_sample: 'FLOAT' },
    });
    expect(io(await model('tiny-torch', 'unet'))).toEqual({
      inputs: { sample: 'FLOAT', timestep: 'FLOAT', encoder_hidden_states: 'FLOAT' },
      outputs: { out_sample: 'FLOAT' },
    });
    expect(io(await model('tiny-fp16', 'unet'))).toEqual({
      inputs: { sample: 'FLOAT16', timestep: 'INT64', encoder_hidden_states: 'FLOAT16' },
      outputs: { out_sample: 'FLOAT16' },
    });
    expect(io(await model('tiny', 'text_encoder')).inputs).toEqual({ input_ids: 'INT64' });
    expect(io(await model('tiny-torch', 'text_encoder')).inputs).toEqual({ input_ids: 'INT32' });
    expect(io(await model('tiny-fp16', 'text_encoder')).outputs).toEqual({ last_hidden_state: 'FLOAT16', pooler_output: 'FLOAT16' });
    expect(io(await model('tiny', 'vae_encoder')).outputs).toEqual({ latent_sample: 'FLOAT' });
    expect(io(await model('tiny-torch', 'vae_encoder')).outputs).toEqual({ latent_parameters: 'FLOAT' });
    expect(io(await model('tiny', 'vae_decoder'))).toEqual({ inputs: { latent_sample: 'FLOAT' }, outputs: { sample: 'FLOAT' } });
    expect(inputShape(await model('tiny-inpaint', 'unet'))).toEqual(['batch_size', 9, 'height', 'width']);
    expect(inputShape(await model('tiny', 'unet'))).toEqual(['batch_size', 4, 'height', 'width']);
    expect(inputShape(await model('tiny-torch', 'unet'))).toEqual(['batch', 4, 'height', 'width']);
  });

  it('torch variant: every UNet node under /u/, every text-encoder node under /t/, opsets 14 and 17', async () => {
    const unet = (await model('tiny-torch', 'unet')).model;
    const text = (await model('tiny-torch', 'text_encoder')).model;
    expect(unet.graph.node.every((n) => n.name.startsWith('/u/'))).toBe(true);
    expect(text.graph.node.every((n) => n.name.startsWith('/t/'))).toBe(true);
    expect(text.graph.node.some((n) => n.name === '/t/text_model/encoder/layers.0/self_attn/q_proj/MatMul')).toBe(true);
    expect(unet.opsetImport[0].version).toBe(14);
    expect(text.opsetImport[0].version).toBe(17);
    // Opset 14 has no LayerNormalization: the torch-style UNet decomposes it.
    expect(unet.graph.node.some((n) => n.opType === 'LayerNormalization')).toBe(false);
    expect(unet.graph.node.some((n) => n.name === '/u/down_blocks.0/attentions.0/transformer_blocks.0/norm1/ReduceMean')).toBe(true);
    const optimumText = (await model('tiny', 'text_encoder')).model;
    expect(optimumText.graph.node.some((n) => n.name === '/text_model/encoder/layers.1/mlp/fc2/MatMul')).toBe(true);
    // Parameter names carry no node prefix.
    expect(unet.graph.initializer.some((t) => t.name === 'down_blocks.0.resnets.0.conv1.weight')).toBe(true);
  });

  it('GroupNorm is exported as torch does below opset 18 (InstanceNormalization over [N, G, -1])', async () => {
    const { model: m } = await model('tiny', 'unet');
    const norm = m.graph.node.filter((n) => n.name.startsWith('/down_blocks.0/resnets.0/norm1/'));
    expect(norm.map((n) => n.opType).filter((t) => t !== 'Constant')).toEqual(['Reshape', 'InstanceNormalization', 'Shape', 'Reshape', 'Mul', 'Add']);
  });
});

describe('generated model folder', () => {
  it('has the diffusers layout, a test-model tag and a tokenizer that loads', async () => {
    const dir = await testModelDir('tiny');
    for (const f of expectedFiles('optimum')) expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'model_index.json'), 'utf8'));
    expect(index._class_name).toBe('OnnxStableDiffusionPipeline');
    expect(index.unet).toEqual(['diffusers', 'OnnxRuntimeModel']);
    expect(index.scheduler).toEqual(['diffusers', 'PNDMScheduler']);
    expect(index.pentimento).toMatchObject({ testModel: true, preset: 'tiny', seed: TEST_MODEL_SEED, generatorVersion: GENERATOR_VERSION });
    const inpaint = JSON.parse(fs.readFileSync(path.join(await testModelDir('tiny-inpaint'), 'model_index.json'), 'utf8'));
    expect(inpaint._class_name).toBe('OnnxStableDiffusionInpaintPipeline');
    const scheduler = JSON.parse(fs.readFileSync(path.join(dir, 'scheduler/scheduler_config.json'), 'utf8'));
    expect(scheduler).toMatchObject({
      _class_name: 'PNDMScheduler',
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      num_train_timesteps: 1000,
      steps_offset: 1,
      set_alpha_to_one: false,
      skip_prk_steps: true,
    });
    const tokenizer = ClipTokenizer.fromFolder(path.join(dir, 'tokenizer'));
    const ids = tokenizer.encode('a photo').ids;
    expect(ids.slice(0, 4)).toEqual([BOS, 320, 1125, EOS]);
    const unetConfig = JSON.parse(fs.readFileSync(path.join(dir, 'unet/config.json'), 'utf8'));
    expect(unetConfig.block_out_channels).toEqual(tiny.unet.blockOutChannels);
  });
});

describe('fp16 and inpainting variants', () => {
  let fp32: Sessions | undefined;
  let fp16: Sessions | undefined;
  beforeAll(async () => {
    fp32 = await openSessions('tiny');
    fp16 = await openSessions('tiny-fp16');
  });
  afterAll(async () => {
    await release(fp32);
    await release(fp16);
  });

  it('fp16 runs every part on the CPU and matches fp32 of the same seed', async () => {
    const a = fp32!;
    const b = fp16!;
    const rows = promptIds([3, 5]);
    const ta = await encodeText(a, rows);
    const tb = await encodeText(b, rows);
    expect(tb.last.type).toBe('float16');
    expect(relativeError(floats(tb.last), floats(ta.last))).toBeLessThan(0.01);

    const dims = [2, 4, 8, 8];
    const latents = randomNormal(dims, 21);
    const ctx = floats(ta.last);
    const ctxDims = [2, 77, tiny.unet.crossAttentionDim];
    const ua = floats(await runUnet(a, latents, dims, [400, 400], ctx, ctxDims));
    const ub = floats(await runUnet(b, latents, dims, [400, 400], ctx, ctxDims));
    expect(stats(ub).finite).toBe(true);
    expect(relativeError(ub, ua)).toBeLessThan(0.01);

    const da = floats((await a.vaeDecoder.run({ latent_sample: floatTensor(a, latents, dims) })).sample);
    const db = floats((await b.vaeDecoder.run({ latent_sample: floatTensor(b, latents, dims) })).sample);
    expect(relativeError(db, da)).toBeLessThan(0.01);

    const image = randomNormal([1, 3, 64, 64], 22).map((v) => Math.tanh(v));
    const ea = floats((await a.vaeEncoder.run({ sample: floatTensor(a, image, [1, 3, 64, 64]) })).latent_sample);
    const eb = floats((await b.vaeEncoder.run({ sample: floatTensor(b, image, [1, 3, 64, 64]) })).latent_sample);
    expect(relativeError(eb, ea)).toBeLessThan(0.01);
  });

  it('inpainting UNet takes 9 channels and returns 4', async () => {
    const dir = await testModelDir('tiny-inpaint');
    const unet = await ort.InferenceSession.create(path.join(dir, 'unet/model.onnx'), { intraOpNumThreads: 1 });
    try {
      const dims = [1, 9, 12, 8];
      const out = await unet.run({
        sample: new ort.Tensor('float32', randomNormal(dims, 31), dims),
        timestep: new ort.Tensor('int64', BigInt64Array.of(999n), [1]),
        encoder_hidden_states: new ort.Tensor('float32', randomNormal([1, 77, 32], 32), [1, 77, 32]),
      });
      expect(out.out_sample.dims).toEqual([1, 4, 12, 8]);
      expect(stats(out.out_sample.data as Float32Array).std).toBeGreaterThan(0.01);
    } finally {
      await unet.release();
    }
  });
});

describe('generateModelFolder', () => {
  const tmp: string[] = [];
  const tmpDir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-gen-'));
    tmp.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
  });

  const hashes = (dir: string) =>
    Object.fromEntries(
      expectedFiles('torch').map((f) => [f, createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]),
    );

  it('is deterministic: equal options give byte-identical files; another seed other weights', async () => {
    const root = tmpDir();
    const a = await generateModelFolder({ preset: 'tiny', outDir: path.join(root, 'a'), seed: 5, variant: 'torch' });
    const b = await generateModelFolder({ preset: 'tiny', outDir: path.join(root, 'b'), seed: 5, variant: 'torch' });
    const c = await generateModelFolder({ preset: 'tiny', outDir: path.join(root, 'c'), seed: 6, variant: 'torch' });
    expect(hashes(a.dir)).toEqual(hashes(b.dir));
    expect(hashes(c.dir)['unet/weights.pb']).not.toBe(hashes(a.dir)['unet/weights.pb']);
    const nodes = (dir: string) => loadModel(path.join(dir, 'unet/model.onnx')).model.graph.node.map((n) => `${n.name}:${n.opType}`);
    expect(nodes(c.dir)).toEqual(nodes(a.dir));
    // Tiny preset sizes, reported by the generator.
    expect(a.parameters.unet).toBe(3_222_692);
    expect(a.parameters.text_encoder).toBe(1_608_992);
    expect(a.files['unet/weights.pb']).toBeGreaterThanOrEqual(4 * 3_000_000);
    expect(fs.readdirSync(root).sort()).toEqual(['a', 'b', 'c']);
  });

  it('rejects bad options with BAD_ARGUMENT and leaves nothing behind', async () => {
    const root = tmpDir();
    const out = path.join(root, 'm');
    await expect(generateModelFolder({ preset: 'huge' as 'tiny', outDir: out })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('tiny, full') });
    await expect(generateModelFolder({ preset: 'tiny', outDir: out, seed: -1 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(generateModelFolder({ preset: 'tiny', outDir: out, seed: 1.5 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(generateModelFolder({ preset: 'tiny', outDir: out, variant: 'onnx' as 'torch' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    await expect(generateModelFolder({ preset: 'tiny', outDir: out })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('not empty') });
    expect(fs.readdirSync(root)).toEqual(['m']);
    expect(fs.readdirSync(out)).toEqual(['keep.txt']);
    await expect(generateModelFolder({ preset: 'tiny', outDir: out, tokenizerAssets: path.join(root, 'nowhere'), overwrite: true })).rejects.toMatchObject({
      code: 'MODEL_MISSING',
    });
    const replaced = await generateModelFolder({ preset: 'tiny', outDir: out, overwrite: true });
    expect(fs.existsSync(path.join(replaced.dir, 'keep.txt'))).toBe(false);
    expect(fs.readdirSync(root)).toEqual(['m']);
  });
});
