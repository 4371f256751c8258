/**
 * The model the inversion optimisers run: the UNet with the per-step reconstruction loss
 * appended, differentiated w.r.t. the text conditioning.
 *
 * A DDIM step (η = 0) is linear in the guided noise prediction, and the guided prediction is
 * linear in the branch being tuned, so the step's error against the target latent is
 *
 *   z_prev − z*_{t−1} = s·ε(z̄_t, t, c) − r,       L = ‖s·ε − r‖² / n
 *
 * with the scalar s and the residual r computed outside (see guidedLoss). Putting the square
 * and the sum inside the graph lets one VJP run return the loss, the prediction ε (for the
 * next latent) and ∂L/∂c together: with the UNet's plain VJP the cotangent 2s(s·ε − r)/n would
 * need ε first — a forward run before every VJP run.
 *
 * Inputs: the UNet's three, plus `guided_loss_scale` [1], `guided_loss_residual` (like the
 * sample) and `guided_loss_sum_grad` (scalar; 1/n turns the sum into the mean).
 * Outputs: `guided_loss_sum`, `<context>_grad`, and the UNet's output.
 */
import { PentimentoError } from '../errors';
import { makeAttribute } from '../graph/GraphBuilder';
import { gradName, vjp } from '../graph/vjp';
import { DataType, makeValueInfo, valueElemType, valueShape, type ModelProto, type NodeProto } from '../graph/onnx';

export const LOSS_SCALE = 'guided_loss_scale';
export const LOSS_RESIDUAL = 'guided_loss_residual';
export const LOSS_SUM = 'guided_loss_sum';
export const LOSS_SUM_GRAD = gradName(LOSS_SUM);

export interface UNetIoNames {
  sample: string;
  context: string;
  output: string;
}

export function guidedLossVjp(unet: ModelProto, io: UNetIoNames, dir?: string): ModelProto {
  const g = unet.graph;
  const out = g.output.find((o) => o.name === io.output);
  const sample = g.input.find((i) => i.name === io.sample);
  if (!out || !sample || !g.input.some((i) => i.name === io.context)) {
    throw new PentimentoError(
      'BAD_MODEL',
      `The UNet graph lacks ${io.sample}, ${io.context} or ${io.output}; its inputs are ${g.input.map((i) => i.name).join(', ')}.`,
    );
  }
  const taken = [LOSS_SCALE, LOSS_RESIDUAL, LOSS_SUM].find((n) => g.input.some((i) => i.name === n) || g.node.some((x) => x.output.includes(n)));
  if (taken) throw new PentimentoError('BAD_MODEL', `The UNet graph already has a value named ${taken}; it cannot take the inversion loss.`);

  const node = (opType: string, input: string[], output: string, attribute: NodeProto['attribute'] = []): NodeProto => ({
    name: `/inversion_loss/${output}`,
    opType,
    input,
    output: [output],
    attribute,
  });
  const nodes: NodeProto[] = [];
  let eps = io.output;
  // fp16 UNets: the loss is summed in float32 (an fp16 sum of n squares loses the small ones).
  if (valueElemType(out) !== DataType.FLOAT) {
    nodes.push(node('Cast', [eps], 'inversion_eps_f32', [makeAttribute('to', DataType.FLOAT)]));
    eps = 'inversion_eps_f32';
  }
  nodes.push(
    node('Mul', [eps, LOSS_SCALE], 'inversion_scaled'),
    node('Sub', ['inversion_scaled', LOSS_RESIDUAL], 'inversion_error'),
    node('Mul', ['inversion_error', 'inversion_error'], 'inversion_squares'),
    node('ReduceSum', ['inversion_squares'], LOSS_SUM, [makeAttribute('keepdims', 0)]),
  );
  const withLoss: ModelProto = {
    ...unet,
    graph: {
      ...g,
      node: [...g.node, ...nodes],
      input: [...g.input, makeValueInfo(LOSS_SCALE, DataType.FLOAT, [1]), makeValueInfo(LOSS_RESIDUAL, DataType.FLOAT, valueShape(sample))],
      output: [makeValueInfo(LOSS_SUM, DataType.FLOAT, [])],
    },
  };
  const derived = vjp(withLoss, { wrt: [io.context], of: [LOSS_SUM] }, dir);
  // The prediction is computed on the way anyway; returning it saves a forward run per step.
  derived.graph.output.push(structuredClone(out));
  return derived;
}
