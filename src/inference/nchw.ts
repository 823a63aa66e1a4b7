/**
 * Host-side NCHW float32 tensor operations the inference modes need: bilinear resize (PyTorch
 * `F.interpolate(mode='bilinear', align_corners=False)` given an output size), horizontal flip,
 * bottom/right padding and cropping. Plain typed-array code, the same in Node and the browser.
 */
import { HostTensor } from '../engine/host-tensor.js';
import { resizeBilinear } from '../data/transforms/resample.js';
import type { DecodedImage } from '../data/image.js';

/**
 * Bilinear resize of every H×W plane to outH×outW with half-pixel centres (source coordinate
 * (dst + 0.5)·in/out − 0.5, clamped at 0; the last pixel repeats at the far edge), which is
 * PyTorch's align_corners=False rule without antialiasing. Returns `x` itself when the size is
 * unchanged (the resize would be the identity).
 */
export function resizeBilinearNCHW(x: HostTensor, outH: number, outW: number): HostTensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (!(Number.isInteger(outH) && outH >= 1 && Number.isInteger(outW) && outW >= 1)) throw new Error(`resizeBilinearNCHW: output size must be positive integers, got ${outH}×${outW}`);
  if (outH === h && outW === w) return x;
  const src = x.f32;
  const out = new Float32Array(n * c * outH * outW);
  // The data pipeline's resampler handles one H×W×1 image per call: an NCHW plane is exactly that.
  for (let p = 0; p < n * c; p++) out.set(resizeBilinear(src.subarray(p * h * w, (p + 1) * h * w), w, h, 1, outW, outH), p * outH * outW);
  return new HostTensor(out, [n, c, outH, outW]);
}

/** Mirrors every plane left–right. */
export function flipWidth(x: HostTensor): HostTensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const src = x.f32;
  const out = new Float32Array(src.length);
  for (let r = 0; r < n * c * h; r++) {
    const o = r * w;
    for (let j = 0; j < w; j++) out[o + j] = src[o + w - 1 - j]!;
  }
  return new HostTensor(out, x.shape);
}

/** Pads every plane at the bottom and right to outH×outW with `value` (as mmseg pads to a size divisor). */
export function padBottomRight(x: HostTensor, outH: number, outW: number, value: number): HostTensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (outH < h || outW < w) throw new Error(`padBottomRight: cannot pad ${h}×${w} to the smaller ${outH}×${outW}`);
  if (outH === h && outW === w) return x;
  const src = x.f32;
  const out = new Float32Array(n * c * outH * outW).fill(value);
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < h; y++) out.set(src.subarray((p * h + y) * w, (p * h + y + 1) * w), (p * outH + y) * outW);
  }
  return new HostTensor(out, [n, c, outH, outW]);
}

/** The window rows y0..y0+ch−1, columns x0..x0+cw−1 of every plane. Returns `x` for the full window. */
export function cropNCHW(x: HostTensor, y0: number, x0: number, ch: number, cw: number): HostTensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (y0 < 0 || x0 < 0 || ch < 1 || cw < 1 || y0 + ch > h || x0 + cw > w) throw new Error(`cropNCHW: window at (${y0}, ${x0}) of size ${ch}×${cw} is outside ${h}×${w}`);
  if (y0 === 0 && x0 === 0 && ch === h && cw === w) return x;
  const src = x.f32;
  const out = new Float32Array(n * c * ch * cw);
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < ch; y++) {
      const s = (p * h + y0 + y) * w + x0;
      out.set(src.subarray(s, s + cw), (p * ch + y) * cw);
    }
  }
  return new HostTensor(out, [n, c, ch, cw]);
}

/**
 * HWC uint8 → 1×3×H×W float32, channel c as data·scale[c] − shift[c] (grey expanded, alpha
 * dropped): the model's normalised input, or the guided filter's colours in [0, 1].
 */
export function planarRgb(img: DecodedImage, scale: readonly number[], shift: readonly number[]): HostTensor {
  const { width: w, height: h, channels: c, data } = img;
  const plane = w * h;
  const x = new Float32Array(3 * plane);
  for (let ch = 0; ch < 3; ch++) {
    const [a, b] = [scale[ch]!, shift[ch]!];
    const src = c === 1 ? 0 : ch;
    for (let p = 0; p < plane; p++) x[ch * plane + p] = data[p * c + src]! * a - b;
  }
  return new HostTensor(x, [1, 3, h, w]);
}
