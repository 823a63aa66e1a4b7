/** The benchmark's input shape: parsed from `NxCxHxW` text and checked against the model. */

/** An N×C×H×W input shape. */
export type InputShape = [number, number, number, number];

/** Parses `1x3x512x1024` (or with `×`): four positive integers. Errors name the text and the format. */
export function parseInputShape(text: string): InputShape {
  const parts = text.trim().split(/[x×]/);
  const expected = `expected NxCxHxW, four positive integers joined by 'x' (e.g. 1x3x512x1024)`;
  if (parts.length !== 4) throw new Error(`input shape '${text}': ${expected}; got ${parts.length} part(s)`);
  const dims = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  const bad = dims.findIndex((d) => !(Number.isSafeInteger(d) && d > 0));
  if (bad >= 0) throw new Error(`input shape '${text}': ${'NCHW'[bad]} is '${parts[bad]}'; ${expected}`);
  return dims as InputShape;
}

/** What an input shape must satisfy for a model. */
export interface InputRequirements {
  /** Used in error messages. */
  modelName: string;
  /** Height and width must be multiples of it (SegmentationModel.inputMultiple). */
  inputMultiple: number;
  /** The channels the model takes, when known. */
  inChannels?: number;
}

/** `v` rounded to the nearest positive multiple of `m` (halfway rounds up). */
const nearestMultiple = (v: number, m: number): number => Math.max(m, Math.round(v / m) * m);

/**
 * Throws unless the shape fits the model: C equal to its input channels, H and W multiples of its
 * `inputMultiple` (the error suggests the nearest valid size).
 */
export function checkInputShape(shape: readonly number[], r: InputRequirements): void {
  const text = shape.join('x');
  if (shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) throw new Error(`input shape [${shape.join(', ')}]: expected four positive integers N, C, H, W`);
  const [n, c, h, w] = shape as InputShape;
  if (r.inChannels !== undefined && c !== r.inChannels) throw new Error(`input shape ${text}: ${r.modelName} takes ${r.inChannels} input channel(s), got C = ${c} (use ${n}x${r.inChannels}x${h}x${w})`);
  const m = r.inputMultiple;
  if (h % m !== 0 || w % m !== 0) {
    throw new Error(`input shape ${text}: ${r.modelName} needs height and width that are multiples of ${m}, got ${h}×${w}; nearest valid size: ${n}x${c}x${nearestMultiple(h, m)}x${nearestMultiple(w, m)}`);
  }
}
