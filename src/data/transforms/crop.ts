/**
 * `RandomCrop` with mmseg semantics: a uniformly placed crop of `cropSize` ([height, width]; smaller
 * images are cropped to their own size — pad afterwards). With `catMaxRatio` < 1, up to 10 retries
 * look for a crop in which no single class (ignore excluded) covers `catMaxRatio` or more of the
 * labelled pixels and at least two classes appear; after 10 failures the 11th draw is used as is.
 */
import type { Sample } from '../sample.js';
import type { Rng } from '../rng.js';
import { CROP_PLAN, type LabelView, type Transform } from './types.js';

export interface RandomCropOptions {
  /** [height, width] (mmseg order) or a single side. */
  cropSize: number | readonly [number, number];
  /** Default 1 (no constraint). mmseg configs use 0.75. */
  catMaxRatio?: number;
  /** Label value excluded from the class-ratio count. Default 255. */
  ignoreIndex?: number;
}

/** Crops [y1, y2) × [x1, x2) of a sample. */
export function cropSample(s: Sample, y1: number, y2: number, x1: number, x2: number): Sample {
  if (y1 === 0 && x1 === 0 && y2 === s.height && x2 === s.width) return { ...s, meta: { ...s.meta, cropBbox: [y1, y2, x1, x2] } };
  const w = x2 - x1;
  const h = y2 - y1;
  const c = s.channels;
  const image = s.image instanceof Float32Array ? new Float32Array(w * h * c) : new Uint8Array(w * h * c);
  const label = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const srow = (y1 + y) * s.width + x1;
    image.set(s.image.subarray(srow * c, (srow + w) * c), y * w * c);
    label.set(s.label.subarray(srow, srow + w), y * w);
  }
  return { image, label, width: w, height: h, channels: c, meta: { ...s.meta, cropBbox: [y1, y2, x1, x2] } };
}

export type CropBbox = [y1: number, y2: number, x1: number, x2: number];

export function randomCrop(opts: RandomCropOptions): Transform {
  const [ch, cw] = typeof opts.cropSize === 'number' ? [opts.cropSize, opts.cropSize] : opts.cropSize;
  if (!(Number.isInteger(ch) && ch > 0 && Number.isInteger(cw) && cw > 0)) {
    throw new Error(`RandomCrop: cropSize must be positive integers [height, width], got ${JSON.stringify(opts.cropSize)}`);
  }
  const catMaxRatio = opts.catMaxRatio ?? 1;
  const ignore = opts.ignoreIndex ?? 255;
  const hist = new Float64Array(256);
  /** The crop box for a label map of w×h (uses only the label, so it can run before the image exists). */
  const choose = (view: LabelView, rng: Rng): CropBbox => {
    const { data, srcWidth, width: w, height: h, xi, yi } = view;
    const gen = (): CropBbox => {
      const mh = Math.max(h - ch, 0);
      const mw = Math.max(w - cw, 0);
      const oy = rng.int(0, mh + 1);
      const ox = rng.int(0, mw + 1);
      return [oy, Math.min(oy + ch, h), ox, Math.min(ox + cw, w)];
    };
    let bbox = gen();
    if (catMaxRatio < 1) {
      for (let attempt = 0; attempt < 10; attempt++) {
        hist.fill(0);
        const [y1, y2, x1, x2] = bbox;
        for (let y = y1; y < y2; y++) {
          const r = (yi ? yi[y]! : y) * srcWidth;
          if (xi) for (let x = x1; x < x2; x++) hist[data[r + xi[x]!]!]++;
          else for (let x = x1; x < x2; x++) hist[data[r + x]!]++;
        }
        hist[ignore] = 0;
        let classes = 0;
        let max = 0;
        let sum = 0;
        for (let v = 0; v < 256; v++) {
          const n = hist[v]!;
          if (n > 0) {
            classes++;
            sum += n;
            if (n > max) max = n;
          }
        }
        if (classes > 1 && max / sum < catMaxRatio) break;
        bbox = gen();
      }
    }
    return bbox;
  };
  const t: Transform = function RandomCrop(s, rng) {
    return cropSample(s, ...choose({ data: s.label, srcWidth: s.width, width: s.width, height: s.height, xi: null, yi: null }, rng));
  };
  return Object.assign(t, { [CROP_PLAN]: choose });
}
