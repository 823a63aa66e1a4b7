// `segkit predict` on tiny untrained SegFormers saved as checkpoints: a folder of 50 images with a
// corrupt one in the middle, label maps checked against an argmax computed here from the model's
// raw logits (float64 bilinear upsampling written from the definition), colour maps against the
// palette, JSON run lengths decoded here, person effects against their formulas, video through
// ffmpeg when it is installed, and the usage errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { UsageError } from '../../src/cli/command.js';
import { predictCommand } from '../../src/cli/commands/predict.js';
import { parseVideoInfo, VideoReader } from '../../src/cli/video.js';
import { decodeImage, decodeLabel, encodeImage, encodePng } from '../../src/data/image-node.js';
import type { DecodedImage } from '../../src/data/image.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { createModel } from '../../src/models/index.js';
import { compileModule } from '../../src/nn/compile.js';
import { blurBackground, fitBackground } from '../../src/segmenter/effects.js';
import { createSegmenter } from '../../src/segmenter/node.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';

const PALETTE: [number, number, number][] = [
  [128, 64, 128],
  [250, 170, 30],
  [0, 0, 142],
];
const SIZE = { width: 40, height: 30 };

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Blocks of random colours with a smooth gradient, so the untrained model predicts several classes. */
function testImage(w: number, h: number, seed: number): DecodedImage {
  const r = lcg(seed);
  const block = Array.from({ length: 64 }, () => [r() * 255, r() * 255, r() * 255]);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const b = block[(Math.floor(y / 8) * 8 + Math.floor(x / 8)) % 64]!;
        data[(y * w + x) * 3 + c] = Math.round(0.7 * b[c]! + 0.3 * ((x * 255) / w));
      }
  return { data, width: w, height: h, channels: 3 };
}

/** Runs the command, capturing console and stderr (where the progress bar and failures go). */
async function predict(t: TestContext, ...args: string[]): Promise<{ code: number | void; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => out.push(a.join(' ')));
  t.mock.method(console, 'error', (...a: unknown[]) => err.push(a.join(' ')));
  t.mock.method(process.stderr, 'write', (chunk: string | Uint8Array) => err.push(String(chunk)));
  try {
    const code = await predictCommand.run(args);
    return { code, out: out.join('\n'), err: err.join('') };
  } finally {
    t.mock.restoreAll();
  }
}

/** Bilinear resize of one K×h×w plane stack to H×W, align_corners=False (half-pixel centres), float64. */
function upsample(src: Float32Array, k: number, h: number, w: number, H: number, W: number): Float64Array {
  const taps = (out: number, inn: number) =>
    Array.from({ length: out }, (_, o) => {
      const s = Math.max(0, ((o + 0.5) * inn) / out - 0.5);
      const i0 = Math.min(Math.floor(s), inn - 1);
      return { i0, i1: Math.min(i0 + 1, inn - 1), f: s - i0 };
    });
  const ys = taps(H, h);
  const xs = taps(W, w);
  const out = new Float64Array(k * H * W);
  for (let c = 0; c < k; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const { i0: y0, i1: y1, f: fy } = ys[y]!;
        const { i0: x0, i1: x1, f: fx } = xs[x]!;
        const v = (yy: number, xx: number) => src[(c * h + yy) * w + xx]!;
        out[(c * H + y) * W + x] = (1 - fy) * ((1 - fx) * v(y0, x0) + fx * v(y0, x1)) + fy * ((1 - fx) * v(y1, x0) + fx * v(y1, x1));
      }
  return out;
}

/** The model's scores at the image size, computed without the Segmenter: normalise, forward, upsample. */
async function referenceScores(checkpoint: string, img: DecodedImage): Promise<{ k: number; scores: Float64Array }> {
  const c = await loadCheckpoint(checkpoint);
  const model = createModel(c.meta.model.name, c.meta.model.options);
  model.loadStateDict(c.model);
  model.eval();
  const { width: w, height: h } = img;
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const x = new Float32Array(3 * w * h);
  for (let ch = 0; ch < 3; ch++) for (let p = 0; p < w * h; p++) x[ch * w * h + p] = (img.data[p * 3 + ch]! / 255 - mean[ch]!) / std[ch]!;
  const f = compileModule(model, { runtime: nodeRuntime });
  try {
    const logits = (await f.run(new HostTensor(x, [1, 3, h, w]))) as HostTensor;
    const [, k, lh, lw] = logits.shape as number[];
    return { k: k!, scores: upsample(logits.data as Float32Array, k!, lh!, lw!, h, w) };
  } finally {
    await f.dispose();
  }
}

const argmax = (scores: Float64Array, k: number, n: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, p) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (scores[c * n + p]! > scores[best * n + p]!) best = c;
    return best;
  });

/** What a JPEG of `values` (rounded to bytes) decodes to: the command's JPEG outputs are compared after the same round trip. */
async function viaJpeg(values: ArrayLike<number>, width: number, height: number): Promise<Uint8Array> {
  const img: DecodedImage = { data: Uint8Array.from(values, (v) => Math.round(v)), width, height, channels: 3 };
  return (await decodeImage(await encodeImage(img, 'jpeg'))).data;
}

const meanAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

describe('segkit predict', () => {
  let dir = '';
  let ckpt = '';
  let personCkpt = '';
  let folder = '';
  const inputs = new Map<string, DecodedImage>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'segkit-predict-'));
    const opts = { encoder: 'mit-b0', decoderHiddenSize: 32, numClasses: 3 };
    ckpt = join(dir, 'road.safetensors');
    await saveCheckpoint(ckpt, {
      meta: { format: 'segkit-checkpoint/1', iteration: 0, model: { name: 'segformer', options: opts }, classes: ['road', 'sign', 'car'], palette: PALETTE },
      model: createModel('segformer', opts).stateDict(),
      optimizer: {},
    });
    // A binary person model whose classifier is scaled up so its probabilities reach 0 and 1.
    const popts = { ...opts, numClasses: 1 };
    const person = createModel('segformer', popts).stateDict();
    const cls = person['decode_head.classifier.weight']!.data as Float32Array;
    for (let i = 0; i < cls.length; i++) cls[i]! *= 40;
    personCkpt = join(dir, 'person.safetensors');
    await saveCheckpoint(personCkpt, {
      meta: { format: 'segkit-checkpoint/1', iteration: 0, model: { name: 'segformer', options: popts }, classes: ['background', 'person'] },
      model: person,
      optimizer: {},
    });

    // 51 files: PNG, JPEG and WebP, two of another size, and a truncated PNG in the middle.
    folder = join(dir, 'images');
    await mkdir(folder);
    for (let i = 0; i <= 50; i++) {
      const name = `img_${String(i).padStart(2, '0')}`;
      const odd = i === 7 || i === 41;
      const img = testImage(odd ? 48 : SIZE.width, odd ? 36 : SIZE.height, i + 1);
      const ext = i % 10 === 3 ? 'jpg' : i % 10 === 6 ? 'webp' : 'png';
      let bytes = ext === 'png' ? await encodePng(img) : await encodeImage(img, ext === 'jpg' ? 'jpeg' : 'webp', { lossless: true, quality: 100 });
      if (i === 25) bytes = bytes.subarray(0, bytes.length >> 1);
      else inputs.set(name, ext === 'png' ? img : await decodeImage(bytes)); // what the lossy codecs stored
      await writeFile(join(folder, `${name}.${ext}`), bytes);
    }
  });
  after(() => dir && rm(dir, { recursive: true, force: true }));

  test('a folder of 51 files with a corrupt one: 50 label and colour PNGs at the inputs\' sizes, the failure reported, exit 1', async (t) => {
    const out = join(dir, 'out-folder');
    const r = await predict(t, folder, '--checkpoint', ckpt, '--out', out);
    assert.equal(r.code, 1);
    assert.match(r.err, /img_25\.png: skipped: cannot decode PNG .*img_25\.png/);
    assert.match(r.err, /1 of 51 failed/);
    assert.match(r.err, /\[predict 51\/51\]/, 'the progress line');
    assert.match(r.out, /wrote 50 of 51 prediction\(s\) to .*out-folder\/ \(labels\/, color\/\)/);

    const labels = (await readdir(join(out, 'labels'))).sort();
    assert.deepEqual(labels, [...inputs.keys()].map((n) => `${n}.png`).sort(), 'one label PNG per readable image, no temporary files');
    assert.deepEqual((await readdir(join(out, 'color'))).sort(), labels);
    let classesSeen = new Set<number>();
    for (const [name, img] of inputs) {
      const label = await decodeLabel(join(out, 'labels', `${name}.png`));
      assert.deepEqual([label.width, label.height, label.channels], [img.width, img.height, 1], name);
      const color = await decodeImage(join(out, 'color', `${name}.png`));
      for (let p = 0; p < label.data.length; p++) {
        const v = label.data[p]!;
        assert.ok(v < 3, `${name}: label ${v}`);
        classesSeen.add(v);
        assert.deepEqual([...color.data.subarray(p * 3, p * 3 + 3)], PALETTE[v], `${name} pixel ${p}: colour is the palette entry of label ${v}`);
      }
    }
    assert.ok(classesSeen.size >= 2, 'the fixture exercises more than one class');

    // Labels equal the argmax of the model's own logits, upsampled here (one image of each size).
    for (const name of ['img_00', 'img_07']) {
      const img = inputs.get(name)!;
      const { k, scores } = await referenceScores(ckpt, img);
      const want = argmax(scores, k, img.width * img.height);
      const got = (await decodeLabel(join(out, 'labels', `${name}.png`))).data;
      const differ = got.reduce((s, v, i) => s + (v !== want[i] ? 1 : 0), 0);
      assert.equal(differ, 0, `${name}: ${differ} of ${got.length} labels differ from the reference argmax`);
    }
  });

  test('--format json: counts per class and row-major [value, length] runs that decode to the label PNG', async (t) => {
    const png = join(dir, 'out-one-png');
    const json = join(dir, 'out-one-json');
    const file = join(folder, 'img_00.png');
    assert.equal((await predict(t, file, '--checkpoint', ckpt, '--out', png)).code, 0);
    assert.equal((await predict(t, file, '--checkpoint', ckpt, '--out', json, '--format', 'json')).code, 0);
    assert.deepEqual(await readdir(json), ['img_00.json'], 'JSON instead of the PNGs');
    const doc = JSON.parse(await readFile(join(json, 'img_00.json'), 'utf8')) as { image: string; width: number; height: number; classes: string[]; counts: number[]; rle: [number, number][] };
    assert.deepEqual([doc.image, doc.width, doc.height, doc.classes], ['img_00.png', 40, 30, ['road', 'sign', 'car']]);
    const decoded: number[] = [];
    for (const [v, n] of doc.rle) {
      assert.ok(n > 0, 'runs are non-empty');
      for (let i = 0; i < n; i++) decoded.push(v);
    }
    const label = await decodeLabel(join(png, 'labels', 'img_00.png'));
    assert.deepEqual(decoded, [...label.data]);
    for (let i = 1; i < doc.rle.length; i++) assert.notEqual(doc.rle[i]![0], doc.rle[i - 1]![0], 'adjacent runs hold different values');
    const counts = [0, 1, 2].map((c) => label.data.filter((v) => v === c).length);
    assert.deepEqual(doc.counts, counts);
  });

  test('--overlay blends the colour map over the image at 50%', async (t) => {
    const out = join(dir, 'out-overlay');
    assert.equal((await predict(t, join(folder, 'img_01.png'), '--checkpoint', ckpt, '--out', out, '--overlay')).code, 0);
    const img = inputs.get('img_01')!;
    const label = await decodeLabel(join(out, 'labels', 'img_01.png'));
    const want = Array.from(img.data, (v, i) => 0.5 * v + 0.5 * PALETTE[label.data[Math.floor(i / 3)]!]![i % 3]!);
    const got = await decodeImage(join(out, 'overlay', 'img_01.jpg'));
    assert.deepEqual([got.width, got.height], [40, 30]);
    const err = meanAbs(got.data, await viaJpeg(want, 40, 30));
    t.diagnostic(`mean |overlay − formula| after JPEG: ${err.toFixed(4)}`);
    assert.ok(err < 0.1, `mean |overlay − formula| = ${err.toFixed(3)} after the same JPEG encoding`);
  });

  test('person model without an effect: labels, colour map and overlay, no matte needed', async (t) => {
    const out = join(dir, 'out-person-plain');
    assert.equal((await predict(t, join(folder, 'img_02.png'), '--checkpoint', personCkpt, '--out', out, '--overlay')).code, 0);
    for (const f of ['labels/img_02.png', 'color/img_02.png', 'overlay/img_02.jpg']) assert.ok(existsSync(join(out, f)), `${f} was not written`);
    assert.ok(!existsSync(join(out, 'alpha')), 'no matte folder without --alpha');
  });

  test('person model: --alpha is 255·sigmoid of the upsampled logit, --background and --blur composite with it', async (t) => {
    const out = join(dir, 'out-person');
    const file = join(folder, 'img_02.png');
    const r = await predict(t, file, '--checkpoint', personCkpt, '--out', out, '--alpha', '--blur', '--background', '#00ff00');
    assert.equal(r.code, 0);
    const img = inputs.get('img_02')!;
    const n = img.width * img.height;
    const alpha = await decodeLabel(join(out, 'alpha', 'img_02.png'));
    assert.deepEqual([alpha.width, alpha.height, alpha.channels], [40, 30, 1]);
    const { k, scores } = await referenceScores(personCkpt, img);
    assert.equal(k, 1);
    const want = Array.from(scores, (z) => 255 / (1 + Math.exp(-z)));
    let worst = 0;
    for (let p = 0; p < n; p++) worst = Math.max(worst, Math.abs(alpha.data[p]! - want[p]!));
    t.diagnostic(`max |alpha − 255·sigmoid(logit)|: ${worst.toFixed(4)}`);
    assert.ok(worst <= 0.5 + 1e-3, `max |alpha − 255·sigmoid| = ${worst}`);
    assert.ok(alpha.data.some((v) => v < 5) && alpha.data.some((v) => v > 250), 'the fixture has clear person and background pixels');
    const label = await decodeLabel(join(out, 'labels', 'img_02.png'));
    for (let p = 0; p < n; p++) assert.equal(label.data[p], want[p]! > 127.5 ? 1 : 0, `label at ${p} is the 0.5 threshold`);

    const a = Float32Array.from(want, (v) => v / 255);
    const replaced = await decodeImage(join(out, 'replaced', 'img_02.jpg'));
    const green = Array.from(img.data, (v, i) => a[Math.floor(i / 3)]! * v + (1 - a[Math.floor(i / 3)]!) * [0, 255, 0][i % 3]!);
    const errReplaced = meanAbs(replaced.data, await viaJpeg(green, 40, 30));
    t.diagnostic(`mean |replaced − formula| after JPEG: ${errReplaced.toFixed(4)}`);
    assert.ok(errReplaced < 0.1, `mean |replaced − formula| = ${errReplaced.toFixed(3)} after the same JPEG encoding`);
    // The blur itself is checked against a float64 reference in test/segmenter/effects.test.ts; here:
    // the command applies it with the default radius (2% of 40 px → 1) and the model's matte.
    const blurred = await decodeImage(join(out, 'blur', 'img_02.jpg'));
    const errBlur = meanAbs(blurred.data, await viaJpeg(blurBackground(img, a, 1).data, 40, 30));
    const vsSharp = meanAbs(blurred.data, await viaJpeg(img.data, 40, 30));
    t.diagnostic(`mean |blur − expected| after JPEG: ${errBlur.toFixed(4)} (unblurred image: ${vsSharp.toFixed(2)})`);
    assert.ok(errBlur < 0.1 && vsSharp > 1, `mean |blur − expected| = ${errBlur.toFixed(3)}, vs the unblurred image ${vsSharp.toFixed(2)}`);
  });

  test('--background IMG: the image scaled to cover and centre-cropped behind the person', async (t) => {
    const bgFile = join(dir, 'beach.png');
    const bg = testImage(20, 10, 99);
    await writeFile(bgFile, await encodePng(bg));
    const out = join(dir, 'out-bg-image');
    assert.equal((await predict(t, join(folder, 'img_02.png'), '--checkpoint', personCkpt, '--out', out, '--background', bgFile)).code, 0);
    const img = inputs.get('img_02')!;
    const { scores } = await referenceScores(personCkpt, img);
    const got = await decodeImage(join(out, 'replaced', 'img_02.jpg'));
    const fitted = fitBackground(bg, 40, 30).data; // checked against hand values in effects.test.ts
    const want = Array.from(img.data, (v, i) => {
      const a = 1 / (1 + Math.exp(-scores[Math.floor(i / 3)]!));
      return a * v + (1 - a) * fitted[i]!;
    });
    const err = meanAbs(got.data, await viaJpeg(want, 40, 30));
    t.diagnostic(`mean |replaced − formula| after JPEG: ${err.toFixed(4)}`);
    assert.ok(err < 0.1, `mean |replaced − formula| = ${err.toFixed(3)} after the same JPEG encoding`);
  });

  test('--tta runs mmseg\'s six scales with flips', async (t) => {
    // 64×60: the 0.5 scale (32×30) stays above MiT's 29-pixel minimum.
    const file = join(dir, 'tta.png');
    const img = testImage(64, 60, 5);
    await writeFile(file, await encodePng(img));
    const out = join(dir, 'out-tta');
    assert.equal((await predict(t, file, '--checkpoint', ckpt, '--out', out, '--tta')).code, 0);
    const got = (await decodeLabel(join(out, 'labels', 'tta.png'))).data;
    const s = await createSegmenter(ckpt, { ratios: [0.5, 0.75, 1, 1.25, 1.5, 1.75], flip: true });
    try {
      assert.deepEqual([...got], [...(await s.segment(img)).labels]);
    } finally {
      await s.dispose();
    }
    const { k, scores } = await referenceScores(ckpt, img);
    const single = argmax(scores, k, 64 * 60);
    assert.ok(got.some((v, i) => v !== single[i]), 'the augmented prediction differs from the single view');
  });

  test('effects on a model without a person class, and bad options, are usage errors', async (t) => {
    const file = join(folder, 'img_00.png');
    await assert.rejects(predict(t, file, '--checkpoint', ckpt, '--blur'), (e: Error) => e instanceof UsageError && /need a person model \(binary, or with a 'person' class\); .*road\.safetensors predicts road, sign, car/.test(e.message));
    const usage: [string[], RegExp][] = [
      [[], /expected one image, folder or video, got none/],
      [[file, '--model', 'camvid', '--checkpoint', ckpt], /--model and --checkpoint exclude each other/],
      [[file, '--format', 'xml'], /--format must be png or json, got 'xml'/],
      [[file, '--background', '#12345'], /--background colour must be #rrggbb .* got '#12345'/],
      [[file, '--blur-radius', '3'], /--blur-radius applies to --blur/],
      [[file, '--threads', '0'], /--threads must be a positive integer, got '0'/],
      [[file, '--fast'], /unknown option '--fast'/],
    ];
    for (const [args, re] of usage) await assert.rejects(predictCommand.run(args), (e: Error) => e instanceof UsageError && re.test(e.message), args.join(' '));
    const notes = join(dir, 'notes.txt');
    await writeFile(notes, 'hello');
    await assert.rejects(predictCommand.run([notes]), /'.*notes\.txt' is neither an image \(\.jpg, \.jpeg, \.png, \.webp\), a video \(\.mp4, .*\.y4m\) nor a folder/);
    await assert.rejects(predictCommand.run([join(dir, 'missing.png')]), /no such file or folder: .*missing\.png/);
    // An unknown model name lists the shipped ones.
    await assert.rejects(predictCommand.run([file, '--model', 'nope']), /no model 'nope': not a shipped model \(camvid[,)]/);
    const clash = join(dir, 'clash');
    await mkdir(clash);
    await writeFile(join(clash, 'a.png'), await encodePng(testImage(40, 30, 1)));
    await writeFile(join(clash, 'a.jpg'), await encodeImage(testImage(40, 30, 1), 'jpeg'));
    await assert.rejects(predictCommand.run([clash, '--checkpoint', ckpt]), /a\.jpg and a\.png in .* would write the same outputs \('a'\)/);
  });

  test('video without ffmpeg on PATH: an error that says to install it', async () => {
    const video = join(dir, 'clip.mp4');
    await writeFile(video, 'not decoded: ffmpeg is missing');
    const empty = join(dir, 'empty-bin');
    await mkdir(empty, { recursive: true });
    const path = process.env.PATH;
    process.env.PATH = empty;
    try {
      await assert.rejects(predictCommand.run([video, '--checkpoint', ckpt]), /video needs ffmpeg, but 'ffmpeg' was not found on PATH; install ffmpeg \(e\.g\. 'apt-get install ffmpeg'/);
    } finally {
      process.env.PATH = path;
    }
    await assert.rejects(predictCommand.run([video, '--format', 'json']), /--format json is for images/);
    await assert.rejects(predictCommand.run([video, '--blur', '--alpha']), /a video gets one effect; choose one of --alpha, --blur/);
  });

  test('parseVideoInfo reads the raw output stream of ffmpeg 7 at -loglevel info', () => {
    const head = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'clip.mp4':
  Duration: 00:00:01.00, start: 0.000000, bitrate: 21 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 64x48 [SAR 1:1 DAR 4:3], 14 kb/s, 29.97 fps, 29.97 tbr, 10240 tbn (default)
Stream mapping:
  Stream #0:0 -> #0:0 (h264 (native) -> rawvideo (native))
`;
    const output = `Output #0, rawvideo, to 'pipe:1':
  Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/unknown/unknown, progressive), 48x64 [SAR 1:1 DAR 3:4], q=2-31, 368 kb/s, 29.97 fps, 30k tbn (default)
`;
    assert.equal(parseVideoInfo(head), undefined, 'not yet: the output stream is what counts');
    // The output size wins (here ffmpeg rotated a portrait phone video).
    assert.deepEqual(parseVideoInfo(head + output), { width: 48, height: 64, fps: 29.97 });
    assert.deepEqual(parseVideoInfo(head + output.replace('29.97 fps, ', '')), { width: 48, height: 64, fps: 29.97 }, 'fps from the input stream');
  });

  test('video through ffmpeg: overlay frames and a person effect, one frame at a time', { skip: hasFfmpeg ? false : 'ffmpeg is not installed' }, async (t) => {
    const clip = join(dir, 'test.mp4');
    const odd = join(dir, 'odd.y4m');
    const gen = (args: string[]) => assert.equal(spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', ...args]).status, 0);
    gen(['-i', 'testsrc=size=64x48:rate=5', '-t', '1', '-pix_fmt', 'yuv420p', clip]);
    gen(['-i', 'testsrc=size=63x47:rate=5', '-t', '1', '-pix_fmt', 'yuv444p', odd]);
    const out = join(dir, 'out-video');
    const r = await predict(t, clip, '--checkpoint', ckpt, '--out', out);
    assert.equal(r.code, 0);
    assert.match(r.out, /wrote .*test\.mp4 \(5 frames, 64×48, 5 fps\)/);
    const frames = async (file: string) => {
      const reader = await VideoReader.open(file);
      const all: Uint8Array[] = [];
      for await (const f of reader.frames()) all.push(f);
      return { info: reader.info, all };
    };
    const src = await frames(clip);
    const got = await frames(join(out, 'test.mp4'));
    assert.deepEqual(got.info, { width: 64, height: 48, fps: 5 });
    assert.equal(got.all.length, 5);
    // Frame 0 against the overlay formula on the segmentation of the decoded input frame.
    const seg = await referenceScores(ckpt, { data: src.all[0]!, width: 64, height: 48, channels: 3 });
    const lab = argmax(seg.scores, seg.k, 64 * 48);
    const want = Array.from(src.all[0]!, (v, i) => 0.5 * v + 0.5 * PALETTE[lab[Math.floor(i / 3)]!]![i % 3]!);
    const err = meanAbs(got.all[0]!, want);
    t.diagnostic(`mean |frame − overlay| through H.264: ${err.toFixed(2)}`);
    const raw = meanAbs(got.all[0]!, src.all[0]!);
    assert.ok(err < 8 && raw > 2 * err, `mean |frame − overlay| = ${err.toFixed(2)} (H.264, 4:2:0 chroma); vs the input frame ${raw.toFixed(2)}`);

    const r2 = await predict(t, odd, '--checkpoint', personCkpt, '--out', out, '--background', '#0000ff');
    assert.equal(r2.code, 0);
    const person = await frames(join(out, 'odd.mp4'));
    assert.deepEqual([person.info.width, person.info.height, person.all.length], [64, 48, 5], 'odd sizes padded to even');
    // Frame 0 (no earlier matte to smooth with): the person over blue, in the 63×47 corner.
    const first = (await frames(odd)).all[0]!;
    const p0 = await referenceScores(personCkpt, { data: first, width: 63, height: 47, channels: 3 });
    const blue = Array.from(first, (v, i) => {
      const a = 1 / (1 + Math.exp(-p0.scores[Math.floor(i / 3)]!));
      return a * v + (1 - a) * [0, 0, 255][i % 3]!;
    });
    const crop = Uint8Array.from({ length: 63 * 47 * 3 }, (_, i) => person.all[0]![(Math.floor(i / 189) * 64 + (Math.floor(i / 3) % 63)) * 3 + (i % 3)]!);
    const errBlue = meanAbs(crop, blue);
    t.diagnostic(`mean |frame − person over blue| through H.264: ${errBlue.toFixed(2)}`);
    assert.ok(errBlue < 8 && meanAbs(crop, first) > 2 * errBlue, `mean |frame − person over blue| = ${errBlue.toFixed(2)}; vs the input frame ${meanAbs(crop, first).toFixed(2)}`);
    assert.deepEqual((await readdir(out)).sort(), ['odd.mp4', 'test.mp4'], 'no temporary files left');
  });
});
