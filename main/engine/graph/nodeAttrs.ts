/** Typed reads of NodeProto attributes, with the defaults the ONNX spec gives. */
import type { AttributeProto, NodeProto, TensorProto } from './onnx';

const decoder = new TextDecoder();

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return find(node, name) !== undefined;
}

export function attrInt(node: NodeProto, name: string, fallback: number): number;
export function attrInt(node: NodeProto, name: string): number | undefined;
export function attrInt(node: NodeProto, name: string, fallback?: number): number | undefined {
  const a = find(node, name);
  return a?.i !== undefined && a.i !== null ? Number(a.i) : fallback;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = find(node, name);
  return a?.f !== undefined && a.f !== null ? Number(a.f) : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a ? (a.ints ?? []).map(Number) : undefined;
}

export function attrFloats(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a ? (a.floats ?? []).map(Number) : undefined;
}

export function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = find(node, name);
  return a?.s ? decoder.decode(a.s) : fallback;
}

export function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  return find(node, name)?.t;
}

/** Input `i` of a node, or undefined when it is absent or given as the empty name (optional inputs). */
export function optionalInput(node: NodeProto, i: number): string | undefined {
  const name = node.input[i];
  return name ? name : undefined;
}
