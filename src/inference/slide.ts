/**
 * Sliding-window inference exactly as mmseg's `slide_inference`: a grid of crop-size windows with
 * the given stride, the last row/column shifted inward to end at the border, logits of overlapping
 * windows averaged with a hit-count map.
 */
import { HostTensor } from '../engine/host-tensor.js';
import { imageDims, positiveInt, runForward, type ForwardFn } from './forward.js';
import { resizeBilinearNCHW } from './nchw.js';

/** One window: rows y1..y2−1, columns x1..x2−1 of the image. */
export interface SlideWindow {
  y1: number;
  y2: number;
  x1: number;
  x2: number;
}

/** Options of {@link slideInference}. */
export interface SlideOptions {
  /** The model's constraint: crop height and width must be multiples of it. */
  inputMultiple: number;
  /** Window size [height, width] (mmseg `crop_size`). */
  crop: readonly [number, number];
  /** Window step [height, width] (mmseg `stride`). */
  stride: readonly [number, number];
  /** Windows per forward call (default 1). A batch holds windows of all N images. */
  batchSize?: number;
  /** Value that fills a window where the image is smaller than the crop (default 0). */
  padValue?: number;
}

/**
 * mmseg's window grid for an h×w image: `n = max(size − crop + stride − 1, 0) // stride + 1` windows
 * per axis; window i starts at i·stride, ends at min(start + crop, size), and starts again at
 * max(end − crop, 0), so the last windows are shifted inward rather than padded. Row-major order.
 */
export function slideWindows(h: number, w: number, crop: readonly [number, number], stride: readonly [number, number]): SlideWindow[] {
  const [ch, cw] = crop;
  const [sh, sw] = stride;
  for (const [v, name] of [[h, 'height'], [w, 'width'], [ch, 'crop height'], [cw, 'crop width'], [sh, 'stride height'], [sw, 'stride width']] as const) {
    positiveInt(v, name, 'slideWindows');
  }
  const nh = Math.floor(Math.max(h - ch + sh - 1, 0) / sh) + 1;
  const nw = Math.floor(Math.max(w - cw + sw - 1, 0) / sw) + 1;
  const out: SlideWindow[] = [];
  for (let i = 0; i < nh; i++) {
    for (let j = 0; j < nw; j++) {
      const y2 = Math.min(i * sh + ch, h);
      const x2 = Math.min(j * sw + cw, w);
      out.push({ y1: Math.max(y2 - ch, 0), y2, x1: Math.max(x2 - cw, 0), x2 });
    }
  }
  return out;
}

/** How many windows cover each pixel (h×w, row-major). */
export function slideCounts(h: number, w: number, windows: readonly SlideWindow[]): Uint32Array {
  const count = new Uint32Array(h * w);
  for (const { y1, y2, x1, x2 } of windows) for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) count[y * w + x]!++;
  return count;
}

/**
 * Sliding-window inference on an N×C×H×W batch: returns N×K×H×W logits, the average over the
 * windows covering each pixel. Each window is padded at the bottom/right to the crop size when the
 * image is smaller than the crop, its logits are resized (bilinear, align_corners False) to the crop
 * size and the padding is cut off before accumulation.
 */
export async function slideInference(x: HostTensor, forward: ForwardFn, o: SlideOptions): Promise<HostTensor> {
  const [n, c, h, w] = imageDims(x, 'slideInference');
  const m = positiveInt(o.inputMultiple, 'inputMultiple', 'slideInference');
  const windows = slideWindows(h, w, o.crop, o.stride);
  const [ch, cw] = o.crop;
  if (ch % m !== 0 || cw % m !== 0) throw new Error(`slideInference: crop ${ch}×${cw} must be a multiple of the model's inputMultiple ${m}`);
  const batchSize = positiveInt(o.batchSize ?? 1, 'batchSize', 'slideInference');
  const padValue = o.padValue ?? 0;
  if (!Number.isFinite(padValue)) throw new Error(`slideInference: padValue must be a finite number, got ${padValue}`);
  const count = slideCounts(h, w, windows);
  if (count.includes(0)) throw new Error(`slideInference: crop ${ch}×${cw} with stride ${o.stride[0]}×${o.stride[1]} leaves pixels of the ${h}×${w} image uncovered (use a stride no larger than the crop)`);

  const src = x.f32;
  const items: { img: number; win: SlideWindow }[] = [];
  for (const win of windows) for (let img = 0; img < n; img++) items.push({ img, win });
  let k = 0;
  let acc: Float32Array | undefined;
  for (let start = 0; start < items.length; start += batchSize) {
    const chunk = items.slice(start, start + batchSize);
    const batch = new Float32Array(chunk.length * c * ch * cw).fill(padValue);
    chunk.forEach(({ img, win }, b) => {
      for (let ci = 0; ci < c; ci++) {
        for (let y = win.y1; y < win.y2; y++) {
          const s = ((img * c + ci) * h + y) * w;
          batch.set(src.subarray(s + win.x1, s + win.x2), ((b * c + ci) * ch + (y - win.y1)) * cw);
        }
      }
    });
    const out = await runForward(forward, new HostTensor(batch, [chunk.length, c, ch, cw]), 'slideInference');
    const [, ko, ho, wo] = out.shape as [number, number, number, number];
    if (!acc) {
      k = ko;
      acc = new Float32Array(n * k * h * w);
    } else if (ko !== k) throw new Error(`slideInference: forward returned ${ko} classes for one batch of windows and ${k} for an earlier one`);
    const logits = out.f32;
    chunk.forEach(({ img, win }, b) => {
      const one = new HostTensor(logits.subarray(b * k * ho * wo, (b + 1) * k * ho * wo), [1, k, ho, wo]);
      const up = resizeBilinearNCHW(one, ch, cw).f32;
      const wh = win.y2 - win.y1;
      const ww = win.x2 - win.x1;
      for (let kc = 0; kc < k; kc++) {
        for (let y = 0; y < wh; y++) {
          const o = ((img * k + kc) * h + win.y1 + y) * w + win.x1;
          const s = (kc * ch + y) * cw;
          for (let xx = 0; xx < ww; xx++) acc![o + xx]! += up[s + xx]!;
        }
      }
    });
  }
  const hw = h * w;
  for (let p = 0; p < n * k; p++) for (let i = 0; i < hw; i++) acc![p * hw + i]! /= count[i]!;
  return new HostTensor(acc!, [n, k, h, w]);
}
