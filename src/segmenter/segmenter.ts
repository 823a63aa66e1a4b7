/**
 * The one-object inference API, as transformers.js pipelines and tfjs body-segmentation expose it:
 *
 * ```ts
 * const segmenter = await createSegmenter('path/to/checkpoint.safetensors'); // or a shipped name
 * const { labels, width, height, classes } = await segmenter.segment('street.jpg');
 * segmenter.dispose();
 * ```
 *
 * Platform-neutral: the runtime (onnxruntime-node or -web) and the image codec are injected; the
 * Node and browser entry points (`createSegmenter`) choose them. Weights are baked into the session
 * as constants, so onnxruntime folds BatchNorm and pre-packs convolutions.
 */
import type { DecodedImage, ImageCodec, ImageSource } from '../data/image.js';
import { generatePalette, type RGB } from '../data/labels/types.js';
import { compile, type CompiledFunction } from '../engine/compile.js';
import { HostTensor } from '../engine/host-tensor.js';
import type { Runtime } from '../engine/runtime/runtime.js';
import { cat, type Tensor } from '../engine/tensor.js';
import { GraphCache } from '../inference/graph-cache.js';
import { guidedFilterSettings, guideImage, refinedLabels, type GuidedFilterOptions } from '../inference/guided-filter.js';
import { planarRgb, resizeBilinearNCHW } from '../inference/nchw.js';
import { runInference, type SlideMode, type WholeMode } from '../inference/run.js';
import { probabilities as toProbabilities, type ScoresKind } from '../inference/scores.js';
import { crfMeanField, type CrfOptions } from '../losses/crf.js';
import type { SegmentationModel } from '../models/segmentation-model.js';
import { compileModule } from '../nn/compile.js';
import type { Checkpoint } from '../train/checkpoint-format.js';
import { modelFromCheckpoint } from './model-from-checkpoint.js';

export interface SegmenterOptions {
  /** onnxruntime intra-op threads (default: the runtime's default, all cores in Node). */
  threads?: number;
  /**
   * Inference mode. Default: whole image padded (bottom/right) to the model's input multiple, the
   * scale the model was trained and validated at (segkit's validation pads the same way).
   */
  mode?: WholeMode | SlideMode;
  /**
   * Run every image at this fixed size [height, width] (ignoring aspect), as the model was trained
   * (portrait models: 224×224). Default: the checkpoint's validation size if it used a fixed one,
   * else the image's own size.
   */
  inputSize?: readonly [number, number];
  /** Test-time scales as ratios, and horizontal flips (averaging probabilities). */
  ratios?: readonly number[];
  flip?: boolean;
  /** Binary (one-channel) models: probability above which a pixel is class 1 (default 0.5). */
  threshold?: number;
  /** Also return K×H×W class probabilities (default false). */
  probabilities?: boolean;
  /**
   * Post-process the logits with the learning-free mean-field CRF (FastSeg's crfseg layer), inside
   * the compiled graph at the model's output resolution: `true` for its defaults, or its options.
   */
  crf?: boolean | CrfOptions;
  /**
   * Refine the edges of a two-class (or one-logit) model with the colour guided filter, the image
   * as guide (src/inference/guided-filter.ts): labels and probabilities then follow the photo's
   * edges instead of the model's grid. Default: the checkpoint's `refine` metadata (what a shipped
   * model was validated with), else off; `true` uses the checkpoint's settings or the filter's
   * defaults; `false` turns it off. Needs a fixed input size (the segmenter upsamples the scores).
   */
  refine?: boolean | GuidedFilterOptions;
}

/** What `segment` returns: a label map at the input's size and what its values mean. */
export interface Segmentation {
  /** H×W class indices, row-major. */
  labels: Uint8Array;
  width: number;
  height: number;
  /** Class names by label value. */
  classes: readonly string[];
  palette: readonly RGB[];
  /** K×H×W probabilities (K = 1 for binary models: P(class 1)), when asked for. */
  probabilities?: Float32Array;
}

/** Output sizes whose upsampling graphs a segmenter keeps (a folder of differently sized photos evicts the oldest). */
const MAX_UPSAMPLERS = 8;

/** A fixed Resize(keepRatio: false) in a config's validation pipeline: the size the model was validated at. */
export function fixedValSize(config: unknown): [number, number] | undefined {
  const pipeline = (config as { data?: { valPipeline?: { type: string; scale?: [number, number]; keepRatio?: boolean }[] } } | undefined)?.data?.valPipeline;
  const r = pipeline?.find((t) => t.type === 'Resize' && t.keepRatio === false && t.scale);
  return r ? [r.scale![1], r.scale![0]] : undefined;
}


export class Segmenter {
  readonly classes: readonly string[];
  readonly palette: readonly RGB[];
  private readonly forward: CompiledFunction;
  /** The fixed size [height, width] every image is run at, if any (the option, else the checkpoint's validation size). */
  readonly inputSize?: readonly [number, number];
  private disposed = false;
  /** Score upsampling + argmax graphs by output size (see upsampled). */
  private readonly upsamplers = new GraphCache(MAX_UPSAMPLERS);
  /** The guided filter's settings when the segmenter refines edges, else null. */
  readonly refine: Required<GuidedFilterOptions> | null;

  private constructor(
    readonly model: SegmentationModel,
    meta: { classes: readonly string[]; palette?: readonly RGB[]; config?: unknown; refine?: GuidedFilterOptions },
    private readonly codec: Pick<ImageCodec, 'decodeImage'>,
    private readonly runtime: Runtime,
    private readonly o: SegmenterOptions,
  ) {
    this.classes = meta.classes;
    this.palette = meta.palette ?? generatePalette(meta.classes.length);
    this.inputSize = o.inputSize ?? fixedValSize(meta.config);
    model.eval();
    const refine = o.refine === undefined ? meta.refine : o.refine === true ? (meta.refine ?? {}) : o.refine || undefined;
    this.refine = refine ? guidedFilterSettings(refine, 'Segmenter: refine') : null;
    if (this.refine) {
      if (!this.inputSize) throw new Error('Segmenter: refine (the guided filter) needs a fixed input size: give inputSize, or use a checkpoint validated at one');
      if (meta.classes.length > 2) throw new Error(`Segmenter: refine (the guided filter) works on two-class models (person/background); this one has ${meta.classes.length} classes (${meta.classes.join(', ')})`);
    }
    const crf = o.crf === true ? {} : o.crf || null;
    // No spinning: between runs the segmenter resizes and decodes in JavaScript, and two sessions
    // (model, upsampling) alternate; spinning pool threads would take the cores from both (road
    // model at 360×480 on 2 cores: 91 ms per image spinning, 57 ms without).
    const session = { runtime, threads: o.threads, spin: false };
    this.forward = crf ? compile((x: Tensor) => crfMeanField(model.forward(x) as Tensor, crf), { ...session, paramNames: model.namedState() }) : compileModule(model, session);
  }

  /**
   * A segmenter for a segkit checkpoint (model name, options and classes come from its metadata).
   * `source` (the checkpoint's file) starts every error about the checkpoint: weights that do not fit
   * the declared model, non-finite weights, a class list of the wrong length.
   */
  static fromCheckpoint(c: Checkpoint, codec: Pick<ImageCodec, 'decodeImage'>, runtime: Runtime, o: SegmenterOptions = {}, source = 'checkpoint'): Segmenter {
    const model = modelFromCheckpoint(c, source);
    return new Segmenter(model, c.meta, codec, runtime, o);
  }

  /** Segments one image: a decoded RGB/RGBA/grey image, encoded bytes, or a path (Node) / URL (browser). */
  async segment(image: DecodedImage | ImageSource): Promise<Segmentation> {
    if (this.disposed) throw new Error('Segmenter.segment: this segmenter has been disposed');
    const img = typeof image === 'string' || image instanceof Uint8Array || image instanceof ArrayBuffer ? await this.codec.decodeImage(image) : image;
    // dispose() may have run while the image was decoding.
    if (this.disposed) throw new Error('Segmenter.segment: this segmenter has been disposed');
    const { width: w, height: h } = img;
    let x = this.toInput(img);
    if (this.inputSize) x = resizeBilinearNCHW(x, this.inputSize[0], this.inputSize[1]);
    const r = await runInference(x, (b) => this.forward.run(b) as Promise<HostTensor>, {
      inputMultiple: this.model.inputMultiple,
      mode: this.o.mode ?? { mode: 'whole', fit: 'pad' },
      ratios: this.o.ratios,
      flip: this.o.flip,
      threshold: this.o.threshold,
    });
    const up = this.inputSize ? await this.upsampled(r.scores, r.kind, img) : undefined;
    const labels = up?.labels ?? r.labels;
    const out: Segmentation = { labels: labels instanceof Uint8Array ? labels : Uint8Array.from(labels), width: w, height: h, classes: this.classes, palette: this.palette };
    if (this.o.probabilities) out.probabilities = up?.probabilities ?? (r.kind === 'probabilities' ? r.scores : toProbabilities(r.scores)).f32;
    return out;
  }

  /**
   * Labels at the image's size from scores at the model's: bilinear upsampling (half-pixel centres,
   * as resizeBilinearNCHW) and the argmax or threshold, plus the probabilities (softmax, or sigmoid
   * for one channel) when the segmenter returns them, as one small weightless onnxruntime graph per
   * output size. Several times faster than the same loops in JavaScript (at 360×480 with 11
   * classes they cost as much as the road model itself), and only what is asked for comes back.
   * With `refine`, the image is the graph's second input and the last class's probability is
   * refined by the guided filter before the threshold.
   */
  private async upsampled(scores: HostTensor, kind: ScoresKind, img: DecodedImage): Promise<{ labels: Uint8Array; probabilities?: Float32Array }> {
    const { width: w, height: h } = img;
    const key = `${scores.shape.join('x')}→${h}x${w}`;
    const f = await this.upsamplers.get(key, () => {
      const binary = scores.shape[1] === 1;
      const t = this.o.threshold ?? 0.5;
      if (binary && !(t > 0 && t < 1)) throw new Error(`Segmenter: threshold must be in (0, 1), got ${t}`);
      // sigmoid(z) > t ⇔ z > log(t / (1 − t)), as labelsFromScores.
      const cut = kind === 'logits' ? Math.log(t / (1 - t)) : t;
      const probabilities = this.o.probabilities;
      const refine = this.refine;
      return compile(
        (s: Tensor, guide?: Tensor) => {
          if (refine) {
            const { labels, q } = refinedLabels(guide!, s, kind, refine, binary ? t : 0.5);
            if (!probabilities) return labels;
            return [labels, binary ? q : cat([q.neg().add(1), q], 1)];
          }
          const up = s.resize({ size: [h, w], mode: 'bilinear', alignCorners: false });
          const labels = (binary ? up.gt(cut).squeeze(1) : up.argmax(1)).cast('uint8');
          if (!probabilities) return labels;
          return [labels, kind === 'probabilities' ? up : binary ? up.sigmoid() : up.softmax(1)];
        },
        { runtime: this.runtime, threads: this.o.threads, spin: false },
      );
    });
    const out = await (this.refine ? f.run(scores, guideImage(img)) : f.run(scores));
    if (!this.o.probabilities) return { labels: (out as HostTensor).data as Uint8Array };
    const [labels, probabilities] = out as [HostTensor, HostTensor];
    return { labels: labels.data as Uint8Array, probabilities: probabilities.f32 };
  }

  /** HWC uint8 → 1×3×H×W float32 normalised as the model expects (grey expanded, alpha dropped). */
  private toInput(img: DecodedImage): HostTensor {
    const { width: w, height: h, channels: c, data } = img;
    if (!(w > 0 && h > 0)) throw new Error(`Segmenter.segment: image is ${w}×${h}; expected a non-empty image`);
    if (![1, 3, 4].includes(c) || data.length !== w * h * c) throw new Error(`Segmenter.segment: expected ${w}×${h} pixels with 1, 3 or 4 channels (${w * h * c} values), got ${data.length} values and ${c} channels`);
    const { mean, std } = this.model.normalization;
    return planarRgb(img, std.map((v) => 1 / (255 * v)), mean.map((m, ch) => m / std[ch]!));
  }

  /** Releases the onnxruntime sessions. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.forward.dispose();
    await this.upsamplers.dispose();
  }
}
