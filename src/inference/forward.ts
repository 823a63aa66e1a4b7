/**
 * The model-independent contract of every inference mode: a `forward` function on host tensors.
 * Whatever runs the model (a compiled ONNX session, a traced module, a remote worker) is wrapped
 * into one of these, so sliding windows, padding and test-time augmentation are written once.
 */
import { HostTensor } from '../engine/host-tensor.js';

/**
 * A model's forward pass: an N×C×h×w float32 batch (normalised as the model expects) in, N×K×h'×w'
 * float32 logits out. h' and w' may differ from h and w (a decoder at stride 4); inference modes
 * resize the logits back.
 */
export type ForwardFn = (batch: HostTensor) => Promise<HostTensor>;

/** Checks an N×C×H×W float32 image batch and returns its dimensions. */
export function imageDims(x: HostTensor, where: string): [n: number, c: number, h: number, w: number] {
  if (!(x instanceof HostTensor) || x.dtype !== 'float32' || x.shape.length !== 4 || x.shape.some((d) => d < 1)) {
    const what = x instanceof HostTensor ? `${x.dtype} tensor of shape [${x.shape.join(', ')}]` : String(x);
    throw new Error(`${where}: expected an N×C×H×W float32 HostTensor with non-zero sizes, got ${what}`);
  }
  return x.shape as [number, number, number, number];
}

/** Runs `forward` and checks that it returned N×K×h'×w' float32 logits for the N images it was given. */
export async function runForward(forward: ForwardFn, batch: HostTensor, where: string): Promise<HostTensor> {
  const out = await forward(batch);
  const n = batch.shape[0]!;
  if (!(out instanceof HostTensor) || out.dtype !== 'float32' || out.shape.length !== 4 || out.shape[0] !== n || out.shape.some((d) => d < 1)) {
    const what = out instanceof HostTensor ? `${out.dtype} tensor of shape [${out.shape.join(', ')}]` : String(out);
    throw new Error(`${where}: forward was given ${n} image(s) of shape [${batch.shape.join(', ')}] and must return ${n}×K×h×w float32 logits, got ${what}`);
  }
  return out;
}

/** Checks that a model constraint or option is a positive integer. */
export function positiveInt(v: number, name: string, where: string): number {
  if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${where}: ${name} must be a positive integer, got ${v}`);
  return v;
}
