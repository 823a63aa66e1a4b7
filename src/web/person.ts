/**
 * People segmentation in the manner of tfjs-models body-segmentation: which pixels are a person,
 * as a probability map and a binary mask, with temporal smoothing for video. The model is any
 * segkit checkpoint whose class names include 'person' (a portrait model, or a scene model such as
 * ADE20K or Cityscapes); the effects themselves live in src/segmenter/effects.ts.
 */
import type { Segmentation } from '../segmenter/segmenter.js';
import { smoothMasks } from '../segmenter/effects.js';
import type { WebSegmenter, WebSegmentInput } from './create-segmenter.js';
import { isDecodedImage, readPixels } from './pixels.js';

/** Which pixels are a person, at the size of the image that was segmented. */
export interface PersonSegmentation {
  width: number;
  height: number;
  /** P(person) per pixel in [0, 1], row-major; temporally smoothed when a smoother was given. */
  probability: Float32Array;
  /** 1 where `probability` is above `threshold`, else 0. */
  mask: Uint8Array;
  threshold: number;
}

/** Anything with a `segment` method and class names: a {@link WebSegmenter} or a platform-neutral Segmenter. */
export interface PersonModel {
  readonly classes: readonly string[];
  segment(image: never): Promise<Segmentation>;
}

/** The label value of the class named 'person' (any case); an error names the model's classes otherwise. */
export function personClassIndex(classes: readonly string[]): number {
  const i = classes.findIndex((c) => c.toLowerCase() === 'person');
  if (i < 0) throw new Error(`segmentPeople: the model has no 'person' class (its classes: ${classes.join(', ')}); use a person model such as 'portrait'`);
  return i;
}

/**
 * P(person) from a segmentation: the model's probabilities when the segmenter was created with
 * `probabilities: true` (soft edges), else the hard labels as 0/1.
 */
export function personProbability(s: Segmentation): Float32Array {
  const person = personClassIndex(s.classes);
  const plane = s.width * s.height;
  const out = new Float32Array(plane);
  const p = s.probabilities;
  if (!p) {
    for (let i = 0; i < plane; i++) out[i] = s.labels[i] === person ? 1 : 0;
    return out;
  }
  if (p.length === plane) {
    // A binary (one-channel) model: the probabilities are P(class 1).
    if (person === 1) out.set(p);
    else for (let i = 0; i < plane; i++) out[i] = 1 - p[i]!;
    return out;
  }
  if (p.length !== s.classes.length * plane) throw new Error(`segmentPeople: expected ${s.classes.length}×${s.height}×${s.width} probabilities, got ${p.length} values`);
  out.set(p.subarray(person * plane, (person + 1) * plane));
  return out;
}

function checkThreshold(t: number): void {
  if (!(t >= 0 && t < 1)) throw new Error(`segmentPeople: threshold must be in [0, 1), got ${t}`);
}

/** Binary mask of `probability > threshold`. */
export function thresholdMask(probability: Float32Array, threshold: number): Uint8Array {
  checkThreshold(threshold);
  const mask = new Uint8Array(probability.length);
  for (let i = 0; i < probability.length; i++) mask[i] = probability[i]! > threshold ? 1 : 0;
  return mask;
}

/**
 * Temporal smoothing of a video's person probabilities: an exponential moving average that holds
 * the previous frame's map. A change of frame size restarts the average (the previous map no longer
 * lines up).
 */
export class MaskSmoother {
  private prev?: Float32Array;
  private prevSize = '';
  private disposed = false;

  /** `factor` 0 keeps each new frame as it is; larger values steady flickering edges but lag behind motion. */
  constructor(readonly factor = 0.5) {
    if (!(factor >= 0 && factor < 1)) throw new Error(`MaskSmoother: factor must be in [0, 1), got ${factor}`);
  }

  /** The smoothed map for this frame (a new array); it becomes the previous map. */
  update(next: Float32Array, width: number, height: number): Float32Array {
    if (this.disposed) throw new Error('MaskSmoother.update: this smoother has been disposed');
    if (next.length !== width * height) throw new Error(`MaskSmoother.update: ${next.length} values for ${width}×${height}`);
    const size = `${width}x${height}`;
    const out = smoothMasks(size === this.prevSize ? this.prev : undefined, next, this.factor);
    this.prev = out;
    this.prevSize = size;
    return out;
  }

  /** The previous frame's smoothed map, if any. */
  get previous(): Float32Array | undefined {
    return this.prev;
  }

  /** Forgets the previous frame (a scene cut, a new video). */
  reset(): void {
    this.prev = undefined;
    this.prevSize = '';
  }

  dispose(): void {
    this.reset();
    this.disposed = true;
  }
}

export interface SegmentPeopleOptions {
  /** Probability above which a pixel is a person in `mask` (default 0.5). */
  threshold?: number;
  /** A smoother carried across the frames of a video (see {@link PersonStream}). */
  smoothing?: MaskSmoother;
}

/** Segments the people in one image. */
export async function segmentPeople(segmenter: WebSegmenter | PersonModel, image: WebSegmentInput, o: SegmentPeopleOptions = {}): Promise<PersonSegmentation> {
  const threshold = o.threshold ?? 0.5;
  checkThreshold(threshold);
  personClassIndex(segmenter.classes); // fail before running the model
  // Browser images become pixels here, so any segmenter (a platform-neutral one too) takes them.
  const pixels = typeof image === 'string' || image instanceof Uint8Array || image instanceof ArrayBuffer || isDecodedImage(image) ? image : readPixels(image);
  const s = await (segmenter as WebSegmenter).segment(pixels);
  let probability = personProbability(s);
  if (o.smoothing) probability = o.smoothing.update(probability, s.width, s.height);
  return { width: s.width, height: s.height, probability, mask: thresholdMask(probability, threshold), threshold };
}

export interface PersonStreamOptions {
  threshold?: number;
  /** Temporal smoothing factor in [0, 1) (default 0.5; 0 turns it off). */
  smoothing?: number;
}

/**
 * People in a video, frame after frame, smoothed over time. It does not own the segmenter:
 * `dispose()` drops the stream's state, the segmenter is disposed by its owner.
 */
export class PersonStream {
  readonly smoother: MaskSmoother;
  private disposed = false;

  constructor(
    readonly segmenter: WebSegmenter | PersonModel,
    private readonly o: PersonStreamOptions = {},
  ) {
    personClassIndex(segmenter.classes);
    if (o.threshold !== undefined) checkThreshold(o.threshold);
    this.smoother = new MaskSmoother(o.smoothing ?? 0.5);
  }

  async segment(frame: WebSegmentInput): Promise<PersonSegmentation> {
    if (this.disposed) throw new Error('PersonStream.segment: this stream has been disposed');
    return segmentPeople(this.segmenter, frame, { threshold: this.o.threshold, smoothing: this.smoother });
  }

  reset(): void {
    this.smoother.reset();
  }

  dispose(): void {
    this.disposed = true;
    this.smoother.dispose();
  }
}
