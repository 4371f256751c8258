/**
 * Clean-up of a derived graph, so onnxruntime opens it quickly even with its optimiser off:
 * integer shape arithmetic whose values are known statically becomes constants; Identity nodes
 * disappear; nodes computing the same op on the same inputs with the same attributes collapse
 * into one (common-subexpression elimination: repeated Shape(x), equal constants, and what
 * builds on them); what no graph output needs is dropped.
 */
import { DataType, elementCount, type AttributeProto, type ModelProto, type NodeProto } from './onnx';
import { typedTensor } from './GradEmitter';
import { makeAttribute } from './GraphBuilder';
import { inferShapes, isFloatType } from './shapeInference';

/** Ops whose result is not a function of their inputs and attributes. */
const NONDETERMINISTIC = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli', 'Dropout']);
/** Ops that read only their input's shape, so a float input does not stop folding. */
const SHAPE_READERS = new Set(['Shape', 'Size']);

const isDefaultDomain = (n: NodeProto) => !n.domain || n.domain === 'ai.onnx';

/**
 * @param dir the model's folder, for small external constants shape inference may read.
 */
export function simplify(model: ModelProto, dir?: string): ModelProto {
  const folded = foldShapeArithmetic(model, dir);
  return pruneUnused(renameIntoOutputs(mergeDuplicates(folded)));
}

/** A graph output that is Identity(v) of a computed, internal v becomes v's own name. */
export function renameIntoOutputs(model: ModelProto): ModelProto {
  const g = model.graph;
  const outputs = new Set(g.output.map((v) => v.name));
  const interfaceNames = new Set([...g.input.map((v) => v.name), ...g.initializer.map((t) => t.name), ...outputs]);
  const produced = new Set(g.node.flatMap((n) => n.output));
  const rename = new Map<string, string>();
  const dropped = new Set<NodeProto>();
  for (const n of g.node) {
    if (n.opType !== 'Identity' || !isDefaultDomain(n) || !outputs.has(n.output[0])) continue;
    const v = n.input[0];
    if (!v || interfaceNames.has(v) || !produced.has(v) || rename.has(v)) continue;
    rename.set(v, n.output[0]);
    dropped.add(n);
  }
  if (rename.size === 0) return model;
  const r = (x: string) => rename.get(x) ?? x;
  const node = g.node.filter((n) => !dropped.has(n)).map((n) => ({ ...n, input: n.input.map(r), output: n.output.map(r) }));
  return { ...model, graph: { ...g, node } };
}

/** Integer-valued nodes whose values shape inference knows exactly become Constant nodes. */
export function foldShapeArithmetic(model: ModelProto, dir?: string): ModelProto {
  const info = inferShapes(model, dir);
  const node = model.graph.node.map((n): NodeProto => {
    if (n.opType === 'Constant' || n.output.length !== 1 || !isDefaultDomain(n) || NONDETERMINISTIC.has(n.opType)) return n;
    const out = n.output[0];
    const type = info.elemType(out);
    if (type !== DataType.INT64 && type !== DataType.INT32) return n;
    if (!SHAPE_READERS.has(n.opType) && n.input.some((i) => i && isFloatType(info.elemType(i)))) return n;
    const values = info.numbers(out);
    const shape = info.shape(out);
    if (!values || !shape || !shape.every((d) => typeof d === 'number')) return n;
    if (elementCount(shape as number[]) !== values.length || !values.every(Number.isInteger)) return n;
    return { name: n.name, opType: 'Constant', input: [], output: [out], attribute: [makeAttribute('value', typedTensor(values, type, shape as number[]))] };
  });
  return { ...model, graph: { ...model.graph, node } };
}

function attributeKey(attrs: readonly AttributeProto[]): string | undefined {
  if (attrs.some((a) => a.g || (a.graphs && a.graphs.length))) return undefined;
  const sorted = [...attrs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return JSON.stringify(sorted, (_, v) => {
    if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    if (typeof v === 'bigint') return v.toString();
    return v;
  });
}

/** Identity removal and common-subexpression elimination in one forward pass. */
export function mergeDuplicates(model: ModelProto): ModelProto {
  const g = model.graph;
  const outputs = new Set(g.output.map((v) => v.name));
  const rename = new Map<string, string>();
  const seen = new Map<string, NodeProto>();
  const keep: NodeProto[] = [];
  for (const n of g.node) {
    const input = n.input.map((i) => rename.get(i) ?? i);
    const node = input.some((i, k) => i !== n.input[k]) ? { ...n, input } : n;
    const exposed = node.output.some((o) => outputs.has(o));
    if (!exposed && node.opType === 'Identity' && isDefaultDomain(node) && node.input[0]) {
      rename.set(node.output[0], node.input[0]);
      continue;
    }
    const attrs = isDefaultDomain(node) && !NONDETERMINISTIC.has(node.opType) ? attributeKey(node.attribute) : undefined;
    if (attrs !== undefined) {
      const key = `${node.opType}|${node.input.join(',')}|${node.output.length}|${attrs}`;
      const twin = seen.get(key);
      if (twin && !exposed) {
        node.output.forEach((o, k) => o && rename.set(o, twin.output[k]));
        continue;
      }
      if (!twin) seen.set(key, node);
    }
    keep.push(node);
  }
  return { ...model, graph: { ...g, node: keep } };
}

/** Drops nodes and initializers the graph outputs do not depend on (inputs stay: they are the interface). */
export function pruneUnused(model: ModelProto): ModelProto {
  const g = model.graph;
  const live = new Set(g.output.map((v) => v.name));
  const keep: NodeProto[] = [];
  for (let k = g.node.length - 1; k >= 0; k--) {
    const n = g.node[k];
    if (!n.output.some((o) => live.has(o))) continue;
    keep.push(n);
    for (const i of n.input) if (i) live.add(i);
  }
  keep.reverse();
  return {
    ...model,
    graph: { ...g, node: keep, initializer: g.initializer.filter((t) => live.has(t.name)) },
  };
}
