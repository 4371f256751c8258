/**
 * ONNX protobuf messages, decoded and encoded by protobufjs from the schema in onnxSchema.ts.
 * int64 fields decode as JS numbers (exact below 2^53, which covers every dim, offset and
 * attribute a diffusion model uses).
 */
import protobuf from 'protobufjs';
import { onnxSchema } from './onnxSchema';

// Decode int64 as number, not Long: must run before the first Type is used.
protobuf.util.Long = null as unknown as typeof protobuf.util.Long;
protobuf.configure();

const root = protobuf.Root.fromJSON(onnxSchema as unknown as protobuf.INamespace);
const ModelProtoType = root.lookupType('onnx.ModelProto');
const TensorProtoType = root.lookupType('onnx.TensorProto');

export enum DataType {
  UNDEFINED = 0,
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  STRING = 8,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  UINT32 = 12,
  UINT64 = 13,
  BFLOAT16 = 16,
}

export enum AttributeType {
  UNDEFINED = 0,
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  GRAPH = 5,
  FLOATS = 6,
  INTS = 7,
  STRINGS = 8,
  TENSORS = 9,
  GRAPHS = 10,
}

export interface StringStringEntryProto {
  key: string;
  value: string;
}

export interface TensorProto {
  dims: number[];
  dataType: number;
  name: string;
  docString?: string;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  uint64Data?: number[];
  stringData?: Uint8Array[];
  externalData?: StringStringEntryProto[];
  /** 1 = EXTERNAL */
  dataLocation?: number;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  refAttrName?: string;
  docString?: string;
}

export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain?: string;
  attribute: AttributeProto[];
  docString?: string;
}

export interface DimensionProto {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

export interface TypeProto {
  tensorType?: { elemType: number; shape?: { dim: DimensionProto[] } };
  denotation?: string;
}

export interface ValueInfoProto {
  name: string;
  type?: TypeProto;
  docString?: string;
}

export interface GraphProto {
  node: NodeProto[];
  name: string;
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
  docString?: string;
}

export interface OperatorSetIdProto {
  domain: string;
  version: number;
}

export interface ModelProto {
  irVersion: number;
  opsetImport: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph: GraphProto;
  metadataProps?: StringStringEntryProto[];
  functions?: unknown[];
}

/** Fills in the repeated fields protobufjs leaves undefined, so callers can push without checks. */
function normalizeGraph(g: GraphProto): GraphProto {
  g.node ??= [];
  g.initializer ??= [];
  g.input ??= [];
  g.output ??= [];
  g.valueInfo ??= [];
  for (const n of g.node) {
    n.input ??= [];
    n.output ??= [];
    n.attribute ??= [];
    n.name ??= '';
    for (const a of n.attribute) if (a.g) normalizeGraph(a.g);
  }
  for (const t of g.initializer) t.dims ??= [];
  return g;
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  const m = ModelProtoType.decode(bytes) as unknown as ModelProto;
  m.opsetImport ??= [];
  if (!m.graph) m.graph = { node: [], name: '', initializer: [], input: [], output: [], valueInfo: [] };
  normalizeGraph(m.graph);
  return m;
}

export function encodeModel(model: ModelProto): Uint8Array {
  return ModelProtoType.encode(model as unknown as protobuf.Message).finish();
}

export function encodeTensor(t: TensorProto): Uint8Array {
  return TensorProtoType.encode(t as unknown as protobuf.Message).finish();
}

/** Bytes per element of the numeric types we carry in raw_data. */
export function bytesPerElement(dataType: number): number {
  switch (dataType) {
    case DataType.FLOAT:
    case DataType.INT32:
    case DataType.UINT32:
      return 4;
    case DataType.DOUBLE:
    case DataType.INT64:
    case DataType.UINT64:
      return 8;
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
    case DataType.INT16:
    case DataType.UINT16:
      return 2;
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.BOOL:
      return 1;
    default:
      throw new Error(`unsupported tensor data type ${dataType}`);
  }
}

export function dataTypeName(dataType: number): string {
  return DataType[dataType]?.toLowerCase() ?? `type${dataType}`;
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function opsetVersion(model: ModelProto, domain = ''): number {
  const entry = model.opsetImport.find((o) => (o.domain ?? '') === domain || (domain === '' && o.domain === 'ai.onnx'));
  return entry ? Number(entry.version) : 0;
}

/** Shape of a graph input/output as numbers (static) or strings (symbolic); undefined if unknown. */
export function valueShape(v: ValueInfoProto): (number | string)[] | undefined {
  const dims = v.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map(dimOf);
}

/**
 * One dim as a number or a symbol. Decoded messages carry protobufjs defaults on their prototype
 * (dimValue reads 0 on a symbolic dim), so only an own dimValue counts.
 */
export function dimOf(d: DimensionProto): number | string {
  if (d.dimParam) return d.dimParam;
  return Object.prototype.hasOwnProperty.call(d, 'dimValue') && d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : '?';
}

export function valueElemType(v: ValueInfoProto): number {
  return v.type?.tensorType?.elemType ?? DataType.UNDEFINED;
}

export function makeValueInfo(name: string, elemType: number, shape?: readonly (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        ...(shape
          ? { shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } }
          : {}),
      },
    },
  };
}
