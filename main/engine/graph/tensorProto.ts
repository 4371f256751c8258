import { DataType, type TensorProto } from './onnx';

export type NumericArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint16Array | Uint8Array | Int8Array;

function dataTypeOf(a: NumericArray): DataType {
  if (a instanceof Float32Array) return DataType.FLOAT;
  if (a instanceof Float64Array) return DataType.DOUBLE;
  if (a instanceof Int32Array) return DataType.INT32;
  if (a instanceof BigInt64Array) return DataType.INT64;
  if (a instanceof Uint16Array) return DataType.FLOAT16;
  if (a instanceof Int8Array) return DataType.INT8;
  return DataType.UINT8;
}

/** A TensorProto holding `data` as raw little-endian bytes (Uint16Array means fp16 unless `dataType` says otherwise). */
export function makeTensor(name: string, data: NumericArray, dims: readonly number[], dataType?: DataType): TensorProto {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { name, dims: [...dims], dataType: dataType ?? dataTypeOf(data), rawData: raw };
}

export function int64Tensor(name: string, values: readonly number[], dims: readonly number[] = [values.length]): TensorProto {
  return makeTensor(name, BigInt64Array.from(values.map((v) => BigInt(v))), dims);
}

export function floatTensor(name: string, values: readonly number[] | Float32Array, dims: readonly number[] = [values.length]): TensorProto {
  return makeTensor(name, values instanceof Float32Array ? values : Float32Array.from(values), dims);
}
