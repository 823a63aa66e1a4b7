import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/data/rng.js';
import type { Sample } from '../../src/data/sample.js';
import {
  buildPipeline,
  buildTransform,
  clahe,
  claheChannel,
  compose,
  defaultTrainPipeline,
  hsvToRgb,
  labToRgb,
  listTransforms,
  mmsegTrainPipeline,
  normalize,
  pad,
  photoMetricDistortion,
  portraitTrainPipeline,
  randomCrop,
  randomFlip,
  randomResize,
  rescaleSize,
  resize,
  resizeBilinear,
  resizeNearest,
  rgbToHsv,
  rgbToLab,
  shiftScaleRotate,
  type Transform,
  type TransformSpec,
} from '../../src/data/transforms/index.js';
import { blockLabel, blockLabelAt, coordImage, textureImage } from './helpers.js';

const K = 5; // classes in the synthetic label
const W = 64;
const H = 48;

function coordSample(w = W, h = H): Sample {
  return { image: coordImage(w, h), label: blockLabel(w, h, K), width: w, height: h, channels: 3, meta: { id: 'synthetic' } };
}

/**
 * Checks that every output pixel's label is the label of the source position its image colour
 * encodes. Pixels whose decoded source position is within `margin` source pixels of a block boundary
 * are not judged (resampling blends across boundaries); pixels of the border fill (blue < 255) or with
 * the ignore label are skipped. Returns the number of pixels judged.
 */
function assertAligned(s: Sample, w0: number, h0: number, what: string, margin = 1.6): number {
  assert.ok(s.image instanceof Uint8Array, `${what}: expected a uint8 image`);
  let judged = 0;
  let bad = 0;
  let firstBad = '';
  for (let y = 0; y < s.height; y++) {
    for (let x = 0; x < s.width; x++) {
      const p = y * s.width + x;
      const lab = s.label[p]!;
      if (lab === 255 || s.image[p * 3 + 2] !== 255) continue;
      const sx = (s.image[p * 3]! * (w0 - 1)) / 255;
      const sy = (s.image[p * 3 + 1]! * (h0 - 1)) / 255;
      const near = (v: number) => {
        const m = v % 8;
        return m < margin - 0.5 || m > 8 - margin - 0.5;
      };
      if (near(sx) || near(sy)) continue;
      judged++;
      const expected = blockLabelAt(Math.round(sx), Math.round(sy), K);
      if (expected !== lab) {
        bad++;
        if (!firstBad) firstBad = `(${x},${y}) → src (${sx.toFixed(1)},${sy.toFixed(1)}) label ${lab}, expected ${expected}`;
      }
    }
  }
  assert.equal(bad, 0, `${what}: ${bad}/${judged} misaligned pixels, first ${firstBad}`);
  return judged;
}

function assertLabelValues(s: Sample, k: number, what: string, ignore = 255): void {
  for (const v of s.label) if (!(v < k || v === ignore)) assert.fail(`${what}: label value ${v} outside 0..${k - 1} and ${ignore}`);
}

test('every geometric transform keeps image and label aligned (label is a function of position)', () => {
  const cases: [string, Transform][] = [
    ['Resize ×1.7 keepRatio', resize({ scale: [109, 82], keepRatio: true })],
    ['Resize to 40×30 (down)', resize({ scale: [40, 30] })],
    ['Resize to 150×61 (anisotropic up)', resize({ scale: [150, 61] })],
    ['Resize ×0.5 factor', resize({ scaleFactor: 0.5 })],
    ['RandomResize 0.5–2.0', randomResize({ scale: [W, H], ratioRange: [0.5, 2.0], keepRatio: true })],
    ['RandomCrop 32×40', randomCrop({ cropSize: [32, 40] })],
    ['RandomCrop catMaxRatio 0.75', randomCrop({ cropSize: [24, 24], catMaxRatio: 0.75 })],
    ['RandomCrop larger than image', randomCrop({ cropSize: [100, 100] })],
    ['RandomFlip horizontal', randomFlip({ prob: 1 })],
    ['RandomFlip vertical', randomFlip({ prob: 1, direction: 'vertical' })],
    ['Pad bottom-right', pad({ size: [60, 70] })],
    ['Pad centre', pad({ size: [61, 77], position: 'center' })],
    ['ShiftScaleRotate', shiftScaleRotate({ rotateLimit: 45, p: 1 } as never)],
    ['mmseg train (geometry)', buildPipeline(mmsegTrainPipeline({ scale: [W, H], cropSize: [40, 56], photometric: false, normalize: false }))],
    ['portrait (geometry)', buildPipeline([
      { type: 'ShiftScaleRotate', rotateLimit: 25, maskValue: 255, p: 1 },
      { type: 'Pad', size: [72, 72], position: 'center' },
      { type: 'Resize', scale: [56, 56] },
    ])],
  ];
  for (const [name, t] of cases) {
    for (let seed = 0; seed < 6; seed++) {
      const out = t(coordSample(), new Rng(seed));
      assert.equal(out.image.length, out.width * out.height * 3, name);
      assert.equal(out.label.length, out.width * out.height, name);
      assertLabelValues(out, K, name);
      const judged = assertAligned(out, W, H, `${name} (seed ${seed})`);
      assert.ok(judged > out.width * out.height * 0.08, `${name}: only ${judged} pixels judged`);
    }
  }
});

test('photometric transforms change pixels only: labels and geometry untouched, values in range', () => {
  const base: Sample = { image: textureImage(W, H), label: blockLabel(W, H, K), width: W, height: H, channels: 3, meta: {} };
  const pristine = textureImage(W, H);
  const names = ['PhotoMetricDistortion', 'GaussNoise', 'Blur', 'MotionBlur', 'Sharpen', 'CLAHE', 'RandomBrightnessContrast', 'RandomGamma', 'HueSaturationValue'] as const;
  for (const type of names) {
    const t = buildTransform({ type, p: 1 } as TransformSpec);
    let changed = 0;
    for (let seed = 0; seed < 8; seed++) {
      const out = t(base, new Rng(seed));
      assert.equal(out.label, base.label, `${type} must not touch the label`);
      assert.equal(out.width, W);
      assert.equal(out.height, H);
      assert.ok(out.image instanceof Uint8Array && out.image.length === base.image.length, type);
      if (out.image.some((v, i) => v !== base.image[i])) changed++;
    }
    assert.ok(changed >= 3, `${type} changed the image in only ${changed}/8 draws`);
    assert.deepEqual(base.image, pristine, `${type} mutated its input`);
  }
  assert.throws(() => photoMetricDistortion()({ ...base, image: new Float32Array(base.image.length) }, new Rng(0)), /before Normalize/);
});

test('no pipeline produces a label value outside the label set plus ignore', () => {
  // label with every class and some ignore
  const label = blockLabel(W, H, K);
  for (let i = 0; i < label.length; i += 17) label[i] = 255;
  const s: Sample = { image: textureImage(W, H), label, width: W, height: H, channels: 3, meta: {} };
  const pipes: [string, TransformSpec[], number[]][] = [
    ['mmseg', mmsegTrainPipeline({ scale: [W, H], cropSize: [40, 48] }), [255]],
    ['portrait (fill 0)', portraitTrainPipeline({ size: 40 }), [255]],
    ['default camvid', defaultTrainPipeline('camvid'), [255]],
  ];
  for (const [name, specs] of pipes) {
    const p = buildPipeline(specs);
    for (let seed = 0; seed < 12; seed++) {
      const out = p(s, new Rng(seed));
      assertLabelValues(out, K, `${name} seed ${seed}`);
    }
  }
});

test('RandomResize: mmseg ratio semantics; keepRatio via mmcv rescale_size', () => {
  assert.deepEqual(rescaleSize(480, 360, [2048, 1024]), [1365, 1024]);
  assert.deepEqual(rescaleSize(2048, 1024, [2048, 512]), [1024, 512]);
  assert.deepEqual(rescaleSize(100, 50, 0.5), [50, 25]);
  const t = randomResize({ scale: [480, 360], ratioRange: [0.5, 2.0], keepRatio: true });
  const s: Sample = { image: new Uint8Array(48 * 36 * 3), label: new Uint8Array(48 * 36), width: 48, height: 36, channels: 3, meta: {} };
  const widths: number[] = [];
  for (let seed = 0; seed < 60; seed++) {
    const r = new Rng(seed);
    const ratio = new Rng(seed).random() * 1.5 + 0.5; // the draw RandomResize makes
    const out = t(s, r);
    const [ew, eh] = rescaleSize(48, 36, [Math.trunc(480 * ratio), Math.trunc(360 * ratio)]);
    assert.equal(out.width, ew);
    assert.equal(out.height, eh);
    widths.push(out.width);
  }
  assert.ok(Math.min(...widths) >= 240 && Math.max(...widths) <= 960);
  assert.ok(Math.min(...widths) < 320 && Math.max(...widths) > 880, 'ratio range not covered');
});

test('RandomCrop catMaxRatio: prefers crops where no class dominates, retries at most 10 times', () => {
  // left 90% class 0, a thin strip of class 1 on the right
  const w = 100;
  const h = 10;
  const label = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 90; x < w; x++) label[y * w + x] = 1;
  const s: Sample = { image: new Uint8Array(w * h * 3), label, width: w, height: h, channels: 3, meta: {} };
  const ratio = (o: Sample) => {
    let ones = 0;
    for (const v of o.label) ones += v;
    return Math.max(ones, o.label.length - ones) / o.label.length;
  };
  let okWith = 0;
  let okWithout = 0;
  for (let seed = 0; seed < 200; seed++) {
    if (ratio(randomCrop({ cropSize: [10, 20], catMaxRatio: 0.75 })(s, new Rng(seed))) < 0.75) okWith++;
    if (ratio(randomCrop({ cropSize: [10, 20] })(s, new Rng(seed))) < 0.75) okWithout++;
  }
  // a satisfying crop needs x1 in 76..80 (5 of 81 offsets): 6 % by chance, 1 − (76/81)^10 ≈ 47 % with 10 checks
  assert.ok(okWithout < 30, `without catMaxRatio ${okWithout}/200`);
  assert.ok(okWith > 70, `with catMaxRatio ${okWith}/200`);
  // when no crop can satisfy it (one class), mmseg checks 10 boxes and keeps the 11th draw unchecked
  const single: Sample = { ...s, label: new Uint8Array(w * h) };
  for (let seed = 0; seed < 5; seed++) {
    const r = new Rng(seed);
    let box: number[] = [];
    for (let k = 0; k < 11; k++) {
      const oy = r.int(0, 1);
      const ox = r.int(0, 81);
      box = [oy, oy + 10, ox, ox + 20];
    }
    assert.deepEqual(randomCrop({ cropSize: [10, 20], catMaxRatio: 0.75 })(single, new Rng(seed)).meta.cropBbox, box);
  }
  // ignore pixels are excluded from the ratio
  const allIgnore: Sample = { ...s, label: new Uint8Array(w * h).fill(255) };
  assert.equal(randomCrop({ cropSize: [10, 20], catMaxRatio: 0.75 })(allIgnore, new Rng(1)).width, 20);
});

test('fused RandomResize→RandomCrop gives exactly the unfused result', () => {
  const s: Sample = { image: textureImage(W, H), label: blockLabel(W, H, K), width: W, height: H, channels: 3, meta: { id: 'x' } };
  const rr = randomResize({ scale: [W, H], ratioRange: [0.5, 2.0], keepRatio: true });
  const rc = randomCrop({ cropSize: [30, 40], catMaxRatio: 0.75 });
  const fused = compose([rr, rc]);
  for (let seed = 0; seed < 20; seed++) {
    const rng = new Rng(seed);
    const a = fused(s, rng);
    const b = rc(rr(s, rng.fork(0)), rng.fork(1));
    assert.deepEqual(a.image, b.image);
    assert.deepEqual(a.label, b.label);
    assert.deepEqual(a.meta, b.meta);
    assert.equal(a.width, b.width);
  }
  // and the windowed resize equals resize-then-crop
  const full = resizeBilinear(s.image, W, H, 3, 101, 77);
  const win = resizeBilinear(s.image, W, H, 3, 101, 77, { x: 13, y: 9, w: 40, h: 30 });
  for (let y = 0; y < 30; y++) for (let x = 0; x < 40 * 3; x++) assert.equal(win[y * 120 + x], full[((y + 9) * 101 + 13) * 3 + x]);
});

test('resampling: bilinear keeps constants and averages on exact halving; nearest keeps values', () => {
  const c = new Uint8Array(10 * 6 * 3).fill(200);
  assert.ok(resizeBilinear(c, 10, 6, 3, 23, 17).every((v) => v === 200));
  const row = new Uint8Array([0, 100, 50, 150]); // 4×1, 1 channel
  assert.deepEqual([...resizeBilinear(row, 4, 1, 1, 2, 1)], [50, 100]);
  const f = new Float32Array([0, 1, 2, 3]);
  assert.deepEqual([...resizeBilinear(f, 4, 1, 1, 2, 1)], [0.5, 2.5]);
  const lab = new Uint8Array([1, 2, 3, 4]);
  assert.deepEqual([...resizeNearest(lab, 4, 1, 8, 1)], [1, 1, 2, 2, 3, 3, 4, 4]);
  assert.deepEqual([...resizeNearest(lab, 4, 1, 2, 1)], [2, 4]);
});

test('Pad and Normalize: values, order, float output', () => {
  const s: Sample = { image: new Uint8Array([10, 20, 30, 40, 50, 60]), label: new Uint8Array([1, 2]), width: 2, height: 1, channels: 3, meta: {} };
  const p = pad({ size: [2, 3], padVal: 7 })(s, new Rng(0));
  assert.deepEqual([...p.label], [1, 2, 255, 255, 255, 255]);
  assert.deepEqual([...p.image.subarray(0, 9)], [10, 20, 30, 40, 50, 60, 7, 7, 7]);
  assert.equal(pad({ sizeDivisor: 4 })(s, new Rng(0)).width, 4);
  const n = normalize({ mean: [10, 20, 30], std: [2, 4, 5] })(s, new Rng(0));
  assert.ok(n.image instanceof Float32Array);
  assert.deepEqual([...n.image], [0, 0, 0, 15, 7.5, 6]);
  const bgr = normalize({ mean: [0, 0, 0], std: [1, 1, 1], channelOrder: 'bgr' })(s, new Rng(0));
  assert.deepEqual([...bgr.image], [30, 20, 10, 60, 50, 40]);
  // Pad after Normalize pads with 0 in normalised units (mmseg data preprocessor)
  const np = pad({ size: [1, 3] })(n, new Rng(0));
  assert.ok(np.image instanceof Float32Array && np.image[6] === 0);
});

test('colour conversions: HSV and Lab round trips are within 1–2 levels', () => {
  const img = textureImage(50, 40, 3);
  const back = hsvToRgb(rgbToHsv(img));
  let maxHsv = 0;
  for (let i = 0; i < img.length; i++) maxHsv = Math.max(maxHsv, Math.abs(back[i]! - img[i]!));
  assert.ok(maxHsv <= 3, `HSV round trip error ${maxHsv}`);
  const hsv = rgbToHsv(new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]));
  assert.deepEqual([...hsv], [0, 255, 255, 60, 255, 255, 120, 255, 255, 0, 0, 255]);
  const lab = rgbToLab(img);
  const back2 = labToRgb(lab.L, lab.a, lab.b);
  let maxLab = 0;
  for (let i = 0; i < img.length; i++) maxLab = Math.max(maxLab, Math.abs(back2[i]! - img[i]!));
  assert.ok(maxLab <= 2, `Lab round trip error ${maxLab}`);
});

test('CLAHE equalises a low-contrast channel and keeps the image size', () => {
  const w = 128;
  const h = 128;
  const r = new Rng(3);
  const ch = new Uint8Array(w * h).map(() => 100 + r.int(0, 16));
  const out = claheChannel(ch, w, h, 4, [8, 8]);
  const spread = (a: Uint8Array) => Math.max(...a) - Math.min(...a);
  assert.ok(spread(out) > spread(ch) * 2, `CLAHE spread ${spread(ch)} → ${spread(out)}`);
  const s: Sample = { image: textureImage(33, 21), label: new Uint8Array(33 * 21), width: 33, height: 21, channels: 3, meta: {} };
  assert.equal(clahe()(s, new Rng(0)).image.length, 33 * 21 * 3);
});

test('specs: registry names, unknown types and options are errors that list the valid ones; p applies', () => {
  assert.ok(listTransforms().includes('PhotoMetricDistortion'));
  assert.throws(() => buildTransform({ type: 'Mosaic' } as unknown as TransformSpec), /unknown transform 'Mosaic'; valid transforms: .*RandomCrop/);
  assert.throws(() => buildTransform({ type: 'RandomCrop', cropSize: 8, catMaxRatoi: 0.75 } as unknown as TransformSpec), /unknown option\(s\) 'catMaxRatoi'; valid options: cropSize, catMaxRatio, ignoreIndex, p/);
  assert.throws(() => buildTransform({ type: 'RandomFlip', p: 2 }), /p must be a number in \[0, 1\]/);
  const s = coordSample();
  const never = buildTransform({ type: 'RandomFlip', prob: 1, p: 0 });
  assert.equal(never(s, new Rng(1)), s);
  // OneOf with weights picks only non-zero-weight children
  const one = buildTransform({ type: 'OneOf', p: 1, transforms: [{ type: 'RandomFlip', prob: 1, p: 0 }, { type: 'RandomFlip', prob: 1, direction: 'vertical', p: 1 }] });
  for (let seed = 0; seed < 5; seed++) assert.equal(one(s, new Rng(seed)).meta.flipDirection, 'vertical');
  // JSON round trip of a pipeline gives the same output
  const specs = defaultTrainPipeline('camvid');
  const a = buildPipeline(specs)(s, new Rng(5));
  const b = buildPipeline(JSON.parse(JSON.stringify(specs)))(s, new Rng(5));
  assert.deepEqual(a.image, b.image);
  assert.deepEqual(a.label, b.label);
});

test('transforms are deterministic for a generator and differ across generators', () => {
  const p = buildPipeline(defaultTrainPipeline('camvid'));
  const s: Sample = { image: textureImage(W, H), label: blockLabel(W, H, K), width: W, height: H, channels: 3, meta: {} };
  const a = p(s, new Rng(1).fork(2));
  const b = p(s, new Rng(1).fork(2));
  const c = p(s, new Rng(1).fork(3));
  assert.deepEqual(a.image, b.image);
  assert.notDeepEqual(a.image, c.image);
});
