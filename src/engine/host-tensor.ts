import { DTYPES, type AnyTypedArray, type DType } from './dtype.js';
import { fmt, numel, type Shape } from './shape.js';

/**
 * A concrete tensor in host memory: a typed array plus its shape and element type.
 * It is what goes into and comes out of a compiled graph; the data array is used as is (no copies).
 */
export class HostTensor {
  readonly shape: number[];
  constructor(
    readonly data: AnyTypedArray,
    shape: Shape,
    readonly dtype: DType = 'float32',
  ) {
    this.shape = [...shape];
    const n = numel(shape);
    if (data.length !== n) {
      throw new Error(`HostTensor: data has ${data.length} elements but shape ${fmt(shape)} needs ${n}`);
    }
  }

  get size(): number {
    return this.data.length;
  }

  static zeros(shape: Shape, dtype: DType = 'float32'): HostTensor {
    return new HostTensor(DTYPES[dtype].create(numel(shape)), shape, dtype);
  }

  static fromArray(values: ArrayLike<number>, shape: Shape): HostTensor {
    return new HostTensor(Float32Array.from(values), shape, 'float32');
  }

  /** The data as float32 (throws for other dtypes, so misuse is loud). */
  get f32(): Float32Array {
    if (!(this.data instanceof Float32Array)) throw new Error(`HostTensor: expected float32 data, got ${this.dtype}`);
    return this.data;
  }
}
