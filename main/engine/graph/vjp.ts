/**
 * Reverse-mode autodiff of an ONNX graph: derives a model computing the vector-Jacobian product
 * ⟨cotangent, ∂outputs/∂inputs⟩. The derived graph holds the forward nodes plus the backward
 * nodes (forward values the backward pass needs are read from the forward graph), takes the
 * source inputs plus one cotangent `<output>_grad` per chosen output, and returns the chosen
 * outputs plus `<input>_grad` per differentiated input. Dims stay symbolic, so it runs at every
 * batch and image size the source does.
 */
import { PentimentoError, badArgument } from '../errors';
import { GradEmitter } from './GradEmitter';
import { cloneNodes } from './GraphIndex';
import { gradientRules, type GradContext } from './gradientRules';
import { DataType, dataTypeName, makeValueInfo, type ModelProto, type NodeProto, type ValueInfoProto } from './onnx';
import { inferShapes, isFloatType, type ShapeInfo } from './shapeInference';
import { simplify } from './simplify';
import { annotateShapes } from './annotateShapes';

export { pruneUnused } from './simplify';

export interface VjpOptions {
  /** Graph inputs (or initializers) to differentiate with respect to. */
  wrt: string[];
  /** Graph outputs whose cotangents are given. */
  of: string[];
}

export const gradName = (value: string) => `${value}_grad`;

/**
 * @param dir the source model's folder (reads small external constants such as axes); optional.
 */
export function vjp(model: ModelProto, opts: VjpOptions, dir?: string): ModelProto {
  const g = model.graph;
  const info = inferShapes(model, dir);
  checkNames(model, opts);

  const consumers = new Map<string, NodeProto[]>();
  for (const n of g.node) {
    for (const i of new Set(n.input)) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  }
  const graphOutputs = new Set(g.output.map((v) => v.name));

  // Forward reachability from wrt along floating-point values (and values of unknown type, so an
  // op shape inference does not know still reaches the rule lookup and its error).
  const active = new Set(opts.wrt);
  for (const n of g.node) {
    if (!n.input.some((i) => active.has(i))) continue;
    for (const o of n.output) {
      const t = info.elemType(o);
      if (o && (isFloatType(t) || t === DataType.UNDEFINED)) active.add(o);
    }
  }
  // Backward reachability from the chosen outputs.
  const needed = new Set(opts.of);
  for (let k = g.node.length - 1; k >= 0; k--) {
    const n = g.node[k];
    if (n.output.some((o) => needed.has(o))) for (const i of n.input) if (i) needed.add(i);
  }

  const used = new Set<string>();
  for (const n of g.node) {
    used.add(n.name);
    n.output.forEach((o) => used.add(o));
  }
  g.input.forEach((v) => used.add(v.name));
  g.initializer.forEach((t) => used.add(t.name));
  const e = new GradEmitter(info, used);
  for (const n of g.node) {
    if (n.opType === 'Shape' && n.attribute.length === 0 && (!n.domain || n.domain === 'ai.onnx')) e.knowShape(n.input[0], n.output[0]);
  }

  const contributions = new Map<string, string[]>();
  const add = (value: string, grad: string) => {
    const list = contributions.get(value);
    if (list) list.push(grad);
    else contributions.set(value, [grad]);
  };
  const cotangents: ValueInfoProto[] = [];
  for (const o of opts.of) {
    const name = gradName(o);
    if (used.has(name)) throw badArgument(`the cotangent input name '${name}' is already used in the model`);
    const out = g.output.find((v) => v.name === o)!;
    const type = out.type?.tensorType;
    cotangents.push(
      type ? { name, type: structuredClone(out.type) } : makeValueInfo(name, info.elemType(o), info.shape(o)),
    );
    info.types.set(name, { elemType: info.elemType(o), shape: info.shape(o) });
    used.add(name);
    add(o, name);
  }
  /** The summed gradient of a value, or undefined if nothing flows into it. */
  const total = (value: string): string | undefined => {
    const list = contributions.get(value);
    if (!list || list.length === 0) return undefined;
    let sum = list[0];
    for (let i = 1; i < list.length; i++) sum = e.add(sum, list[i]);
    contributions.set(value, [sum]);
    return sum;
  };

  // Rules may ask a forward node for optional outputs it already computes (LayerNormalization's
  // mean and inverse standard deviation), so the walk runs over copies the caller never sees.
  const forward = cloneNodes(g.node);
  for (let k = forward.length - 1; k >= 0; k--) {
    const node = forward[k];
    if (!node.output.some((o) => needed.has(o))) continue;
    if (!node.input.some((i) => active.has(i))) continue;
    const outGrads = node.output.map((o) => (o ? total(o) : undefined));
    if (outGrads.every((x) => x === undefined)) continue;
    const rule = gradientRules[node.opType];
    if (!rule || (node.domain && node.domain !== 'ai.onnx')) {
      throw new PentimentoError(
        'UNSUPPORTED_OP',
        `no gradient rule for ${node.domain ? `${node.domain}::` : ''}${node.opType} (node '${node.name}'); ` +
          'differentiate with respect to inputs that do not pass through it, or add a rule in gradientRules.ts',
        { opType: node.opType, node: node.name },
      );
    }
    e.scope = `/grad${node.name.startsWith('/') ? '' : '/'}${node.name || node.opType}`;
    const memo = new Map<string, unknown>();
    const zeros = new Map<number, string>();
    const ctx: GradContext = {
      node,
      e,
      info,
      index: 0,
      x: (i) => node.input[i],
      y: (i = 0) => node.output[i],
      hasG: (i) => outGrads[i] !== undefined,
      g: (i = 0) => {
        const got = outGrads[i];
        if (got) return got;
        let z = zeros.get(i);
        if (!z) {
          z = e.zerosLike(node.output[i]);
          zeros.set(i, z);
        }
        return z;
      },
      consumers: (value) => (graphOutputs.has(value) ? undefined : consumers.get(value) ?? []),
      gradOf: (value) => total(value),
      memo: <T>(key: string, fn: () => T): T => {
        if (!memo.has(key)) memo.set(key, fn());
        return memo.get(key) as T;
      },
    };
    node.input.forEach((input, i) => {
      if (!input || !active.has(input)) return;
      const fn = i < rule.inputs.length ? rule.inputs[i] : rule.rest;
      if (!fn) return;
      const grad = fn({ ...ctx, index: i });
      if (grad) add(input, sameShapeAs(info, grad, input));
    });
  }

  e.scope = '/grad';
  const gradOutputs: ValueInfoProto[] = [];
  for (const w of opts.wrt) {
    const name = gradName(w);
    if (used.has(name)) throw badArgument(`the gradient output name '${name}' is already used in the model`);
    const sum = total(w) ?? e.zerosLike(w);
    e.nodes.push({ name: `/grad/${name}/Identity`, opType: 'Identity', input: [sum], output: [name], attribute: [] });
    const src = g.input.find((v) => v.name === w);
    gradOutputs.push(
      src?.type ? { name, type: structuredClone(src.type) } : makeValueInfo(name, info.elemType(w), info.shape(w)),
    );
  }

  const outputs = [...opts.of.map((o) => g.output.find((v) => v.name === o)!), ...gradOutputs];
  const derived: ModelProto = {
    ...model,
    graph: {
      ...g,
      node: [...forward, ...e.nodes],
      input: [...g.input, ...cotangents],
      output: outputs,
      valueInfo: [],
    },
  };
  return annotateShapes(simplify(derived, dir), info);
}

/**
 * A gradient has its input's shape at runtime; saying so merges whatever fresh dims the rule's
 * runtime-shaped ops (Pad, Reshape to Shape(x)) produced into the input's, so accumulation and
 * later broadcast reductions compare equal dims.
 */
function sameShapeAs(info: ShapeInfo, grad: string, input: string): string {
  const gs = info.shape(grad);
  const xs = info.shape(input);
  if (!gs || !xs || gs.length !== xs.length) return grad;
  gs.forEach((d, i) => info.dims.unify(d, xs[i]));
  info.types.set(grad, { elemType: info.elemType(grad), shape: [...xs] });
  return grad;
}

function checkNames(model: ModelProto, opts: VjpOptions): void {
  const g = model.graph;
  const inputs = g.input.map((v) => v.name);
  const weights = new Set(g.initializer.map((t) => t.name));
  const outputs = g.output.map((v) => v.name);
  if (opts.wrt.length === 0) throw badArgument(`give at least one input to differentiate with respect to (one of: ${inputs.join(', ')})`);
  if (opts.of.length === 0) throw badArgument(`give at least one output to differentiate (one of: ${outputs.join(', ')})`);
  for (const w of opts.wrt) {
    if (!inputs.includes(w) && !weights.has(w)) {
      throw badArgument(`'${w}' is not an input of the model; valid inputs: ${inputs.filter((i) => !weights.has(i)).join(', ')}`);
    }
    // Integer inputs (token ids, an int64 timestep) have no gradient: the "gradient" would be zeros.
    const elemType = g.input.find((v) => v.name === w)?.type?.tensorType?.elemType ?? g.initializer.find((t) => t.name === w)?.dataType;
    if (elemType !== undefined && elemType !== DataType.UNDEFINED && !isFloatType(elemType)) {
      throw badArgument(
        `'${w}' is ${dataTypeName(elemType)}; only floating-point inputs have gradients` +
          (/input_ids/.test(w) ? ' (to differentiate with respect to the prompt, derive a text-embeds model and use its inputs_embeds)' : ''),
      );
    }
  }
  for (const o of opts.of) {
    if (!outputs.includes(o)) throw badArgument(`'${o}' is not an output of the model; valid outputs: ${outputs.join(', ')}`);
  }
  if (new Set(opts.wrt).size !== opts.wrt.length || new Set(opts.of).size !== opts.of.length) {
    throw badArgument('each input and output may be named only once');
  }
}
