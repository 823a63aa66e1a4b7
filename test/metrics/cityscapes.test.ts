// The Cityscapes protocol against an independent re-derivation of cityscapesScripts'
// evaluation/evalPixelLevelSemanticLabeling.py, plus hand-worked cases.
//
// The reference below (`scriptReference`) follows the script's dictionary-style code path step by
// step, in plain float64 loops, without using anything from src/metrics:
//   generateMatrix      evalLabels = every label id ≥ 0 (0..33); a 34×34 matrix of zeros.
//   evaluatePair        per pixel: conf[gt][pred] += 1 (all pixels, void ground truth included).
//   instances           for each distinct instance id > 1000 in gtFine_instanceIds: labelId =
//                       int(id/1000); skip if labels[labelId].ignoreInEval; mask = pixels with that
//                       id; size = |mask|; tp = #(pred == labelId on mask); fn = size − tp;
//                       weight = avgClassSize[name]/size; class tpWeighted += tp·weight, fnWeighted +=
//                       fn·weight; if the label's category is an "instance category" (every label
//                       of the category with id ≥ 0 has instances: human, vehicle) the same with
//                       catTp = #(pred ∈ that category's label ids, ignored ones included).
//   getIouScoreForLabel NaN if ignoreInEval; tp = conf[l][l]; fn = Σ_p conf[l][p] − tp;
//                       fp = Σ conf[g][l] over g not ignored and g ≠ l; IoU = tp/(tp+fp+fn), NaN if 0/0.
//   getInstanceIou...   tp, fn = the weighted sums; fp unweighted as above; NaN if not an instance class.
//   getIouScoreForCategory   ids = non-ignored labels of the category; tp = Σ conf[ids][ids];
//                       fn = Σ conf[ids][:] − tp; fp = Σ conf[g][ids] over g not ignored and of
//                       another category.
//   getInstanceIouScoreForCategory   weighted tp, fn; fp as above but over the instance category's
//                       label ids (caravan and trailer columns included).
//   getScoreAverage     mean over non-NaN scores.
// avgClassSize is re-typed here from the script.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CITYSCAPES_LABELS } from '../../src/data/labels/cityscapes.js';
import type { Label } from '../../src/data/labels/types.js';
import { CityscapesEvaluator, formatCityscapesResult, type CityscapesResult } from '../../src/metrics/index.js';

const AVG_CLASS_SIZE: Record<string, number> = {
  bicycle: 4672.3249222261,
  caravan: 36771.8241758242,
  motorcycle: 6298.7200839748,
  rider: 3930.4788056518,
  bus: 35732.1511111111,
  train: 67583.7075812274,
  car: 12794.0202738185,
  person: 3462.4756337644,
  truck: 27855.1264367816,
  trailer: 16926.9763313609,
};

interface Img {
  pred: number[];
  gt: number[];
  inst: number[];
}

interface Ref {
  classIoU: Map<string, number>;
  classIIoU: Map<string, number>;
  catIoU: Map<string, number>;
  catIIoU: Map<string, number>;
  avg: { classIoU: number; classIIoU: number; catIoU: number; catIIoU: number };
}

function scriptReference(images: Img[]): Ref {
  const id2label = new Map<number, Label>();
  const evalLabels: number[] = [];
  const category2labels = new Map<string, Label[]>();
  for (const l of CITYSCAPES_LABELS) {
    if (!category2labels.has(l.category)) category2labels.set(l.category, []);
    category2labels.get(l.category)!.push(l);
    if (l.id < 0) continue;
    id2label.set(l.id, l);
    evalLabels.push(l.id);
  }
  const maxId = Math.max(...evalLabels);
  const conf: number[][] = Array.from({ length: maxId + 1 }, () => new Array<number>(maxId + 1).fill(0));

  type Stat = { tp: number; fn: number; tpWeighted: number; fnWeighted: number; labelIds?: number[] };
  const instClasses = new Map<string, Stat>();
  const instCats = new Map<string, Stat>();
  for (const l of CITYSCAPES_LABELS) if (l.hasInstances && !l.ignoreInEval) instClasses.set(l.name, { tp: 0, fn: 0, tpWeighted: 0, fnWeighted: 0 });
  for (const [category, ls] of category2labels) {
    const labelIds: number[] = [];
    let allInstances = true;
    for (const l of ls) {
      if (l.id < 0) continue;
      if (!l.hasInstances) {
        allInstances = false;
        break;
      }
      labelIds.push(l.id);
    }
    if (!allInstances) continue;
    instCats.set(category, { tp: 0, fn: 0, tpWeighted: 0, fnWeighted: 0, labelIds });
  }

  for (const { pred, gt, inst } of images) {
    for (let i = 0; i < gt.length; i++) conf[gt[i]!]![pred[i]!]! += 1;
    const instList = [...new Set(inst.filter((v) => v > 1000))].sort((a, b) => a - b);
    for (const instId of instList) {
      const labelId = Math.trunc(instId / 1000);
      const label = id2label.get(labelId)!;
      if (label.ignoreInEval) continue;
      let instSize = 0;
      let tp = 0;
      let catTp = 0;
      const cat = instCats.get(label.category);
      for (let i = 0; i < inst.length; i++) {
        if (inst[i] !== instId) continue;
        instSize++;
        if (pred[i] === labelId) tp++;
        if (cat && cat.labelIds!.includes(pred[i]!)) catTp++;
      }
      const fn = instSize - tp;
      const weight = AVG_CLASS_SIZE[label.name]! / instSize;
      const s = instClasses.get(label.name)!;
      s.tp += tp;
      s.fn += fn;
      s.tpWeighted += tp * weight;
      s.fnWeighted += fn * weight;
      if (cat) {
        const catFn = instSize - catTp;
        cat.tp += catTp;
        cat.fn += catFn;
        cat.tpWeighted += catTp * weight;
        cat.fnWeighted += catFn * weight;
      }
    }
  }

  const sumRow = (r: number) => conf[r]!.reduce((a, b) => a + b, 0);
  const classFp = (label: number) => evalLabels.filter((l) => !id2label.get(l)!.ignoreInEval && l !== label).reduce((a, g) => a + conf[g]![label]!, 0);
  const catFp = (category: string, ids: number[]) =>
    evalLabels
      .filter((l) => !id2label.get(l)!.ignoreInEval && id2label.get(l)!.category !== category)
      .reduce((a, g) => a + ids.reduce((b, p) => b + conf[g]![p]!, 0), 0);
  const iou = (tp: number, fp: number, fn: number) => (tp + fp + fn === 0 ? NaN : tp / (tp + fp + fn));

  const classIoU = new Map<string, number>();
  const classIIoU = new Map<string, number>();
  for (const label of evalLabels) {
    const l = id2label.get(label)!;
    if (l.ignoreInEval) {
      classIoU.set(l.name, NaN);
      classIIoU.set(l.name, NaN);
      continue;
    }
    const tp = conf[label]![label]!;
    classIoU.set(l.name, iou(tp, classFp(label), sumRow(label) - tp));
    const s = instClasses.get(l.name);
    classIIoU.set(l.name, s ? iou(s.tpWeighted, classFp(label), s.fnWeighted) : NaN);
  }
  const catIoU = new Map<string, number>();
  const catIIoU = new Map<string, number>();
  for (const [category, ls] of category2labels) {
    const ids = ls.filter((l) => !l.ignoreInEval && evalLabels.includes(l.id)).map((l) => l.id);
    if (ids.length === 0) catIoU.set(category, NaN);
    else {
      let tp = 0;
      let rows = 0;
      for (const g of ids) {
        rows += sumRow(g);
        for (const p of ids) tp += conf[g]![p]!;
      }
      catIoU.set(category, iou(tp, catFp(category, ids), rows - tp));
    }
    const s = instCats.get(category);
    catIIoU.set(category, s ? iou(s.tpWeighted, catFp(category, s.labelIds!), s.fnWeighted) : NaN);
  }
  const average = (m: Map<string, number>) => {
    const v = [...m.values()].filter((x) => !Number.isNaN(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  };
  return {
    classIoU,
    classIIoU,
    catIoU,
    catIIoU,
    avg: { classIoU: average(classIoU), classIIoU: average(classIIoU), catIoU: average(catIoU), catIIoU: average(catIIoU) },
  };
}

/** Equal within 1e-12 relative, or both NaN. */
function same(a: number, b: number, what: string): void {
  if (Number.isNaN(b)) assert.ok(Number.isNaN(a), `${what}: expected NaN, got ${a}`);
  else assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs reference ${b}`);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A few small images: random label ids 0..33 (void ones included), instance ids for instance classes, noisy predictions. */
function syntheticSplit(seed: number, count: number, h: number, w: number): Img[] {
  const rnd = mulberry32(seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const instanceIds = new Set(CITYSCAPES_LABELS.filter((l) => l.hasInstances && l.id >= 0).map((l) => l.id));
  const voidIds = CITYSCAPES_LABELS.filter((l) => l.ignoreInEval && l.id >= 0).map((l) => l.id);
  const images: Img[] = [];
  for (let n = 0; n < count; n++) {
    const gt: number[] = [];
    const inst: number[] = [];
    const pred: number[] = [];
    for (let i = 0; i < h * w; i++) {
      const g = pick(34);
      gt.push(g);
      // Instance classes: mostly one of three instances (k = 0..2), sometimes a group region (id = labelId).
      inst.push(instanceIds.has(g) && rnd() < 0.8 ? g * 1000 + pick(3) : g);
      const r = rnd();
      pred.push(r < 0.5 ? g : r < 0.6 ? voidIds[pick(voidIds.length)]! : pick(34));
    }
    images.push({ pred, gt, inst });
  }
  return images;
}

function compare(res: CityscapesResult, ref: Ref): void {
  assert.equal(res.classes.length, 19);
  assert.equal(res.categories.length, 7);
  for (const c of res.classes) {
    same(c.iou, ref.classIoU.get(c.name)!, `IoU ${c.name}`);
    same(c.iIoU, ref.classIIoU.get(c.name)!, `iIoU ${c.name}`);
  }
  for (const c of res.categories) {
    same(c.iou, ref.catIoU.get(c.name)!, `category IoU ${c.name}`);
    same(c.iIoU, ref.catIIoU.get(c.name)!, `category iIoU ${c.name}`);
  }
  same(res.mIoU, ref.avg.classIoU, 'mean class IoU');
  same(res.iIoU, ref.avg.classIIoU, 'mean class iIoU');
  same(res.categoryIoU, ref.avg.catIoU, 'mean category IoU');
  same(res.categoryIIoU, ref.avg.catIIoU, 'mean category iIoU');
}

describe('Cityscapes evaluation (cityscapesScripts protocol)', () => {
  it('random split: every class/category IoU and iIoU equals the re-derived script', () => {
    const split = syntheticSplit(7, 4, 12, 16);
    const ev = new CityscapesEvaluator();
    for (const im of split) ev.update(Uint8Array.from(im.pred), Uint8Array.from(im.gt), Uint16Array.from(im.inst));
    const res = ev.result();
    const ref = scriptReference(split);
    compare(res, ref);
    // The split must exercise the interesting terms, or the comparison proves little.
    assert.ok(res.classes.every((c) => !Number.isNaN(c.iou)), 'all 19 classes scored');
    assert.equal(res.classes.filter((c) => !Number.isNaN(c.iIoU)).length, 8, 'all 8 instance classes have an iIoU');
    assert.equal(res.pixels, 4 * 12 * 16);
  });

  it('merging per-worker evaluators (and structured-cloned counts) equals one evaluator', () => {
    const split = syntheticSplit(11, 4, 8, 10);
    const one = new CityscapesEvaluator();
    const a = new CityscapesEvaluator();
    const b = new CityscapesEvaluator();
    split.forEach((im, i) => {
      one.update(im.pred, im.gt, im.inst);
      (i % 2 ? a : b).update(im.pred, im.gt, im.inst);
    });
    const merged = new CityscapesEvaluator().merge(a).merge(structuredClone(b.counts()));
    assert.deepEqual([...merged.confusion], [...one.confusion]);
    compare(merged.result(), scriptReference(split));
  });

  // Pixels (GT label / instance id → prediction):
  //   road→road, road→sidewalk, road→car, car#0→car, car#0→road, car#1→car, unlabeled→car, person#0→unlabeled
  const a = 12794.0202738185; // avgClassSize car
  const hand: Img = {
    gt: [7, 7, 7, 26, 26, 26, 0, 24],
    inst: [7, 7, 7, 26000, 26000, 26001, 0, 24000],
    pred: [7, 8, 26, 26, 7, 26, 26, 0],
  };

  it('hand-worked image: class IoU, void GT never a false positive, void prediction a false negative', () => {
    const r = new CityscapesEvaluator().update(hand.pred, hand.gt, hand.inst).result();
    const cls = (n: string) => r.classes.find((c) => c.name === n)!;
    same(cls('road').iou, 1 / 4, 'road: TP 1, FN 2, FP 1 (car pixel)');
    same(cls('sidewalk').iou, 0, 'sidewalk: FP 1 only');
    same(cls('car').iou, 1 / 2, 'car: TP 2, FN 1, FP 1 (road pixel; the unlabeled pixel does not count)');
    same(cls('person').iou, 0, 'person: predicted unlabeled is a FN');
    assert.ok(Number.isNaN(cls('sky').iou), 'sky absent: NaN');
    same(r.mIoU, (1 / 4 + 0 + 1 / 2 + 0) / 4, 'mIoU over the 4 non-NaN classes');
    // car#0: size 2, tp 1 (weight a/2); car#1: size 1, tp 1 (weight a): tpW = 1.5a, fnW = a/2, FP 1.
    same(cls('car').iIoU, (1.5 * a) / (2 * a + 1), 'car iIoU');
    same(cls('person').iIoU, 0, 'person iIoU');
    assert.ok(Number.isNaN(cls('road').iIoU), 'no iIoU for road');
    same(r.iIoU, (1.5 * a) / (2 * a + 1) / 2, 'mean iIoU');
    const cat = (n: string) => r.categories.find((c) => c.name === n)!;
    same(cat('flat').iou, 1 / 2, 'flat: TP 2 (road→road, road→sidewalk), FN 1, FP 1');
    same(cat('vehicle').iou, 1 / 2, 'vehicle: TP 2, FN 1, FP 1');
    same(cat('human').iou, 0, 'human');
    assert.ok(Number.isNaN(cat('sky').iou));
    assert.equal(r.categories.find((c) => c.name === 'void'), undefined, 'void is not a scored category');
    same(r.categoryIoU, 1 / 3, 'mean category IoU');
    same(cat('vehicle').iIoU, (1.5 * a) / (2 * a + 1), 'vehicle iIoU');
    same(cat('human').iIoU, 0, 'human iIoU');
    same(r.categoryIIoU, (1.5 * a) / (2 * a + 1) / 2, 'mean category iIoU');
  });

  it('hand-worked caravan case: ignored class columns count for vehicle iIoU FP but not vehicle IoU', () => {
    // car#0→car, car#0→caravan, road→caravan, caravan#0→car
    const r = new CityscapesEvaluator().update([26, 29, 29, 26], [26, 26, 7, 29], [26000, 26000, 7, 29000]).result();
    const cls = (n: string) => r.classes.find((c) => c.name === n)!;
    const cat = (n: string) => r.categories.find((c) => c.name === n)!;
    same(cls('car').iou, 1 / 2, 'car: TP 1, FN 1, the caravan-GT pixel is no FP');
    same(cls('road').iou, 0, 'road');
    same(cls('car').iIoU, 1 / 2, 'car iIoU: size 2, tp 1, FP 0');
    same(cat('vehicle').iou, 1 / 2, 'vehicle IoU: caravan column not a vehicle IoU column');
    // vehicle iIoU: both car pixels are predicted inside {26..33} (caravan included): tpW = 2·a/2 = a;
    // the road pixel predicted caravan is a FP for the instance category.
    same(cat('vehicle').iIoU, a / (a + 1), 'vehicle iIoU');
    assert.ok(Number.isNaN(r.classes.find((c) => c.name === 'caravan')?.iou ?? NaN), 'caravan not scored');
  });

  it('train-id predictions are mapped to label ids (255 → unlabeled, a false negative)', () => {
    const fromIds = new CityscapesEvaluator().update(hand.pred, hand.gt, hand.inst).result();
    // The same predictions as train ids: road 0, sidewalk 1, car 13, unlabeled 255.
    const fromTrain = new CityscapesEvaluator().updateTrainIds([0, 1, 13, 13, 0, 13, 13, 255], hand.gt, hand.inst).result();
    assert.deepEqual(fromTrain, fromIds);
  });

  it('without instance ids (instanceLevel: false) iIoU is NaN and IoU unchanged', () => {
    const r = new CityscapesEvaluator({ instanceLevel: false }).update(hand.pred, hand.gt).result();
    same(r.mIoU, 3 / 16, 'mIoU');
    assert.ok(Number.isNaN(r.iIoU) && Number.isNaN(r.categoryIIoU));
  });

  it('the report has the script-style class and category tables', () => {
    const t = formatCityscapesResult(new CityscapesEvaluator().update(hand.pred, hand.gt, hand.inst).result());
    assert.match(t, /^road {10}: 0\.250 {4}  nan$/m);
    assert.match(t, /^car {11}: 0\.500 {4}0\.750$/m);
    assert.match(t, /^Score Average : 0\.188 {4}0\.375$/m);
    assert.match(t, /^vehicle {7}: 0\.500 {4}0\.750$/m);
  });

  it('bad input is a clear error', () => {
    const ev = new CityscapesEvaluator();
    assert.throws(() => ev.update([7], [255], [0]), /ground-truth value 255 at pixel 0 is not a Cityscapes label id/);
    assert.throws(() => ev.update([34], [7], [0]), /prediction 34 at pixel 0 is not a Cityscapes label id/);
    assert.throws(() => ev.update([7], [7]), /instance ids \(gtFine_instanceIds\) are required/);
    assert.throws(() => ev.update([7, 7], [7], [7]), /2 predictions but 1 ground-truth pixels/);
    assert.throws(() => ev.update([7], [7], [7001]), /instance id 7001 at pixel 0 belongs to label id 7, which has no instances/);
    assert.throws(() => ev.updateTrainIds([19], [7], [7]), /prediction 19 at pixel 0 is not a Cityscapes train id/);
  });
});
