/**
 * Calibration for static int8: runs the float32 model on sample inputs with the tensors to
 * quantize exposed as extra graph outputs and records each one's minimum and maximum over all
 * samples (min/max calibration: no value of the calibration set is clipped; a percentile rule
 * would clip rare outliers for a finer step, but needs more samples to be stable than a CPU
 * export wants to run).
 */
import type { HostTensor } from '../engine/host-tensor.js';
import type { Runtime } from '../engine/runtime/runtime.js';
import { encodeOnnx } from './onnx-encode.js';
import { ONNX_TYPE, type OnnxModel } from './onnx-model.js';
import type { Range } from './int8-activations.js';

function update(ranges: Map<string, Range>, name: string, t: HostTensor): void {
  const d = t.data as Float32Array;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`calibration: tensor '${name}' holds non-finite values; the model cannot be quantized from this data`);
  const r = ranges.get(name);
  if (!r) ranges.set(name, { min: lo, max: hi });
  else {
    r.min = Math.min(r.min, lo);
    r.max = Math.max(r.max, hi);
  }
}

/**
 * Min/max of each named float tensor over the given inputs (each a feed for the model's single
 * input). The model is not modified.
 */
export async function calibrateRanges(m: OnnxModel, tensors: readonly string[], inputs: AsyncIterable<HostTensor> | Iterable<HostTensor>, runtime: Runtime, threads?: number): Promise<Map<string, Range>> {
  const inputName = m.graph.inputs[0]!.name;
  const exposed = tensors.filter((t) => t !== inputName && !m.graph.outputs.some((o) => o.name === t));
  const probe: OnnxModel = { ...m, graph: { ...m.graph, outputs: [...m.graph.outputs, ...exposed.map((name) => ({ name, elemType: ONNX_TYPE.FLOAT, dims: null }))] } };
  const session = await runtime.createSession(encodeOnnx(probe), { threads });
  const ranges = new Map<string, Range>();
  let count = 0;
  try {
    for await (const x of inputs) {
      const out = await session.run({ [inputName]: x });
      for (const t of tensors) update(ranges, t, t === inputName ? x : out[t]!);
      count++;
    }
  } finally {
    await session.release();
  }
  if (count === 0) throw new Error('calibration: no calibration images');
  return ranges;
}
