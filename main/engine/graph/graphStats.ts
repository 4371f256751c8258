/**
 * Node counts of a graph, total and per op type: the size a derived model costs onnxruntime to
 * open (session creation grows with the node count, and the runtime-shape ops Shape, Size and
 * NonZero keep its optimiser from folding anything downstream of them).
 */
import type { ModelProto } from './onnx';

export interface GraphStats {
  nodes: number;
  initializers: number;
  /** op type (with `domain::` when not the default domain) → count, most frequent first. */
  ops: Record<string, number>;
}

export function graphStats(model: ModelProto): GraphStats {
  const counts = new Map<string, number>();
  for (const n of model.graph.node) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${n.opType}` : n.opType;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const ops = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return { nodes: model.graph.node.length, initializers: model.graph.initializer.length, ops };
}
