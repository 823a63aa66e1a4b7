/**
 * Edge refinement of a person probability with the image as guide: the colour guided filter of
 * He, Sun and Tang (2010), in its fast form (He and Sun 2015), as graph code. Video-call apps
 * refine their low-resolution masks this way (Google Meet uses a joint bilateral filter): the
 * model's probability at its own small size is explained, in every window, as an affine function
 * of the image's colours, q = aᵀI + b, and those coefficients, smooth by construction, are
 * upsampled and applied to the full-resolution image. The edge then follows the photo's colour
 * edges instead of the model's coarse grid.
 *
 * - a = (Σ + εU)⁻¹ cov(I, p), b = mean(p) − aᵀ mean(I), over each (2r+1)² window (clipped at the
 *   borders), then averaged over the same windows (He's `mean_a`, `mean_b`);
 * - the coefficients come from the guide and p at the scores' size, then are bilinearly resized to
 *   the image's size and applied there.
 */
import type { DecodedImage } from '../data/image.js';
import type { HostTensor } from '../engine/host-tensor.js';
import { cat, type Tensor } from '../engine/tensor.js';
import { planarRgb } from './nchw.js';
import type { ScoresKind } from './scores.js';

export interface GuidedFilterOptions {
  /** Window radius in pixels of the model's output grid (default 8). */
  radius?: number;
  /** Regularisation ε, on colours in [0, 1] (default 1e-3): larger flattens more. */
  eps?: number;
}

/** Checks the options, with errors naming the value; returns them with the defaults filled in. */
export function guidedFilterSettings(o: GuidedFilterOptions, where: string): Required<GuidedFilterOptions> {
  const radius = o.radius ?? 8;
  const eps = o.eps ?? 1e-3;
  if (!(Number.isInteger(radius) && radius >= 1)) throw new Error(`${where}: guided filter radius must be a positive integer (pixels), got ${radius}`);
  if (!(eps > 0 && Number.isFinite(eps))) throw new Error(`${where}: guided filter eps must be a positive number, got ${eps}`);
  return { radius, eps };
}

/** Mean over the (2r+1)² window around each pixel, clipped at the borders: two 1-D average pools. */
function boxMean(x: Tensor, r: number): Tensor {
  const k = 2 * r + 1;
  return x
    .avgPool2d({ kernel: [1, k], stride: 1, padding: [0, r], countIncludePad: false })
    .avgPool2d({ kernel: [k, 1], stride: 1, padding: [r, 0], countIncludePad: false });
}

const ch = (t: Tensor, i: number) => t.slice(1, i, i + 1);

/**
 * The refined probability at the guide's full size. `guide`: 1×3×H×W colours in [0, 1]; `p`:
 * 1×1×h×w probability at the model's output size (any h×w). Returns 1×1×H×W, clipped to [0, 1].
 */
export function guidedRefine(guide: Tensor, p: Tensor, o: GuidedFilterOptions = {}): Tensor {
  const { radius: r, eps } = guidedFilterSettings(o, 'guidedRefine');
  const [, , h, w] = p.shape as [number, number, number, number];
  const [, , H, W] = guide.shape as [number, number, number, number];
  const I = guide.resize({ size: [h, w], mode: 'bilinear', alignCorners: false });
  const [ig, ib] = [1, 2].map((i) => ch(I, i)) as [Tensor, Tensor];
  // Every window mean in one pooled tensor: I (3), p, I·p (3), the six products of I (rr rg rb,
  // gg gb, bb). Six inputs at most: onnxruntime-web's WebGPU Concat binds each as a storage
  // buffer, and adapters may allow only 8 per shader stage.
  const stats = boxMean(cat([I, p, I.mul(p), I.mul(ch(I, 0)), I.slice(1, 1, 3).mul(ig), ib.mul(ib)], 1), r);
  const [mr, mg, mb, mp] = [0, 1, 2, 3].map((i) => ch(stats, i)) as [Tensor, Tensor, Tensor, Tensor];
  const cov = [4, 5, 6].map((i, c) => ch(stats, i).sub([mr, mg, mb][c]!.mul(mp))) as [Tensor, Tensor, Tensor];
  const v = (i: number, x: Tensor, y: Tensor) => ch(stats, i).sub(x.mul(y));
  const [srr, srg, srb, sgg, sgb, sbb] = [v(7, mr, mr).add(eps), v(8, mr, mg), v(9, mr, mb), v(10, mg, mg).add(eps), v(11, mg, mb), v(12, mb, mb).add(eps)];
  // (Σ + εU)⁻¹ by cofactors (symmetric 3×3); det > 0 since ε > 0.
  const c00 = sgg.mul(sbb).sub(sgb.mul(sgb));
  const c01 = sgb.mul(srb).sub(srg.mul(sbb));
  const c02 = srg.mul(sgb).sub(sgg.mul(srb));
  const c11 = srr.mul(sbb).sub(srb.mul(srb));
  const c12 = srb.mul(srg).sub(srr.mul(sgb));
  const c22 = srr.mul(sgg).sub(srg.mul(srg));
  const det = srr.mul(c00).add(srg.mul(c01)).add(srb.mul(c02));
  const [cr, cg, cb] = cov;
  const ar = c00.mul(cr).add(c01.mul(cg)).add(c02.mul(cb)).div(det);
  const ag = c01.mul(cr).add(c11.mul(cg)).add(c12.mul(cb)).div(det);
  const ab = c02.mul(cr).add(c12.mul(cg)).add(c22.mul(cb)).div(det);
  const bias = mp.sub(ar.mul(mr)).sub(ag.mul(mg)).sub(ab.mul(mb));
  const coef = boxMean(cat([ar, ag, ab, bias], 1), r).resize({ size: [H, W], mode: 'bilinear', alignCorners: false });
  const q = coef.slice(1, 0, 3).mul(guide).sum(1, true).add(ch(coef, 3));
  return q.clip(0, 1);
}

/** The guide: the image's colours in [0, 1], 1×3×H×W (grey expanded, alpha dropped). */
export const guideImage = (img: DecodedImage): HostTensor => planarRgb(img, [1 / 255, 1 / 255, 1 / 255], [0, 0, 0]);

/**
 * Two-class labels at the guide's size from scores `s` at the model's size (1×K×h×w, K ≤ 2): P(last
 * class) (the probability channel, the sigmoid of one logit, or the softmax's last channel) refined
 * by {@link guidedRefine}, then `labels` = 1 where it exceeds `threshold` (1×H×W → H×W uint8) and `q`
 * the refined probability (1×1×H×W). Graph code: the Segmenter and the ExportedSegmenter both run it.
 */
export function refinedLabels(guide: Tensor, s: Tensor, kind: ScoresKind, o: GuidedFilterOptions, threshold = 0.5): { labels: Tensor; q: Tensor } {
  const p = kind === 'probabilities' ? s.slice(1, -1) : s.shape[1] === 1 ? s.sigmoid() : s.softmax(1).slice(1, -1);
  const q = guidedRefine(guide, p, o);
  return { labels: q.gt(threshold).squeeze(1).cast('uint8'), q };
}
