/**
 * Who produces and who consumes each value of a graph, and what derives from what: the questions
 * the surgery passes ask when they locate layers by structure rather than by name.
 */
import type { GraphProto, NodeProto } from './onnx';

export class GraphIndex {
  readonly producer = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly order = new Map<NodeProto, number>();
  readonly initializers: Set<string>;

  constructor(readonly graph: GraphProto) {
    this.initializers = new Set(graph.initializer.map((t) => t.name));
    graph.node.forEach((n, k) => {
      this.order.set(n, k);
      for (const o of n.output) if (o) this.producer.set(o, n);
      for (const i of n.input) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
    });
  }

  /** Every value computed (transitively) from `root`, root included. */
  descendants(root: string): Set<string> {
    const out = new Set([root]);
    for (const n of this.graph.node) {
      if (n.input.some((i) => out.has(i))) for (const o of n.output) if (o) out.add(o);
    }
    return out;
  }

  /** True when `value` depends on no graph input (initializers and constants only). */
  isConstant(value: string, seen = new Set<string>()): boolean {
    if (this.initializers.has(value)) return true;
    if (seen.has(value)) return true;
    seen.add(value);
    const p = this.producer.get(value);
    if (!p) return false;
    return p.input.every((i) => !i || this.isConstant(i, seen));
  }

  /** Points every node input that reads `from` at `to`, except inside `except`. */
  replaceUses(from: string, to: string, except: ReadonlySet<NodeProto> = new Set()): void {
    for (const n of this.consumers.get(from) ?? []) {
      if (except.has(n)) continue;
      n.input = n.input.map((i) => (i === from ? to : i));
    }
  }
}

/** A deep copy of a graph's node list (names and attributes shared) that passes may rewire freely. */
export function cloneNodes(nodes: NodeProto[]): NodeProto[] {
  return nodes.map((n) => ({ ...n, input: [...n.input], output: [...n.output] }));
}
