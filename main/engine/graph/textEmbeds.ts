/**
 * Turns a CLIP text encoder into one that takes token embeddings: `inputs_embeds` [B, S, H]
 * replaces the token-embedding lookup (position embeddings are still added inside), and the state
 * before the final LayerNorm is also returned as `last_hidden_state_pre_norm` — what NeTI's
 * textual bypass edits before normalising. `input_ids` stays an input only where the graph still
 * reads its values (the pooled output's ArgMax); its shape is read from inputs_embeds instead.
 */
import { PentimentoError } from '../errors';
import { makeAttribute } from './GraphBuilder';
import { GraphIndex, cloneNodes } from './GraphIndex';
import { makeValueInfo, opsetVersion, valueShape, type ModelProto, type NodeProto } from './onnx';
import { attrInt } from './nodeAttrs';
import { inferShapes } from './shapeInference';
import { pruneUnused } from './vjp';

export const INPUTS_EMBEDS = 'inputs_embeds';
export const PRE_NORM_OUTPUT = 'last_hidden_state_pre_norm';

export interface TextEmbedsResult {
  model: ModelProto;
  /** The token-embedding matrix [vocab, hidden] (an initializer of the model). */
  tokenEmbedding: string;
  /** Whether the derived model still needs input_ids (for the pooled output). */
  needsInputIds: boolean;
}

export function textEmbeds(model: ModelProto, opts: { idsInput?: string; output?: string; dir?: string } = {}): TextEmbedsResult {
  const idsName = opts.idsInput ?? 'input_ids';
  const outputName = opts.output ?? 'last_hidden_state';
  const live = pruneUnused(model).graph;
  const graph = { ...live, node: cloneNodes(live.node), output: [...live.output] };
  const ids = graph.input.find((v) => v.name === idsName);
  if (!ids) throw new PentimentoError('BAD_MODEL', `the model has no input '${idsName}'; its inputs are: ${graph.input.map((v) => v.name).join(', ')}`);
  if (!graph.output.some((o) => o.name === outputName)) {
    throw new PentimentoError('BAD_MODEL', `the model has no output '${outputName}'; its outputs are: ${graph.output.map((o) => o.name).join(', ')}`);
  }
  const info = inferShapes(model, opts.dir);
  const index = new GraphIndex(graph);
  const fromIds = index.descendants(idsName);

  // 1. The token lookup: a Gather of a constant matrix at indices computed from the ids.
  const lookups = graph.node.filter(
    (n) => n.opType === 'Gather' && index.initializers.has(n.input[0]) && fromIds.has(n.input[1]) && attrInt(n, 'axis', 0) === 0 && info.rank(n.input[0]) === 2,
  );
  const lookup = lookups.find((n) => /token_embedding/.test(n.name)) ?? lookups[0];
  if (!lookup) throw new PentimentoError('BAD_MODEL', `no token-embedding lookup of '${idsName}' found: is this a CLIP text encoder?`);
  const table = info.shape(lookup.input[0])!;
  const idsShape = valueShape(ids) ?? ['batch', 'sequence'];
  const embeds = makeValueInfo(INPUTS_EMBEDS, info.elemType(lookup.input[0]), [...idsShape, table[1]]);
  index.replaceUses(lookup.output[0], INPUTS_EMBEDS);
  graph.node.splice(graph.node.indexOf(lookup), 1);

  // 2. Shape(input_ids) → the first two dims of inputs_embeds.
  const opset = opsetVersion(model);
  for (const n of [...(index.consumers.get(idsName) ?? [])]) {
    if (n.opType !== 'Shape') continue;
    const norm = (v: number) => Math.min(Math.max(v < 0 ? v + 2 : v, 0), 2);
    const start = norm(attrInt(n, 'start', 0));
    const end = norm(attrInt(n, 'end', 2));
    if (opset >= 15) {
      n.input = [INPUTS_EMBEDS];
      n.attribute = [makeAttribute('start', start), makeAttribute('end', end)];
    } else {
      const full = `${n.output[0]}/full`;
      const bounds = [`${n.name}/starts`, `${n.name}/ends`];
      const at = graph.node.indexOf(n);
      const consts: NodeProto[] = bounds.map((name, k) => ({
        name,
        opType: 'Constant',
        input: [],
        output: [`${name}_output_0`],
        attribute: [makeAttribute('value', { name: '', dims: [1], dataType: 7, int64Data: [k === 0 ? start : end] })],
      }));
      const slice: NodeProto = { name: `${n.name}/Slice`, opType: 'Slice', input: [full, ...consts.map((c) => c.output[0])], output: n.output, attribute: [] };
      n.input = [INPUTS_EMBEDS];
      n.output = [full];
      n.attribute = [];
      graph.node.splice(at + 1, 0, ...consts, slice);
    }
  }

  // 3. The state entering the final LayerNorm.
  const preNorm = preNormValue(new GraphIndex(graph), outputName);
  graph.node.push({ name: `/${PRE_NORM_OUTPUT}/Identity`, opType: 'Identity', input: [preNorm], output: [PRE_NORM_OUTPUT], attribute: [] });
  const out = graph.output.find((o) => o.name === outputName)!;
  graph.output.push({ ...structuredClone(out), name: PRE_NORM_OUTPUT });

  const needsInputIds = graph.node.some((n) => n.input.includes(idsName));
  const inputs = graph.input.flatMap((v) => (v.name === idsName ? (needsInputIds ? [embeds, v] : [embeds]) : [v]));
  return {
    model: pruneUnused({ ...model, graph: { ...graph, input: inputs, valueInfo: [] } }), tokenEmbedding: lookup.input[0], needsInputIds };
}

/**
 * The input of the LayerNorm producing `output`: a LayerNormalization node's X, or, for the
 * ReduceMean decomposition (opset < 17), the x of the last `x − ReduceMean(x)` before it.
 */
function preNormValue(index: GraphIndex, output: string): string {
  let node = index.producer.get(output);
  while (node && node.opType === 'Identity') node = index.producer.get(node.input[0]);
  if (!node) throw new PentimentoError('BAD_MODEL', `'${output}' is not computed by any node`);
  if (node.opType === 'LayerNormalization') return node.input[0];
  const nodes = index.graph.node;
  for (let k = index.order.get(node)!; k >= 0; k--) {
    const r = nodes[k];
    if (r.opType !== 'ReduceMean') continue;
    const x = r.input[0];
    if ((index.consumers.get(x) ?? []).some((c) => c.opType === 'Sub' && c.input[0] === x && c.input[1] === r.output[0])) return x;
  }
  throw new PentimentoError('BAD_MODEL', `cannot find the final LayerNorm that produces '${output}'`);
}
