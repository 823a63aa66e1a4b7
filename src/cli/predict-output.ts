/**
 * What `segkit predict` makes of one segmented image or video frame: label and colour maps, an
 * overlay, the JSON summary, and for person models the matte and the background effects.
 */
import type { DecodedImage } from '../data/image.js';
import type { RGB } from '../data/labels/types.js';
import { blend, colorizeLabel } from '../data/visualize.js';
import { alphaMatte, blurBackground, fitBackground, replaceBackground } from '../segmenter/effects.js';
import type { Segmentation } from '../segmenter/segmenter.js';

/** Opacity of the colour map in overlays. */
export const OVERLAY_OPACITY = 0.5;

/** A background for `--background`: a colour, or an image fitted to each frame's size. */
export type Background = { color: RGB } | { image: DecodedImage };

/** Parses `#rrggbb`; undefined when `spec` is not a colour (then it names an image file). */
export function parseHexColor(spec: string): RGB | undefined {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(spec);
  return m ? [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)] : undefined;
}

/** The colour rendering of a segmentation with its palette (predictions hold no ignore value; 255 is drawn black). */
export function colorMap(seg: Segmentation): DecodedImage {
  return colorizeLabel(seg.labels, seg.width, seg.height, { palette: seg.palette, ignoreIndex: 255, ignoreColor: [0, 0, 0] });
}

/** The colour map blended over the image. */
export function overlay(img: DecodedImage, seg: Segmentation): DecodedImage {
  return blend(img, colorMap(seg), OVERLAY_OPACITY);
}

/**
 * The label map as runs in row-major order: `[value, length]` pairs whose lengths add up to
 * width × height (a run may cross row ends).
 */
export function runLengths(labels: Uint8Array): [number, number][] {
  const runs: [number, number][] = [];
  for (let i = 0; i < labels.length; ) {
    const v = labels[i]!;
    let j = i + 1;
    while (j < labels.length && labels[j] === v) j++;
    runs.push([v, j - i]);
    i = j;
  }
  return runs;
}

/** The `--format json` document of one image: size, classes, pixel counts per class, run-length label map. */
export function predictionJson(image: string, seg: Segmentation): string {
  const counts = new Array<number>(seg.classes.length).fill(0);
  for (const v of seg.labels) counts[v]!++;
  return `${JSON.stringify({ image, width: seg.width, height: seg.height, classes: seg.classes, counts, rle: runLengths(seg.labels) })}\n`;
}

/**
 * Where a person model's person probability lives in `Segmentation.probabilities`: plane 0 for a
 * binary model (its one plane is P(class 1)), else the plane of the class named 'person';
 * undefined for other models.
 */
export function personPlane(numClasses: number, classes: readonly string[]): number | undefined {
  if (numClasses === 1) return 0;
  const k = classes.indexOf('person');
  return k >= 0 ? k : undefined;
}

/** The person matte (0..1) of a segmentation made with `probabilities: true`. */
export function personMatte(seg: Segmentation, plane: number): Float32Array {
  const n = seg.width * seg.height;
  if (!seg.probabilities) throw new Error('personMatte: the segmenter was not asked for probabilities');
  return alphaMatte(seg.probabilities.subarray(plane * n, (plane + 1) * n), seg.width, seg.height);
}

/** Default `--blur-radius`: 2% of the longer side (about 26 px for 1280×720), at least 1. */
export const defaultBlurRadius = (w: number, h: number): number => Math.max(1, Math.round(0.02 * Math.max(w, h)));

/** Applies the background effects, keeping the last fitted background image for frames of the same size. */
export class Effects {
  private fitted: DecodedImage | undefined;

  constructor(
    private readonly background: Background | undefined,
    private readonly blurRadius: number | undefined,
  ) {}

  blur(img: DecodedImage, alpha: Float32Array): DecodedImage {
    return blurBackground(img, alpha, this.blurRadius ?? defaultBlurRadius(img.width, img.height));
  }

  replace(img: DecodedImage, alpha: Float32Array): DecodedImage {
    if (!this.background) throw new Error('Effects.replace: no background was given');
    if ('color' in this.background) return replaceBackground(img, alpha, this.background.color);
    if (this.fitted?.width !== img.width || this.fitted.height !== img.height) this.fitted = fitBackground(this.background.image, img.width, img.height);
    return replaceBackground(img, alpha, this.fitted);
  }
}
