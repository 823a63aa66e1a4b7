/**
 * The export checked against segkit itself: labels from the exported file (onnxruntime, the file's
 * own pre/post-processing) against the Segmenter's on the same images.
 *
 * The Segmenter pads an image to the model's input multiple while a fixed-shape file pads it to its
 * input size, so for checkpoints without a fixed validation size (and for uint8 inputs, whose
 * resize happens on bytes rather than on normalised floats) the images are first brought to the
 * file's content size: both sides then see identical pixels and any difference is the graph's.
 */
import type { DecodedImage } from '../data/image.js';
import { resizeBilinear } from '../data/transforms/resample.js';
import type { Segmenter } from '../segmenter/segmenter.js';
import { inputHW, type ExportContract } from './contract.js';
import { labelAgreement } from './evaluate-exports.js';
import type { ExportedSegmenter } from './exported-segmenter.js';
import type { WeightFormat } from './options.js';

/** Least pixel agreement with the Segmenter a check accepts, by weight format (int8 is reported, not required). */
export const REQUIRED_AGREEMENT: Record<WeightFormat, number | null> = { float32: 0.999, float16: 0.995, 'int8-dynamic': null, 'int8-static': null };

/** The image as the check feeds it to both sides (see the file comment). */
export function checkImage(c: ExportContract, img: DecodedImage): DecodedImage {
  if (c.resizeTo && c.input.dtype === 'float32') return img;
  const [h, w] = c.resizeTo ?? inputHW(c);
  if (img.height === h && img.width === w) return img;
  if (img.channels !== 3) throw new Error(`checkImage: expected an RGB image, got ${img.channels} channels`);
  return { data: resizeBilinear(img.data, img.width, img.height, 3, w, h), width: w, height: h, channels: 3 };
}

export interface AgreementResult {
  perImage: number[];
  /** Over all pixels of all images. */
  overall: number;
  required: number | null;
  ok: boolean;
}

export async function agreementWithSegmenter(exported: ExportedSegmenter, segmenter: Segmenter, images: Iterable<DecodedImage> | AsyncIterable<DecodedImage>): Promise<AgreementResult> {
  const perImage: number[] = [];
  let same = 0;
  let total = 0;
  for await (const raw of images) {
    const img = checkImage(exported.contract, raw);
    const [a, b] = [await exported.segment(img), await segmenter.segment(img)];
    const agree = labelAgreement(a.labels, b.labels);
    perImage.push(agree);
    same += agree * a.labels.length;
    total += a.labels.length;
  }
  const overall = total ? same / total : NaN;
  const required = REQUIRED_AGREEMENT[exported.contract.weights];
  return { perImage, overall, required, ok: required === null || overall >= required };
}

/**
 * Stand-in images when no dataset is at hand: blocks of saturated colours with a gentle texture,
 * so even an untrained model's labels vary over the image (a uniform image would agree trivially).
 */
export function syntheticImages(count: number, height: number, width: number): DecodedImage[] {
  const colours = [[230, 30, 30], [30, 200, 40], [20, 40, 220], [240, 240, 240], [10, 10, 10], [240, 220, 20]];
  return Array.from({ length: count }, (_, k) => {
    const d = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const c = colours[(Math.floor((x * 3) / width) + 3 * Math.floor((y * 2) / height) + k) % colours.length]!;
        for (let ch = 0; ch < 3; ch++) d[(y * width + x) * 3 + ch] = Math.max(0, Math.min(255, c[ch]! + ((x * 7 + y * 13 + ch * 5 + k * 11) % 23) - 11));
      }
    }
    return { data: d, width, height, channels: 3 };
  });
}
