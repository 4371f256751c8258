/**
 * Gives every cross-attention layer of a UNet its own key and value context inputs
 * (`ctx_k_{i}`, `ctx_v_{i}`, shaped like encoder_hidden_states), so per-layer conditioning
 * (NeTI's space-time embeddings, its textual bypass with separate keys and values) can feed each
 * layer differently. Layers are found by diffusers module path where names survive
 * (`…/attn2/to_k/MatMul`, any prefix), otherwise by structure: MatMuls of a constant weight whose
 * left operand derives from encoder_hidden_states alone; a projection whose product goes on to a
 * Softmax (the scores) is the key, the other the value.
 */
import { PentimentoError } from '../errors';
import { GraphIndex, cloneNodes } from './GraphIndex';
import type { ModelProto, NodeProto, ValueInfoProto } from './onnx';
import { attrInts } from './nodeAttrs';
import { inferShapes } from './shapeInference';

export interface KvLayer {
  /** 0..15 for SD1.5: down 0–5, mid 6, up 7–15. */
  index: number;
  /** Module path of the attention (`down_blocks.0.attentions.0.transformer_blocks.0.attn2`), '' when names are stripped. */
  modulePath: string;
  /** Latent downscale factor of the layer's hidden states (1, 2, 4, 8). */
  resolution: number;
  channels: number;
  heads?: number;
  keyInput: string;
  valueInput: string;
}

export interface SplitKvResult {
  model: ModelProto;
  layers: KvLayer[];
}

const PROJECTION = /^(.*?)\/to_([kv])\/MatMul(?:_\d+)?$/;
const BLOCK_ORDER: Record<string, number> = { down_blocks: 0, mid_block: 1, up_blocks: 2 };

/** Sort key from a module path: block kind (down, mid, up), then every numeric index in order. */
function moduleKey(path: string): number[] | undefined {
  const parts = path.split('/').filter(Boolean);
  const start = parts.findIndex((p) => p.split('.')[0] in BLOCK_ORDER);
  if (start < 0) return undefined;
  const kind = BLOCK_ORDER[parts[start].split('.')[0]];
  const nums = parts.slice(start).flatMap((p) => (p.match(/\d+/g) ?? []).map(Number));
  return [kind, ...nums];
}

/** `down_blocks.0.attentions.0.transformer_blocks.0.attn2` from a node path with any prefix. */
function modulePath(path: string): string {
  const parts = path.split('/').filter(Boolean);
  const start = parts.findIndex((p) => p.split('.')[0] in BLOCK_ORDER);
  return start < 0 ? '' : parts.slice(start).join('.');
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

export function splitKv(model: ModelProto, opts: { context?: string; dir?: string } = {}): SplitKvResult {
  const contextName = opts.context ?? 'encoder_hidden_states';
  const graph = { ...model.graph, node: cloneNodes(model.graph.node), input: [...model.graph.input] };
  const contextInfo = graph.input.find((v) => v.name === contextName);
  if (!contextInfo) {
    throw new PentimentoError('BAD_MODEL', `the model has no input '${contextName}'; its inputs are: ${graph.input.map((v) => v.name).join(', ')}`);
  }
  const info = inferShapes(model, opts.dir);
  const index = new GraphIndex(graph);
  const fromContext = index.descendants(contextName);

  // Hidden states downstream of the first cross-attention depend on the context too; a key or
  // value projection reads the context alone.
  const fromOthers = new Set(graph.input.filter((v) => v.name !== contextName).flatMap((v) => [...index.descendants(v.name)]));
  const projections = graph.node.filter(
    (n) =>
      n.opType === 'MatMul' &&
      fromContext.has(n.input[0]) &&
      !fromOthers.has(n.input[0]) &&
      !fromContext.has(n.input[1]) &&
      index.isConstant(n.input[1]),
  );
  if (projections.length === 0) throw new PentimentoError('BAD_MODEL', `no cross-attention projections of '${contextName}' found: is this a UNet?`);

  const named = projections.every((n) => PROJECTION.test(n.name) && moduleKey(n.name.match(PROJECTION)![1]));
  const pairs: { path: string; key: NodeProto; value: NodeProto }[] = [];
  if (named) {
    const byPath = new Map<string, { key?: NodeProto; value?: NodeProto }>();
    for (const n of projections) {
      const [, path, kind] = n.name.match(PROJECTION)!;
      const entry = byPath.get(path) ?? {};
      entry[kind === 'k' ? 'key' : 'value'] = n;
      byPath.set(path, entry);
    }
    const paths = [...byPath.keys()].sort((a, b) => compareKeys(moduleKey(a)!, moduleKey(b)!));
    for (const path of paths) {
      const { key, value } = byPath.get(path)!;
      if (!key || !value) throw new PentimentoError('BAD_MODEL', `attention '${path}' has a ${key ? 'key' : 'value'} projection but no ${key ? 'value' : 'key'} projection`);
      pairs.push({ path, key, value });
    }
  } else {
    const keys: NodeProto[] = [];
    const values: NodeProto[] = [];
    // The key's product (the scores) reaches a Softmax before any other MatMul; the value's does not.
    for (const n of projections) {
      const reach = index.descendants(n.output[0]);
      const product = graph.node.find((m) => m !== n && m.opType === 'MatMul' && m.input.some((i) => reach.has(i)));
      if (!product) continue;
      (feedsSoftmax(index, product) ? keys : values).push(n);
    }
    if (keys.length !== values.length) {
      throw new PentimentoError('BAD_MODEL', `found ${keys.length} key but ${values.length} value projections of '${contextName}'`);
    }
    keys.forEach((key, i) => pairs.push({ path: '', key, value: values[i] }));
  }

  const newInputs: ValueInfoProto[] = [];
  const layers: KvLayer[] = pairs.map(({ path, key, value }, i) => {
    const keyInput = `ctx_k_${i}`;
    const valueInput = `ctx_v_${i}`;
    for (const [node, input] of [
      [key, keyInput],
      [value, valueInput],
    ] as const) {
      newInputs.push({ ...structuredClone(contextInfo), name: input });
      rewire(graph.node, index, node, contextName, input);
    }
    const channels = Number(info.shape(key.input[1])?.at(-1));
    return {
      index: i,
      modulePath: modulePath(path),
      resolution: resolutionAt(graph.node, graph.node.indexOf(key), info),
      channels,
      heads: headsAfter(index, key, info),
      keyInput,
      valueInput,
    };
  });

  const stillUsed = graph.node.some((n) => n.input.includes(contextName)) || graph.output.some((o) => o.name === contextName);
  const inputs = graph.input.flatMap((v) => (v.name === contextName ? (stillUsed ? [v, ...newInputs] : newInputs) : [v]));
  return { model: { ...model, graph: { ...graph, input: inputs, valueInfo: [] } }, layers };
}

/**
 * Feeds `node`'s left operand from `input` instead of the context: directly when the operand is
 * the context itself, else through a copy of the nodes between the context and the operand.
 */
function rewire(nodes: NodeProto[], index: GraphIndex, node: NodeProto, context: string, input: string): void {
  const operand = node.input[0];
  if (operand === context) {
    node.input[0] = input;
    return;
  }
  const fromContext = index.descendants(context);
  const chain: NodeProto[] = [];
  const visit = (v: string) => {
    const p = index.producer.get(v);
    if (!p || !fromContext.has(v) || chain.includes(p)) return;
    p.input.forEach(visit);
    chain.push(p);
  };
  visit(operand);
  const rename = new Map<string, string>([[context, input]]);
  const copies = chain.map((p) => {
    const outputs = p.output.map((o) => `${o}/${input}`);
    p.output.forEach((o, k) => rename.set(o, outputs[k]));
    return { ...p, name: `${p.name}/${input}`, input: p.input.map((i) => rename.get(i) ?? i), output: outputs };
  });
  node.input[0] = rename.get(operand)!;
  nodes.splice(nodes.indexOf(node), 0, ...copies);
}

function feedsSoftmax(index: GraphIndex, product: NodeProto): boolean {
  const queue = [...product.output];
  const seen = new Set<string>();
  while (queue.length) {
    const v = queue.shift()!;
    if (seen.has(v)) continue;
    seen.add(v);
    for (const c of index.consumers.get(v) ?? []) {
      if (c.opType === 'Softmax') return true;
      if (c.opType !== 'MatMul') queue.push(...c.output);
    }
  }
  return false;
}

/** Latent downscale at a node: stride products of the Convs before it, divided by the upsamplings. */
function resolutionAt(nodes: NodeProto[], position: number, info: ReturnType<typeof inferShapes>): number {
  let factor = 1;
  for (const n of nodes.slice(0, position)) {
    if (n.opType === 'Conv') factor *= Math.max(1, ...(attrInts(n, 'strides') ?? [1]));
    if (n.opType === 'Resize' || n.opType === 'Upsample') {
      const scales = n.input[2] ? info.numbers(n.input[2]) : undefined;
      factor /= scales?.at(-1) ?? 2;
    }
  }
  return Math.max(1, Math.round(factor));
}

/** Heads from the first rank-4 Reshape of the key projection ([B, S, heads, head_dim]). */
function headsAfter(index: GraphIndex, key: NodeProto, info: ReturnType<typeof inferShapes>): number | undefined {
  const reach = index.descendants(key.output[0]);
  const reshape = index.graph.node.find((n) => n.opType === 'Reshape' && reach.has(n.input[0]) && info.rank(n.output[0]) === 4);
  const heads = reshape ? info.shape(reshape.output[0])?.[2] : undefined;
  return typeof heads === 'number' ? heads : undefined;
}
