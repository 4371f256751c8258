/**
 * Makes a plain UNet ControlNet-ready: inputs `down_block_{i}_additional_residual` (i = 0..11)
 * and `mid_block_additional_residual` are added where diffusers adds a ControlNet's outputs — to
 * the 12 skip tensors (conv_in, every down-block resnet/attention output, every downsampler) at
 * the point the up blocks concatenate them, and to the mid-block output. The skips are found as
 * the up blocks' channel Concats (skip = second operand; the k-th concat takes skip 11 − k); the
 * mid-block output is the first one's first operand. All-zero residuals give the source's output.
 */
import { PentimentoError } from '../errors';
import { GraphIndex, cloneNodes } from './GraphIndex';
import { makeValueInfo, valueShape, type ModelProto, type NodeProto, type ValueInfoProto } from './onnx';
import { attrInt } from './nodeAttrs';
import { inferShapes } from './shapeInference';

export const downResidualName = (i: number) => `down_block_${i}_additional_residual`;
export const MID_RESIDUAL = 'mid_block_additional_residual';

export interface ControlResidual {
  input: string;
  /** The source value it is added to. */
  target: string;
  channels: number;
}

export function addControlResiduals(model: ModelProto, opts: { sample?: string; dir?: string } = {}): { model: ModelProto; residuals: ControlResidual[] } {
  const sampleName = opts.sample ?? 'sample';
  const graph = { ...model.graph, node: cloneNodes(model.graph.node), input: [...model.graph.input] };
  const sample = graph.input.find((v) => v.name === sampleName);
  if (!sample) throw new PentimentoError('BAD_MODEL', `the model has no input '${sampleName}'; its inputs are: ${graph.input.map((v) => v.name).join(', ')}`);
  const taken = graph.input.find((v) => v.name === MID_RESIDUAL || v.name === downResidualName(0));
  if (taken) throw new PentimentoError('BAD_MODEL', `the model already has an input '${taken.name}': it is ControlNet-ready`);
  const info = inferShapes(model, opts.dir);
  const index = new GraphIndex(graph);
  const fromSample = index.descendants(sampleName);

  const skipConcats = graph.node.filter((n) => {
    if (n.opType !== 'Concat' || n.input.length !== 2 || info.rank(n.output[0]) !== 4) return false;
    const axis = attrInt(n, 'axis', 0);
    return (axis === 1 || axis === -3) && n.input.every((i) => fromSample.has(i));
  });
  if (skipConcats.length === 0) throw new PentimentoError('BAD_MODEL', 'no skip connections (channel Concats in up blocks) found: is this a UNet?');

  const batch = valueShape(sample)?.[0] ?? 'batch';
  const elemType = sample.type?.tensorType?.elemType ?? 1;
  const residualInput = (name: string, value: string): ValueInfoProto => {
    const c = info.shape(value)?.[1];
    return makeValueInfo(name, elemType, [batch, typeof c === 'number' ? c : `${name}_channels`, `${name}_height`, `${name}_width`]);
  };

  const residuals: ControlResidual[] = [];
  const newInputs: ValueInfoProto[] = [];
  const n = skipConcats.length;
  skipConcats.forEach((concat, k) => {
    const i = n - 1 - k;
    const name = downResidualName(i);
    const skip = concat.input[1];
    const sum: NodeProto = { name: `/control/${name}/Add`, opType: 'Add', input: [skip, name], output: [`/control/${name}/Add_output_0`], attribute: [] };
    graph.node.splice(graph.node.indexOf(concat), 0, sum);
    concat.input[1] = sum.output[0];
    residuals[i] = { input: name, target: skip, channels: Number(info.shape(skip)?.[1]) };
    newInputs[i] = residualInput(name, skip);
  });

  const mid = skipConcats[0].input[0];
  const midSum: NodeProto = { name: `/control/${MID_RESIDUAL}/Add`, opType: 'Add', input: [mid, MID_RESIDUAL], output: [`/control/${MID_RESIDUAL}/Add_output_0`], attribute: [] };
  index.replaceUses(mid, midSum.output[0]);
  const producer = index.producer.get(mid);
  graph.node.splice(producer ? graph.node.indexOf(producer) + 1 : 0, 0, midSum);
  residuals.push({ input: MID_RESIDUAL, target: mid, channels: Number(info.shape(mid)?.[1]) });
  newInputs.push(residualInput(MID_RESIDUAL, mid));

  return { model: { ...model, graph: { ...graph, input: [...graph.input, ...newInputs], valueInfo: [] } }, residuals };
}
