/**
 * `CLAHE` (albumentations): contrast-limited adaptive histogram equalisation of the L channel of
 * L*a*b*, OpenCV's algorithm (tile grid, clip limit relative to the tile area, excess redistributed,
 * bilinear interpolation between tile LUTs). Clip limit drawn from U(clipLimit) (default [1, 4]).
 */
import { labToRgb, rgbToLab } from './color.js';
import { range2, requireU8, type Transform } from './types.js';

export interface ClaheOptions {
  clipLimit?: number | readonly [number, number];
  tileGridSize?: readonly [number, number];
}

/** OpenCV CLAHE on one uint8 channel. `tiles` = [tilesX, tilesY]. */
export function claheChannel(src: Uint8Array, w: number, h: number, clipLimit: number, tiles: readonly [number, number]): Uint8Array {
  const [tx, ty] = tiles;
  const tw = Math.ceil(w / tx);
  const th = Math.ceil(h / ty);
  const area = tw * th;
  const clip = clipLimit > 0 ? Math.max(Math.floor((clipLimit * area) / 256), 1) : 0;
  const luts = new Uint8Array(tx * ty * 256);
  const hist = new Int32Array(256);
  const reflect = (i: number, n: number): number => (i < n ? i : Math.max(0, 2 * n - 2 - i));
  for (let j = 0; j < ty; j++) {
    for (let i = 0; i < tx; i++) {
      hist.fill(0);
      for (let y = j * th; y < (j + 1) * th; y++) {
        const row = reflect(y, h) * w;
        for (let x = i * tw; x < (i + 1) * tw; x++) hist[src[row + reflect(x, w)]!]++;
      }
      if (clip > 0) {
        let excess = 0;
        for (let v = 0; v < 256; v++) {
          if (hist[v]! > clip) {
            excess += hist[v]! - clip;
            hist[v] = clip;
          }
        }
        const batch = Math.floor(excess / 256);
        let residual = excess - batch * 256;
        for (let v = 0; v < 256; v++) hist[v]! += batch;
        if (residual > 0) {
          const step = Math.max(Math.floor(256 / residual), 1);
          for (let v = 0; v < 256 && residual > 0; v += step, residual--) hist[v]!++;
        }
      }
      const scale = 255 / area;
      let sum = 0;
      const base = (j * tx + i) * 256;
      for (let v = 0; v < 256; v++) {
        sum += hist[v]!;
        luts[base + v] = Math.min(255, Math.round(sum * scale));
      }
    }
  }
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const tyf = y / th - 0.5;
    let ty1 = Math.floor(tyf);
    const ya = tyf - ty1;
    let ty2 = ty1 + 1;
    ty1 = Math.max(ty1, 0);
    ty2 = Math.min(ty2, ty - 1);
    for (let x = 0; x < w; x++) {
      const txf = x / tw - 0.5;
      let tx1 = Math.floor(txf);
      const xa = txf - tx1;
      let tx2 = tx1 + 1;
      tx1 = Math.max(tx1, 0);
      tx2 = Math.min(tx2, tx - 1);
      const v = src[y * w + x]!;
      const l11 = luts[(ty1 * tx + tx1) * 256 + v]!;
      const l12 = luts[(ty1 * tx + tx2) * 256 + v]!;
      const l21 = luts[(ty2 * tx + tx1) * 256 + v]!;
      const l22 = luts[(ty2 * tx + tx2) * 256 + v]!;
      const r = (l11 * (1 - xa) + l12 * xa) * (1 - ya) + (l21 * (1 - xa) + l22 * xa) * ya;
      out[y * w + x] = Math.min(255, Math.round(r));
    }
  }
  return out;
}

export function clahe(opts: ClaheOptions = {}): Transform {
  const cl = typeof opts.clipLimit === 'number' ? ([1, opts.clipLimit] as const) : (opts.clipLimit ?? ([1, 4] as const));
  const [lo, hi] = range2(cl, 'CLAHE.clipLimit');
  const tiles = opts.tileGridSize ?? [8, 8];
  if (!(tiles[0] >= 1 && tiles[1] >= 1)) throw new Error(`CLAHE: tileGridSize must be ≥ 1, got ${JSON.stringify(tiles)}`);
  return function CLAHE(s, rng) {
    const src = requireU8(s, 'CLAHE');
    const clip = rng.uniform(lo, hi);
    const lab = rgbToLab(src);
    const L = claheChannel(lab.L, s.width, s.height, clip, tiles);
    return { ...s, image: labToRgb(L, lab.a, lab.b) };
  };
}
