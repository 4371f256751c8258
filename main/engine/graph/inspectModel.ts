/** A summary of an ONNX model: its interface, opset, op counts, parameter count and weight files. */
import { externalRef, isExternal, type LoadedModel } from './ModelIO';
import { dataTypeName, elementCount, opsetVersion, valueElemType, valueShape } from './onnx';

export interface ValueSummary {
  name: string;
  dtype: string;
  shape: (number | string)[] | undefined;
}

export interface ModelSummary {
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  opset: number;
  nodeCount: number;
  /** op type → count, most frequent first. */
  ops: [string, number][];
  /** Scalars held in initializers. */
  parameters: number;
  externalDataFiles: string[];
}

export function inspectModel(loaded: LoadedModel): ModelSummary {
  const g = loaded.model.graph;
  const weights = new Set(g.initializer.map((t) => t.name));
  const summary = (v: (typeof g.input)[number]): ValueSummary => ({ name: v.name, dtype: dataTypeName(valueElemType(v)), shape: valueShape(v) });
  const counts = new Map<string, number>();
  for (const n of g.node) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${n.opType}` : n.opType;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return {
    inputs: g.input.filter((v) => !weights.has(v.name)).map(summary),
    outputs: g.output.map(summary),
    opset: opsetVersion(loaded.model),
    nodeCount: g.node.length,
    ops: [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    parameters: g.initializer.reduce((s, t) => s + elementCount(t.dims.map(Number)), 0),
    externalDataFiles: [...new Set(g.initializer.filter(isExternal).map((t) => externalRef(t).location))],
  };
}
