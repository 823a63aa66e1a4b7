import { Tensor } from '../engine/tensor.js';
import { bceWithLogits, binaryDice, multiclassDice } from './binary.js';
import { crfLoss } from './crf.js';
import { crossEntropy, type LossAverage } from './cross-entropy.js';
import { lovaszSoftmax } from './lovasz.js';
import { ohemCrossEntropy } from './ohem.js';
import { logitsAtLabelSize } from './resize-logits.js';

/** A loss of one model output: N×K×h×w logits and N×H×W integer labels to a scalar. */
export type SegmentationLossFn = (logits: Tensor, labels: Tensor) => Tensor;

/**
 * The training loss of a model with auxiliary heads: loss(main) + Σᵢ auxWeights[i]·loss(aux[i]),
 * where `outputs` is what the model returns in training mode — `[main, ...aux]`, or one tensor for
 * a model without auxiliary heads (then `auxWeights` must be empty) — and `auxWeights` is the
 * model's (SETR 0.4 each, S2-FPN 1.0 each; see SegmentationModel). Each output is compared with
 * the same labels; the losses resize logits to the labels.
 */
export function auxiliaryLoss(outputs: Tensor | readonly Tensor[], auxWeights: readonly number[], labels: Tensor, loss: SegmentationLossFn): Tensor {
  const list = outputs instanceof Tensor ? [outputs] : [...outputs];
  if (list.length === 0) throw new Error('auxiliaryLoss: the model returned no output (expected [main, ...aux] or one tensor)');
  const [main, ...aux] = list as [Tensor, ...Tensor[]];
  if (aux.length !== auxWeights.length) {
    throw new Error(
      `auxiliaryLoss: the model returned ${aux.length} auxiliary output(s) (${list.length} tensors in [main, ...aux]) but auxWeights has ${auxWeights.length} weight(s) [${auxWeights.join(', ')}]; ` +
        'a model in training mode returns one auxiliary output per weight (in eval mode only the main logits)',
    );
  }
  const bad = auxWeights.findIndex((w) => !Number.isFinite(w));
  if (bad >= 0) throw new Error(`auxiliaryLoss: auxWeights[${bad}] must be a finite number, got ${auxWeights[bad]}`);
  let total = loss(main, labels);
  aux.forEach((a, i) => {
    if (auxWeights[i] !== 0) total = total.add(loss(a, labels).mul(auxWeights[i]!));
  });
  return total;
}

/** Adds crfWeight·crfLoss (FastSeg's optional term) to any loss spec; 0 or absent adds nothing. */
interface CrfTerm {
  crfWeight?: number;
}

/**
 * A loss described as JSON, for training configs. Every variant takes `crfWeight` (FastSeg's
 * mean-field CRF term, on the logits resized to the labels; default 0).
 * - `ce`: crossEntropy (`classWeights`, `ignoreIndex`, `average`, `boundaryWeight`, `boundaryWidth`).
 * - `ohem`: ohemCrossEntropy (`thresh`, `minKept` and the `ce` keys).
 * - `lovasz`: lovaszSoftmax (`classes`, `ignoreIndex`).
 * - `dice`: multiclassDice (`smooth`, `ignoreIndex`).
 * - `bce+dice`: one-logit binary loss, bceWeight·bceWithLogits + diceWeight·binaryDice (FastSeg's
 *   portrait loss: weights 0.8 and 0.2 by default; `thresholded: true` is its gradient-free Dice,
 *   whose smoothing is 1e-5 there — give `smooth` for that).
 * - `sum`: Σ weight·loss over `terms`, each loss itself a spec.
 */
export type LossSpec = CrfTerm &
  (
    | { type: 'ce'; classWeights?: number[]; ignoreIndex?: number; average?: LossAverage; boundaryWeight?: number; boundaryWidth?: number }
    | { type: 'ohem'; thresh?: number; minKept?: number; classWeights?: number[]; ignoreIndex?: number; average?: LossAverage }
    | { type: 'lovasz'; classes?: 'present' | 'all' | number[]; ignoreIndex?: number }
    | { type: 'dice'; smooth?: number; ignoreIndex?: number }
    | { type: 'bce+dice'; bceWeight?: number; diceWeight?: number; thresholded?: boolean; smooth?: number; ignoreIndex?: number }
    | { type: 'sum'; terms: { weight: number; loss: LossSpec }[] }
  );

/** What a spec key accepts: a test and, for error messages, its description. */
type Check = { ok: (v: unknown) => boolean; what: string };

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const weight: Check = { ok: (v) => finite(v) && v >= 0, what: 'a non-negative number' };
const integer: Check = { ok: (v) => Number.isInteger(v), what: 'an integer' };
const average: Check = { ok: (v) => v === 'valid' || v === 'all', what: "'valid' or 'all'" };
const classWeights: Check = { ok: (v) => Array.isArray(v) && v.length > 0 && v.every((w) => weight.ok(w)), what: 'a non-empty array of non-negative numbers, one per class' };
const ceKeys = { classWeights, ignoreIndex: integer, average };

const SPEC_KEYS: Record<LossSpec['type'], Record<string, Check>> = {
  ce: { ...ceKeys, boundaryWeight: weight, boundaryWidth: { ok: (v) => Number.isInteger(v) && (v as number) >= 1, what: 'a positive integer (pixels)' } },
  ohem: {
    thresh: { ok: finite, what: 'a number (a probability, e.g. 0.7)' },
    minKept: { ok: (v) => Number.isInteger(v) && (v as number) >= 1, what: 'a positive integer' },
    ...ceKeys,
  },
  lovasz: {
    classes: { ok: (v) => v === 'present' || v === 'all' || (Array.isArray(v) && v.length > 0 && v.every((c) => Number.isInteger(c) && c >= 0)), what: "'present', 'all' or a non-empty array of class indices" },
    ignoreIndex: integer,
  },
  dice: { smooth: weight, ignoreIndex: integer },
  'bce+dice': { bceWeight: weight, diceWeight: weight, thresholded: { ok: (v) => typeof v === 'boolean', what: 'true or false' }, smooth: weight, ignoreIndex: integer },
  sum: { terms: { ok: (v) => Array.isArray(v) && v.length > 0, what: 'a non-empty array of { weight, loss }' } },
};

const TYPES = Object.keys(SPEC_KEYS) as LossSpec['type'][];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a spec's shape, recursively; errors name the path, the value and what is accepted. */
function validate(spec: unknown, path: string): LossSpec {
  if (!isObject(spec)) throw new Error(`segmentationLoss: ${path} must be an object with a 'type' (one of ${TYPES.join(', ')}), got ${JSON.stringify(spec)}`);
  const type = spec.type;
  if (typeof type !== 'string' || !TYPES.includes(type as LossSpec['type'])) {
    throw new Error(`segmentationLoss: ${path}.type must be one of ${TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  }
  const checks: Record<string, Check> = { ...SPEC_KEYS[type as LossSpec['type']], crfWeight: weight };
  for (const [key, value] of Object.entries(spec)) {
    if (key === 'type') continue;
    const check = checks[key];
    if (!check) throw new Error(`segmentationLoss: ${path} has unknown key '${key}' for type '${type}'; valid keys: type, ${Object.keys(checks).join(', ')}`);
    if (value !== undefined && !check.ok(value)) throw new Error(`segmentationLoss: ${path}.${key} must be ${check.what}, got ${JSON.stringify(value)}`);
  }
  if (type === 'sum') {
    if (spec.terms === undefined) throw new Error(`segmentationLoss: ${path}.terms is required for type 'sum' (${SPEC_KEYS.sum.terms!.what})`);
    (spec.terms as unknown[]).forEach((term, i) => {
      const at = `${path}.terms[${i}]`;
      if (!isObject(term)) throw new Error(`segmentationLoss: ${at} must be an object { weight, loss }, got ${JSON.stringify(term)}`);
      const extra = Object.keys(term).find((k) => k !== 'weight' && k !== 'loss');
      if (extra !== undefined) throw new Error(`segmentationLoss: ${at} has unknown key '${extra}'; valid keys: weight, loss`);
      if (!weight.ok(term.weight)) throw new Error(`segmentationLoss: ${at}.weight must be ${weight.what}, got ${JSON.stringify(term.weight)}`);
      validate(term.loss, `${at}.loss`);
    });
  }
  return spec as unknown as LossSpec;
}

/** Σ wᵢ·fᵢ over the terms with a non-zero weight (a zero-weighted term is not traced at all). */
function weightedSum(terms: [number, SegmentationLossFn][], path: string): SegmentationLossFn {
  const used = terms.filter(([w]) => w !== 0);
  if (used.length === 0) throw new Error(`segmentationLoss: ${path} has no term with a non-zero weight`);
  return (logits, labels) =>
    used.map(([w, f]) => (w === 1 ? f(logits, labels) : f(logits, labels).mul(w))).reduce((a, b) => a.add(b));
}

function build(spec: LossSpec, path: string): SegmentationLossFn {
  let base: SegmentationLossFn;
  switch (spec.type) {
    case 'ce':
      base = (z, y) => crossEntropy(z, y, spec);
      break;
    case 'ohem':
      base = (z, y) => ohemCrossEntropy(z, y, spec);
      break;
    case 'lovasz':
      base = (z, y) => lovaszSoftmax(z, y, spec);
      break;
    case 'dice':
      base = (z, y) => multiclassDice(z, y, spec);
      break;
    case 'bce+dice':
      base = weightedSum(
        [
          [spec.bceWeight ?? 0.8, (z, y) => bceWithLogits(z, y, spec)],
          [spec.diceWeight ?? 0.2, (z, y) => binaryDice(z, y, spec)],
        ],
        path,
      );
      break;
    case 'sum':
      base = weightedSum(spec.terms.map((t, i) => [t.weight, build(t.loss, `${path}.terms[${i}].loss`)]), path);
      break;
  }
  const crf = spec.crfWeight ?? 0;
  if (crf === 0) return base;
  return weightedSum([[1, base], [crf, (z, y) => crfLoss(logitsAtLabelSize(z, y.shape))]], path);
}

/**
 * Builds a loss of one output from a JSON spec (see LossSpec), validating it first: an unknown
 * type or key, or a value of the wrong kind, throws an error naming where in the spec it is, the
 * value, and what is accepted. Apply the result to every output of a model with auxiliaryLoss.
 */
export function segmentationLoss(spec: unknown): SegmentationLossFn {
  return build(validate(spec, 'loss'), 'loss');
}
