/**
 * The toolkit's derived models against an independent framework: TensorFlow.js (its own kernels
 * and its own autodiff) running diffusers' UNet and transformers' CLIP text model written from
 * their module definitions (tests/reference), with parameters read by module path. The models are
 * the torch.onnx-style export (node names prefixed /u/… and /t/…, float timestep, int32 ids,
 * opset 14 UNet with LayerNorm decomposed, opset 17 text encoder, external weights).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../reference/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isExternal, loadModel, saveModel, type LoadedModel } from '../../../main/engine/graph/ModelIO';
import { opsetVersion, type ModelProto } from '../../../main/engine/graph/onnx';
import { splitKv, type KvLayer } from '../../../main/engine/graph/splitKv';
import { INPUTS_EMBEDS, PRE_NORM_OUTPUT, textEmbeds } from '../../../main/engine/graph/textEmbeds';
import { vjp } from '../../../main/engine/graph/vjp';
import { OnnxRuntime, type FeedTensor, type ModelSession } from '../../../main/engine/runtime/OnnxRuntime';
import { testModelDir } from '../../fixtures/models';
import { TfjsClipText } from '../../reference/tfjsClipText';
import { TfjsUnet, sharedContexts, type KvContexts } from '../../reference/tfjsUnet';
import { randomFloat32 } from './unetFeeds';

const FORWARD_TOL = 1e-4;
const GRADIENT_TOL = 1e-3;
const SEQ = 77;
const LATENT = 8;

/** ‖a − b‖ / ‖b‖ */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return Math.sqrt(diff / norm);
}

// Forward models open as the app opens them (every graph optimisation). onnxruntime's optimiser
// takes tens of seconds over a VJP graph (~12k nodes for the tiny UNet), so those open unoptimised:
// the check is about the derived graph's numbers, not the optimiser's rewrites.
let runtime: OnnxRuntime;
let unoptimised: OnnxRuntime;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pentimento-indep-'));

async function open(model: ModelProto, source: LoadedModel, name: string, on = runtime): Promise<ModelSession> {
  const file = path.join(scratch, name, 'model.onnx');
  saveModel(model, file, { sourceDir: source.dir });
  return on.createSession(file);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  runtime = new OnnxRuntime({ provider: 'cpu' });
  unoptimised = new OnnxRuntime({ provider: 'cpu', graphOptimizationLevel: 'disabled' });
});

afterAll(async () => {
  await runtime.dispose();
  await unoptimised.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('split-kv UNet of the torch export against TensorFlow.js', () => {
  let source: LoadedModel;
  let layers: KvLayer[];
  let split: ModelProto;
  let reference: TfjsUnet;
  const sample = randomFloat32(4 * LATENT * LATENT, 11);
  const timestep = Float32Array.of(500);
  // 32 distinct contexts: layer i's key context and value context are separate draws.
  const keys = Array.from({ length: 16 }, (_, i) => randomFloat32(SEQ * 32, 100 + i));
  const values = Array.from({ length: 16 }, (_, i) => randomFloat32(SEQ * 32, 200 + i));

  const feeds = (): Record<string, FeedTensor> => ({
    sample: { data: sample, dims: [1, 4, LATENT, LATENT] },
    timestep: { data: timestep, dims: [1] },
    ...Object.fromEntries(layers.flatMap((l) => [
      [l.keyInput, { data: keys[l.index], dims: [1, SEQ, 32] }],
      [l.valueInput, { data: values[l.index], dims: [1, SEQ, 32] }],
    ])),
  });
  const tfInputs = () => ({
    sample: tf.tensor4d(sample, [1, 4, LATENT, LATENT]),
    timestep: tf.tensor1d(timestep),
    k: keys.map((d) => tf.tensor3d(d, [1, SEQ, 32])),
    v: values.map((d) => tf.tensor3d(d, [1, SEQ, 32])),
  });

  beforeAll(async () => {
    const dir = path.join(await testModelDir('tiny-torch'), 'unet');
    source = loadModel(path.join(dir, 'model.onnx'));
    ({ model: split, layers } = splitKv(source.model, { dir: source.dir }));
    reference = TfjsUnet.load(dir);
  });
  afterAll(() => reference.weights.dispose());

  it('is the export the check is about: prefixed names, float timestep, opset 14, external weights', () => {
    expect(opsetVersion(source.model)).toBe(14);
    expect(source.model.graph.node.every((n) => n.name.startsWith('/u/'))).toBe(true);
    expect(source.model.graph.node.some((n) => n.opType === 'LayerNormalization')).toBe(false);
    expect(source.model.graph.input.find((v) => v.name === 'timestep')!.type!.tensorType!.elemType).toBe(1);
    expect(source.model.graph.initializer.some((t) => isExternal(t))).toBe(true);
    // split-kv's layer order is the order diffusers runs the cross-attentions in.
    expect(layers.map((l) => l.modulePath)).toEqual(reference.crossAttentionModules());
  });

  it('forward with 32 distinct contexts agrees (relative error ≤ 1e-4)', async () => {
    const session = await open(split, source, 'split-kv');
    const got = (await session.run(feeds())).out_sample;
    await session.dispose();
    expect(got.dims).toEqual([1, 4, LATENT, LATENT]);

    const inputs = tfInputs();
    const want = tf.tidy(() => reference.forward(inputs.sample, inputs.timestep, inputs).dataSync());
    expect(relativeError(got.data, want)).toBeLessThanOrEqual(FORWARD_TOL);

    // The comparison sees each layer's own contexts: feeding the reference the same contexts one
    // layer later (a misordered split) moves it far outside the tolerance.
    const shifted: KvContexts = { k: [...inputs.k.slice(1), inputs.k[0]], v: [...inputs.v.slice(1), inputs.v[0]] };
    const wrong = tf.tidy(() => reference.forward(inputs.sample, inputs.timestep, shifted).dataSync());
    expect(relativeError(got.data, wrong)).toBeGreaterThan(100 * FORWARD_TOL);
    tf.dispose([inputs.sample, inputs.timestep, ...inputs.k, ...inputs.v]);
  });

  it('the source UNet agrees with the reference on one shared context (relative error ≤ 1e-4)', async () => {
    const session = await runtime.createSession(path.join(source.dir, 'model.onnx'));
    const context = keys[0];
    const got = (await session.run({ ...feeds(), encoder_hidden_states: { data: context, dims: [1, SEQ, 32] } })).out_sample;
    await session.dispose();
    const inputs = tfInputs();
    const shared = sharedContexts(tf.tensor3d(context, [1, SEQ, 32]), layers.length);
    const want = tf.tidy(() => reference.forward(inputs.sample, inputs.timestep, shared).dataSync());
    tf.dispose([inputs.sample, inputs.timestep, ...inputs.k, ...inputs.v, shared.k[0]]);
    expect(relativeError(got.data, want)).toBeLessThanOrEqual(FORWARD_TOL);
  });

  it('VJP w.r.t. all 32 contexts agrees with tf.grads (relative error ≤ 1e-3 per input)', async () => {
    const wrt = layers.flatMap((l) => [l.keyInput, l.valueInput]);
    const derived = vjp(split, { wrt, of: ['out_sample'] }, source.dir);
    const session = await open(derived, source, 'split-kv-vjp', unoptimised);
    const cotangent = randomFloat32(4 * LATENT * LATENT, 12);
    const out = await session.run({ ...feeds(), out_sample_grad: { data: cotangent, dims: [1, 4, LATENT, LATENT] } });
    await session.dispose();

    const inputs = tfInputs();
    const grads = tf.tidy(() => {
      // ⟨cotangent, ε(contexts)⟩ differentiated by tfjs's own reverse mode.
      const f = (...ctx: tf.Tensor[]) => reference.forward(inputs.sample, inputs.timestep, { k: ctx.slice(0, 16) as tf.Tensor3D[], v: ctx.slice(16) as tf.Tensor3D[] });
      return tf.grads(f)([...inputs.k, ...inputs.v], tf.tensor4d(cotangent, [1, 4, LATENT, LATENT])).map((g) => g.dataSync());
    });
    const forward = tf.tidy(() => reference.forward(inputs.sample, inputs.timestep, inputs).dataSync());
    tf.dispose([inputs.sample, inputs.timestep, ...inputs.k, ...inputs.v]);

    expect(relativeError(out.out_sample.data, forward)).toBeLessThanOrEqual(FORWARD_TOL);
    const errors: Record<string, number> = {};
    layers.forEach((l) => {
      errors[l.keyInput] = relativeError(out[`${l.keyInput}_grad`].data, grads[l.index]);
      errors[l.valueInput] = relativeError(out[`${l.valueInput}_grad`].data, grads[16 + l.index]);
    });
    for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThanOrEqual(GRADIENT_TOL);
  });
});

describe('text-embeds encoder of the torch export against TensorFlow.js', () => {
  let source: LoadedModel;
  let derived: ModelProto;
  let reference: TfjsClipText;
  // "a photo of a cat" and a shorter prompt, padded with end-of-text; the pooled output reads the first one.
  const prompts = [
    [49406, 320, 1125, 539, 320, 2368, 49407],
    [49406, 2368, 49407],
  ];
  const ids = Int32Array.from(prompts.flatMap((p) => [...p, ...Array(SEQ - p.length).fill(49407)]));
  const eos = prompts.map((p) => p.length - 1);
  const embeds = randomFloat32(2 * SEQ * 32, 21);
  const feeds = (): Record<string, FeedTensor> => ({
    input_ids: { data: ids, dims: [2, SEQ] },
    [INPUTS_EMBEDS]: { data: embeds, dims: [2, SEQ, 32] },
  });

  beforeAll(async () => {
    const dir = path.join(await testModelDir('tiny-torch'), 'text_encoder');
    source = loadModel(path.join(dir, 'model.onnx'));
    expect(opsetVersion(source.model)).toBe(17);
    expect(source.model.graph.input[0].type!.tensorType!.elemType).toBe(6); // int32 ids
    expect(source.model.graph.node.every((n) => n.name.startsWith('/t/'))).toBe(true);
    derived = textEmbeds(source.model, { dir: source.dir }).model;
    reference = TfjsClipText.load(dir);
  });
  afterAll(() => reference.weights.dispose());

  it('forward agrees on last_hidden_state, the pre-norm state and pooler_output (relative error ≤ 1e-4)', async () => {
    const session = await open(derived, source, 'text-embeds');
    const got = await session.run(feeds());
    await session.dispose();
    const want = tf.tidy(() => {
      const o = reference.forward(tf.tensor3d(embeds, [2, SEQ, 32]), eos);
      return { last: o.lastHidden.dataSync(), pre: o.preNorm.dataSync(), pooled: o.pooled!.dataSync() };
    });
    expect(relativeError(got.last_hidden_state.data, want.last)).toBeLessThanOrEqual(FORWARD_TOL);
    expect(relativeError(got[PRE_NORM_OUTPUT].data, want.pre)).toBeLessThanOrEqual(FORWARD_TOL);
    expect(relativeError(got.pooler_output.data, want.pooled)).toBeLessThanOrEqual(FORWARD_TOL);
  });

  it('VJP w.r.t. inputs_embeds agrees with tf.grads (relative error ≤ 1e-3)', async () => {
    const of = ['last_hidden_state', PRE_NORM_OUTPUT, 'pooler_output'];
    const grad = vjp(derived, { wrt: [INPUTS_EMBEDS], of }, source.dir);
    const session = await open(grad, source, 'text-embeds-vjp', unoptimised);
    const cot = {
      last: randomFloat32(2 * SEQ * 32, 22),
      pre: randomFloat32(2 * SEQ * 32, 23),
      pooled: randomFloat32(2 * 32, 24),
    };
    const out = await session.run({
      ...feeds(),
      last_hidden_state_grad: { data: cot.last, dims: [2, SEQ, 32] },
      [`${PRE_NORM_OUTPUT}_grad`]: { data: cot.pre, dims: [2, SEQ, 32] },
      pooler_output_grad: { data: cot.pooled, dims: [2, 32] },
    });
    await session.dispose();

    const want = tf.tidy(() => {
      // L = ⟨c₁, last⟩ + ⟨c₂, pre-norm⟩ + ⟨c₃, pooled⟩, differentiated by tfjs.
      const loss = (x: tf.Tensor) => {
        const o = reference.forward(x as tf.Tensor3D, eos);
        return tf.addN([
          tf.sum(tf.mul(o.lastHidden, tf.tensor3d(cot.last, [2, SEQ, 32]))),
          tf.sum(tf.mul(o.preNorm, tf.tensor3d(cot.pre, [2, SEQ, 32]))),
          tf.sum(tf.mul(o.pooled!, tf.tensor2d(cot.pooled, [2, 32]))),
        ]);
      };
      return tf.grad(loss)(tf.tensor3d(embeds, [2, SEQ, 32])).dataSync();
    });
    expect(relativeError(out[`${INPUTS_EMBEDS}_grad`].data, want)).toBeLessThanOrEqual(GRADIENT_TOL);
  });
});
