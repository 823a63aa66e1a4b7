/**
 * Runs an exported .onnx file on images with the same pre- and post-processing as the Segmenter,
 * driven by the file's own metadata ({@link ExportContract}), so an export can be checked against
 * segkit and evaluated exactly as it will be used:
 *
 * - an image is resized (bilinear) to the contract's fixed size if it has one; otherwise an image
 *   that fits the input is left as it is, and a larger one is shrunk to fit keeping its aspect;
 * - normalised with the model's mean/std (float input) or kept as uint8 RGB (--uint8 input), and
 *   padded at the bottom and right to the input size (normalised value 0, the mean colour);
 * - the output is cropped to the image's part; scores (logits, probs) are resized back to the
 *   image size bilinearly and then turned into labels (argmax; K = 1: p > 0.5), labels are resized
 *   back nearest-neighbour — the Segmenter resizes logits, so a 'labels' head differs from it only
 *   at class boundaries when the image is not at the input size;
 * - with the contract's `refine` (unless turned off), P(last class) is refined by the colour guided
 *   filter with the image as guide and thresholded at 0.5, by the Segmenter's own graph code
 *   (refinedLabels), one small graph per image size on the same runtime.
 *
 * A static batch larger than 1 is filled with copies of the image (the first result is used).
 */
import type { DecodedImage } from '../data/image.js';
import { resizeBilinear } from '../data/transforms/resample.js';
import { compile } from '../engine/compile.js';
import { HostTensor } from '../engine/host-tensor.js';
import type { Runtime, Session } from '../engine/runtime/runtime.js';
import type { Tensor } from '../engine/tensor.js';
import { GraphCache } from '../inference/graph-cache.js';
import { guideImage, refinedLabels } from '../inference/guided-filter.js';
import { cropNCHW, padBottomRight, planarRgb, resizeBilinearNCHW } from '../inference/nchw.js';
import { labelsFromScores } from '../inference/scores.js';
import { contractFromMetadata, inputHW, type ExportContract } from './contract.js';
import { readOnnx } from './onnx-read.js';

/** The image as 3-channel RGB (grey expanded, alpha dropped), as the Segmenter reads it. */
function rgbOf(img: DecodedImage): Uint8Array {
  const { width: w, height: h, channels: c, data } = img;
  if (!(w > 0 && h > 0)) throw new Error(`ExportedSegmenter.segment: image is ${w}×${h}; expected a non-empty image`);
  if (![1, 3, 4].includes(c) || data.length !== w * h * c) throw new Error(`ExportedSegmenter.segment: expected ${w}×${h} pixels with 1, 3 or 4 channels (${w * h * c} values), got ${data.length} values and ${c} channels`);
  if (c === 3) return data;
  const out = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) for (let ch = 0; ch < 3; ch++) out[p * 3 + ch] = data[p * c + (c === 1 ? 0 : ch)]!;
  return out;
}

/** Nearest-neighbour resize of an H×W label map (PyTorch's legacy 'nearest': source index floor(dst·in/out)). */
export function resizeLabelsNearest(labels: Uint8Array, h: number, w: number, oh: number, ow: number): Uint8Array {
  if (h === oh && w === ow) return labels;
  const out = new Uint8Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(h - 1, Math.floor((y * h) / oh));
    for (let x = 0; x < ow; x++) out[y * ow + x] = labels[sy * w + Math.min(w - 1, Math.floor((x * w) / ow))]!;
  }
  return out;
}

/** The batch fed at each run: the static batch, or 1 for a symbolic one. */
const batchOf = (c: ExportContract): number => (typeof c.input.shape[0] === 'number' ? c.input.shape[0] : 1);

/** The size an h×w image's content takes inside the input: [height, width]. */
export function contentSize(c: ExportContract, h: number, w: number): [number, number] {
  if (c.resizeTo) return c.resizeTo;
  const [ih, iw] = inputHW(c);
  if (h <= ih && w <= iw) return [h, w];
  const s = Math.min(ih / h, iw / w);
  return [Math.max(1, Math.min(ih, Math.round(h * s))), Math.max(1, Math.min(iw, Math.round(w * s)))];
}

/** The model input for one image (a static batch filled with copies) and the content size inside it. */
export function prepareInput(c: ExportContract, img: DecodedImage): { input: HostTensor; content: [number, number] } {
  const [ih, iw] = inputHW(c);
  const { width: w, height: h } = img;
  const rgb = rgbOf(img);
  const [th, tw] = contentSize(c, h, w);
  const n = batchOf(c);
  if (c.input.dtype === 'uint8') {
    const resized = th === h && tw === w ? rgb : resizeBilinear(rgb, w, h, 3, tw, th);
    const out = new Uint8Array(n * ih * iw * 3);
    // Padding: the mean colour in 0..255, the closest a uint8 input gets to the float path's 0.
    const pad = c.mean.map((m) => Math.round(m * 255));
    for (let p = 0; p < ih * iw; p++) for (let ch = 0; ch < 3; ch++) out[p * 3 + ch] = pad[ch]!;
    for (let y = 0; y < th; y++) out.set(resized.subarray(y * tw * 3, (y + 1) * tw * 3), y * iw * 3);
    for (let b = 1; b < n; b++) out.copyWithin(b * ih * iw * 3, 0, ih * iw * 3);
    return { input: new HostTensor(out, [n, ih, iw, 3], 'uint8'), content: [th, tw] };
  }
  // Float input: the Segmenter's arithmetic (normalise, then resize, then pad with 0).
  const x = planarRgb({ data: rgb, width: w, height: h, channels: 3 }, c.std.map((s) => 1 / (255 * s)), c.mean.map((m, ch) => m / c.std[ch]!));
  let t = resizeBilinearNCHW(x, th, tw);
  t = padBottomRight(t, ih, iw, 0);
  if (n > 1) {
    const d = new Float32Array(n * t.size);
    for (let b = 0; b < n; b++) d.set(t.f32, b * t.size);
    t = new HostTensor(d, [n, 3, ih, iw]);
  }
  return { input: t, content: [th, tw] };
}

export interface ExportedSegmentation {
  labels: Uint8Array;
  width: number;
  height: number;
}

/** Image sizes whose guided-filter graphs an ExportedSegmenter keeps. */
const MAX_REFINERS = 4;

export class ExportedSegmenter {
  /** The guided-filter graphs by "content→image" size (see refined). */
  private readonly refiners = new GraphCache(MAX_REFINERS);

  private constructor(
    readonly contract: ExportContract,
    private readonly session: Session,
    private readonly runtime: Runtime,
    private readonly threads: number | undefined,
    /** Whether segment() applies the contract's guided filter. */
    readonly refines: boolean,
  ) {}

  /**
   * A session on ONNX bytes written by `segkit export` (the contract comes from their metadata).
   * `refine: false` leaves out the guided filter the file asks for (its `refine` metadata).
   */
  static async create(bytes: Uint8Array, runtime: Runtime, o: { threads?: number; source?: string; refine?: boolean } = {}): Promise<ExportedSegmenter> {
    const contract = contractFromMetadata(readOnnx(bytes).metadata, o.source);
    return new ExportedSegmenter(contract, await runtime.createSession(bytes, { threads: o.threads }), runtime, o.threads, contract.refine !== null && o.refine !== false);
  }

  /** The model input for one image (batch filled with copies) and the content size inside it. */
  toInput(img: DecodedImage): { input: HostTensor; content: [number, number] } {
    return prepareInput(this.contract, img);
  }

  /** Runs the graph on a prepared input; returns its raw output. */
  async run(input: HostTensor): Promise<HostTensor> {
    const out = await this.session.run({ [this.contract.input.name]: input });
    return out[this.contract.output.name]!;
  }

  /** Labels at the image's size, as the Segmenter computes them. */
  async segment(img: DecodedImage): Promise<ExportedSegmentation> {
    const { input, content } = this.toInput(img);
    const out = await this.run(input);
    const labels = this.refines ? await this.refined(out, content, img) : this.labelsFrom(out, content, img.height, img.width);
    return { labels, width: img.width, height: img.height };
  }

  /** Post-processing without refinement: crop the content, resize back, labels. */
  labelsFrom(out: HostTensor, [th, tw]: [number, number], h: number, w: number): Uint8Array {
    if (this.contract.head === 'labels') {
      const [, iw] = inputHW(this.contract);
      const src = out.data;
      const crop = new Uint8Array(th * tw);
      for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) crop[y * tw + x] = Number(src[y * iw + x]!);
      return resizeLabelsNearest(crop, th, tw, h, w);
    }
    const scores = resizeBilinearNCHW(this.content(out, th, tw), h, w);
    const labels = labelsFromScores(scores, this.contract.head === 'probs' ? 'probabilities' : 'logits');
    return labels instanceof Uint8Array ? labels : Uint8Array.from(labels);
  }

  /** The first batch item's scores, cropped to the content: 1×K×th×tw. */
  private content(out: HostTensor, th: number, tw: number): HostTensor {
    const [ih, iw] = inputHW(this.contract);
    const first = new HostTensor(out.f32.subarray(0, out.shape[1]! * ih * iw), [1, out.shape[1]!, ih, iw]);
    return cropNCHW(first, 0, 0, th, tw);
  }

  /** Labels from the scores refined by the contract's guided filter, the image as guide. */
  private async refined(out: HostTensor, [th, tw]: [number, number], img: DecodedImage): Promise<Uint8Array> {
    const { refine, head } = this.contract;
    const f = await this.refiners.get(`${th}x${tw}→${img.height}x${img.width}`, () =>
      compile((s: Tensor, guide: Tensor) => refinedLabels(guide, s, head === 'probs' ? 'probabilities' : 'logits', refine!).labels, { runtime: this.runtime, threads: this.threads, spin: false }),
    );
    const labels = (await f.run(this.content(out, th, tw), guideImage(img))) as HostTensor;
    return labels.data as Uint8Array;
  }

  async dispose(): Promise<void> {
    await this.session.release();
    await this.refiners.dispose();
  }
}
