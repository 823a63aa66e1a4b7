/**
 * Element types the engine knows, with their ONNX TensorProto codes and host storage.
 * float16 is stored as raw IEEE half bits in a Uint16Array (what onnxruntime expects).
 */
export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool';

export type TypedArrayOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float16'
    ? Uint16Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : D extends 'uint8'
          ? Uint8Array
          : D extends 'int8'
            ? Int8Array
            : D extends 'bool'
              ? Uint8Array
              : never;

export type AnyTypedArray = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;

interface DTypeInfo {
  /** ONNX TensorProto.DataType value. */
  onnx: number;
  bytes: number;
  /** Name onnxruntime-common uses for this type. */
  ort: string;
  create(n: number): AnyTypedArray;
}

export const DTYPES: Record<DType, DTypeInfo> = {
  float32: { onnx: 1, bytes: 4, ort: 'float32', create: (n) => new Float32Array(n) },
  uint8: { onnx: 2, bytes: 1, ort: 'uint8', create: (n) => new Uint8Array(n) },
  int8: { onnx: 3, bytes: 1, ort: 'int8', create: (n) => new Int8Array(n) },
  int32: { onnx: 6, bytes: 4, ort: 'int32', create: (n) => new Int32Array(n) },
  int64: { onnx: 7, bytes: 8, ort: 'int64', create: (n) => new BigInt64Array(n) },
  bool: { onnx: 9, bytes: 1, ort: 'bool', create: (n) => new Uint8Array(n) },
  float16: { onnx: 10, bytes: 2, ort: 'float16', create: (n) => new Uint16Array(n) },
};

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float16';

export function dtypeFromOrt(type: string): DType {
  for (const [k, v] of Object.entries(DTYPES)) if (v.ort === type) return k as DType;
  throw new Error(`unsupported onnxruntime tensor type '${type}'; segkit handles ${Object.keys(DTYPES).join(', ')}`);
}
