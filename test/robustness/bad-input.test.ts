// The bad-input suite: every way a user's files can be wrong (truncated or corrupt images, empty and
// tiny and huge images, bad labels and lists, non-finite values, bad configs, checkpoints that do not
// fit, broken weight files, non-ONNX bytes) must end in a clear error naming the file and the
// problem, or in a documented recovery — never a hang (every test has a timeout) and never a
// dependency's message alone. README.md beside this file tabulates the cases and the messages.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { DataError } from '../../src/data/errors.js';
import { DEFAULT_MAX_PIXELS, decodeImage, decodeLabel, nodeCodec } from '../../src/data/image-node.js';
import { createFolder } from '../../src/data/sources/folder.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { argmaxChannels, labelsFromScores } from '../../src/inference/scores.js';
import { readTorchCheckpoint } from '../../src/io/pth-node.js';
import { readSafetensorsFile } from '../../src/io/safetensors-node.js';
import { createModel } from '../../src/models/index.js';
import { compileModule } from '../../src/nn/compile.js';
import { manualSeed } from '../../src/nn/init.js';
import { createSegmenter } from '../../src/segmenter/node.js';
import { Segmenter } from '../../src/segmenter/segmenter.js';
import type { Checkpoint } from '../../src/train/checkpoint-format.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { checkTrainConfig, loadTrainConfig } from '../../src/train/config.js';
import { BUILTIN_CONFIGS } from '../../src/train/configs/index.js';
import { pngGrey, pngRgb, tempDir, textureImage, writeBytes } from '../data/helpers.js';

/** Per-test limit: a case that hangs fails instead of stalling the suite. */
const T = { timeout: 20_000 };
const tmp = tempDir('segkit-bad-input-');
after(() => tmp.cleanup());
const file = (name: string, bytes: Uint8Array | string): string => {
  const p = join(tmp.dir, name);
  writeBytes(p, typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
  return p;
};

/** Awaits a rejection and returns its message after checking the error's class. */
async function rejects(p: Promise<unknown> | (() => unknown), cls: new (...a: never[]) => Error = Error): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    assert.ok(e instanceof cls, `expected a ${cls.name}, got ${(e as Error).name}: ${(e as Error).message}`);
    return (e as Error).message;
  }
  assert.fail('expected an error, got none');
}

const [W, H] = [16, 12];
const rgb = textureImage(W, H, 3);
const raw = (c: number) => ({ raw: { width: W, height: H, channels: c as 1 | 3 | 4 } });
const encoded = {
  png: () => sharp(rgb, raw(3)).png().toBuffer(),
  jpeg: () => sharp(rgb, raw(3)).jpeg().toBuffer(),
  webp: () => sharp(rgb, raw(3)).webp().toBuffer(),
};

/** A 12000×9000 PNG, written once: blank and highly compressed, ~300 kB on disk for 108 megapixels (324 MB as RGB). */
let huge: Promise<string> | undefined;
const hugePng = (): Promise<string> =>
  (huge ??= sharp({ create: { width: 12000, height: 9000, channels: 3, background: { r: 9, g: 9, b: 9 } } })
    .png({ compressionLevel: 9 })
    .toBuffer()
    .then((b) => file('huge.png', b)));

// A tiny SegFormer (3 classes) whose minimum input, by its 8×8 spatial-reduction kernel at stride 4, is 29 px.
const options = { encoder: 'mit-b0', decoderHiddenSize: 32, numClasses: 3 };
function checkpoint(model = createModel('segformer', options)): Checkpoint {
  return { meta: { format: 'segkit-checkpoint/1', iteration: 0, model: { name: 'segformer', options }, classes: ['a', 'b', 'c'] }, model: model.stateDict(), optimizer: {} };
}

describe('bad images', () => {
  for (const fmt of ['png', 'jpeg', 'webp'] as const) {
    test(`truncated ${fmt}: names the file, the format and its size, on one line`, T, async () => {
      const b = await encoded[fmt]();
      const p = file(`trunc.${fmt}`, b.subarray(0, b.length >> 1));
      const m = await rejects(decodeImage(p), DataError);
      assert.ok(m.startsWith(`cannot decode ${fmt === 'jpeg' ? 'JPEG' : fmt.toUpperCase()} ${p} (${b.length >> 1} bytes; truncated or corrupt?): `), m);
      assert.ok(!m.includes('\n'), `libvips' repeated warnings should be folded into one line: ${m}`);
    });

    test(`corrupt ${fmt} (payload bytes flipped): a DataError naming the file`, T, async () => {
      const b = new Uint8Array(await encoded[fmt]());
      for (let i = 30; i < b.length - 8; i++) b[i] ^= 0x5a;
      const p = file(`corrupt.${fmt}`, b);
      const m = await rejects(decodeImage(p), DataError);
      assert.match(m, new RegExp(`^cannot decode ${fmt.toUpperCase()} ${p} \\(${b.length} bytes; truncated or corrupt\\?\\): .+`));
    });
  }

  test('zero-size file and a text file named .png: "not a PNG, JPEG or WebP file" with its first bytes', T, async () => {
    const empty = file('empty.png', new Uint8Array(0));
    assert.equal(await rejects(decodeImage(empty), DataError), `cannot decode ${empty}: not a PNG, JPEG or WebP file (0 bytes, starts with (empty))`);
    const text = file('text.png', 'hello world');
    assert.equal(await rejects(decodeImage(text), DataError), `cannot decode ${text}: not a PNG, JPEG or WebP file (11 bytes, starts with 68 65 6c 6c 6f 20 77 6f)`);
  });

  test('a missing file and a folder: DataError naming the path', T, async () => {
    const p = join(tmp.dir, 'nope.jpg');
    assert.equal(await rejects(decodeImage(p), DataError), `missing file: ${p} does not exist`);
    assert.equal(await rejects(decodeImage(tmp.dir), DataError), `expected an image file but ${tmp.dir} is a directory`);
  });

  test('grey PNG is expanded to RGB; RGBA PNG has its alpha dropped (documented recovery)', T, async () => {
    const grey = Uint8Array.from({ length: W * H }, (_, i) => (i * 37) % 256);
    const g = await decodeImage(await sharp(grey, raw(1)).toColourspace('b-w').png().toBuffer());
    assert.deepEqual([g.width, g.height, g.channels], [W, H, 3]);
    for (let i = 0; i < W * H * 3; i++) assert.equal(g.data[i], grey[Math.floor(i / 3)], `grey pixel ${Math.floor(i / 3)}`);
    const rgba = Uint8Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? (i * 13) % 256 : rgb[Math.floor(i / 4) * 3 + (i % 4)]!));
    const a = await decodeImage(await sharp(rgba, raw(4)).png().toBuffer());
    assert.equal(a.channels, 3);
    assert.deepEqual(a.data, rgb);
  });

  test(`a 12000×9000 PNG is refused before decoding (limit ${DEFAULT_MAX_PIXELS} px); maxPixels is exact`, T, async () => {
    const p = await hugePng();
    const m = await rejects(decodeImage(p), DataError);
    assert.equal(m, `image ${p} is 12000×9000 (108.0 megapixels), over the decode limit of 100000000 pixels; downscale it, or raise the limit with the maxPixels option`);
    // The limit is W·H inclusive: 16×12 = 192 pixels.
    assert.equal((await decodeImage(await encoded.png(), { maxPixels: 192 })).width, W);
    assert.match(await rejects(decodeImage(await encoded.png(), { maxPixels: 191, name: 'small.png' }), DataError), /^image small\.png is 16×12 \(0\.0 megapixels\), over the decode limit of 191 pixels/);
    assert.match(await rejects(decodeImage(p, { maxPixels: 0 }), RangeError), /maxPixels must be a positive integer, got 0/);
  });

  test('a 12000×9000 label map is refused the same way, from its PNG header', T, async () => {
    const p = await hugePng();
    const m = await rejects(decodeLabel(p), DataError);
    assert.equal(m, `label ${p} is 12000×9000 (108.0 megapixels), over the decode limit of 100000000 pixels; downscale it, or raise the limit with the maxPixels option`);
    const grey = await sharp(Buffer.alloc(W * H, 1), raw(1)).png().toBuffer();
    assert.equal((await decodeLabel(grey, { maxPixels: 192 })).width, W);
    assert.match(await rejects(decodeLabel(grey, { maxPixels: 191, name: 'l.png' }), DataError), /^label l\.png is 16×12 \(0\.0 megapixels\), over the decode limit of 191 pixels/);
  });
});

describe('bad datasets', () => {
  const root = join(tmp.dir, 'ds');
  before(async () => {
    mkdirSync(join(root, 'splits'), { recursive: true });
    writeBytes(join(root, 'images/ok.png'), await pngRgb(rgb, W, H));
    writeBytes(join(root, 'masks/ok.png'), await pngGrey(new Uint8Array(W * H).fill(1), W, H));
    writeBytes(join(root, 'images/badval.png'), await pngRgb(rgb, W, H));
    const labels = new Uint8Array(W * H).fill(2);
    labels[3 * W + 5] = 7;
    writeBytes(join(root, 'masks/badval.png'), await pngGrey(labels, W, H));
    writeBytes(join(root, 'images/small.png'), await pngRgb(rgb, W, H));
    writeBytes(join(root, 'masks/small.png'), await pngGrey(new Uint8Array(W * (H - 2)), W, H - 2));
    const jpg = await encoded.jpeg();
    writeBytes(join(root, 'images/trunc.jpg'), jpg.subarray(0, 100));
    writeBytes(join(root, 'masks/trunc.png'), await pngGrey(new Uint8Array(W * H), W, H));
    writeFileSync(join(root, 'splits/train.txt'), 'ok\nbadval\nsmall\ntrunc\n');
  });
  const ds = () => createFolder({ root, split: 'train', numClasses: 3 });

  test('a label value outside the label set: names the file, value, position and allowed values', T, async () => {
    assert.equal((await ds().load(0)).label[0], 1);
    assert.equal(await rejects(ds().load(1), DataError), `label ${join(root, 'masks/badval.png')} has value 7 at (x=5, y=3); folder:${root} label files hold 0–2 and 255 (255 = ignore)`);
  });

  test('image/label size mismatch: both files and both sizes', T, async () => {
    assert.equal(
      await rejects(ds().load(2), DataError),
      `size mismatch: image ${join(root, 'images/small.png')} is 16×12 but label ${join(root, 'masks/small.png')} is 16×10 (width×height); they must be equal`,
    );
  });

  test('a truncated image inside a dataset: the decode error names that image', T, async () => {
    const e = await ds().load(3).catch((x: unknown) => x);
    assert.ok(e instanceof DataError && e.kind === 'corrupt' && e.file === join(root, 'images/trunc.jpg'), String(e));
    assert.ok(e.message.startsWith(`cannot decode JPEG ${join(root, 'images/trunc.jpg')} (100 bytes; truncated or corrupt?)`), e.message);
  });

  test('an empty split file, and split "all" over an empty image folder: clear error at creation', T, async () => {
    writeFileSync(join(root, 'splits/empty.txt'), '\n# nothing yet\n\n');
    assert.equal(
      await rejects(() => createFolder({ root, split: 'empty', numClasses: 3 }), DataError),
      `folder: split 'empty' is empty: split file ${join(root, 'splits/empty.txt')} lists no samples (only blank or '#' lines); a dataset needs at least one image/mask pair`,
    );
    mkdirSync(join(root, 'noimages'), { recursive: true });
    assert.equal(
      await rejects(() => createFolder({ root, split: 'all', imageDir: 'noimages', numClasses: 3 }), DataError),
      `folder: split 'all' is empty: ${join(root, 'noimages')} holds no .jpg, .png or .webp images; a dataset needs at least one image/mask pair`,
    );
  });

  test('wrong list-file lines (current behaviour): the file, the line and what is expected', T, async () => {
    writeFileSync(join(root, 'splits/three.txt'), 'ok\nok masks/ok.png extra\n');
    assert.equal(await rejects(() => createFolder({ root, split: 'three', numClasses: 3 }), DataError), `${join(root, 'splits/three.txt')}: expected a stem or 'image_path mask_path' per line, got 'ok masks/ok.png extra'`);
    writeFileSync(join(root, 'splits/mixed.txt'), 'ok\nimages/ok.png masks/ok.png\n');
    assert.equal(await rejects(() => createFolder({ root, split: 'mixed', numClasses: 3 }), DataError), `${join(root, 'splits/mixed.txt')} line 1: expected 'image_path label_path', got 'ok'`);
    writeFileSync(join(root, 'splits/ghost.txt'), 'ghost\n');
    assert.equal(await rejects(createFolder({ root, split: 'ghost', numClasses: 3 }).load(0), DataError), `missing file: ${join(root, 'images/ghost.jpg')} does not exist`);
  });
});

describe('segmenter inputs and non-finite values', () => {
  let seg: Segmenter;
  before(() => {
    manualSeed(11);
    seg = Segmenter.fromCheckpoint(checkpoint(), nodeCodec, nodeRuntime, { threads: 1 }, 'tiny.safetensors');
  });
  after(async () => seg.dispose());

  test('segment(path) of a truncated JPEG, a zero-size file and a huge PNG: the decode errors name the path', T, async () => {
    const b = await encoded.jpeg();
    const p = file('seg-trunc.jpg', b.subarray(0, 120));
    assert.match(await rejects(seg.segment(p), DataError), new RegExp(`^cannot decode JPEG ${p} \\(120 bytes; truncated or corrupt\\?\\)`));
    const z = file('seg-empty.webp', new Uint8Array(0));
    assert.match(await rejects(seg.segment(z), DataError), new RegExp(`^cannot decode ${z}: not a PNG, JPEG or WebP file \\(0 bytes`));
    const big = await hugePng();
    assert.match(await rejects(seg.segment(big), DataError), new RegExp(`^image ${big} is 12000×9000 \\(108\\.0 megapixels\\), over the decode limit of 100000000 pixels`));
  });

  test('a 1×1 (and 28×28) image on SegFormer: too small for the model, minimum 29×29; 29×29 works', T, async () => {
    const img = (s: number) => ({ data: new Uint8Array(s * s * 3).fill(90), width: s, height: s, channels: 3 });
    assert.match(await rejects(seg.segment(img(1))), /^MixTransformer: input 1×1 is too small: .*; inputs need at least 29×29$/);
    assert.match(await rejects(seg.segment(img(28))), /^MixTransformer: input 28×28 is too small: .*inputs need at least 29×29$/);
    const ok = await seg.segment(img(29));
    assert.equal(ok.labels.length, 29 * 29);
    // Through a 1×1 PNG file: the same error (decoding a 1×1 image is fine).
    const p = file('one.png', await sharp(new Uint8Array(3), { raw: { width: 1, height: 1, channels: 3 } }).png().toBuffer());
    assert.match(await rejects(seg.segment(p)), /input 1×1 is too small.*at least 29×29/);
  });

  test('wrong pixel buffers: empty image, channel count, data length', T, async () => {
    assert.equal(await rejects(seg.segment({ data: new Uint8Array(0), width: 0, height: 5, channels: 3 })), 'Segmenter.segment: image is 0×5; expected a non-empty image');
    assert.equal(
      await rejects(seg.segment({ data: new Uint8Array(40 * 40 * 2), width: 40, height: 40, channels: 2 })),
      'Segmenter.segment: expected 40×40 pixels with 1, 3 or 4 channels (3200 values), got 3200 values and 2 channels',
    );
  });

  test('NaN logits → argmax / threshold throw naming the class and pixel', T, () => {
    const x = new HostTensor(Float32Array.from([0, 1, 2, 3, 4, NaN]), [1, 2, 1, 3]);
    assert.throws(() => argmaxChannels(x), { message: 'argmaxChannels: score of class 1 at image 0, pixel 2 is NaN' });
    assert.throws(() => labelsFromScores(new HostTensor(Float32Array.from([0.2, NaN]), [1, 1, 1, 2]), 'logits'), { message: 'labelsFromScores: score at element 1 is NaN' });
  });

  test('a NaN in a model input tensor propagates to NaN logits, which argmax refuses', T, async () => {
    manualSeed(2);
    const model = createModel('segformer', options);
    model.eval();
    const f = compileModule(model, { runtime: nodeRuntime, threads: 1 });
    try {
      const x = new Float32Array(3 * 32 * 32);
      x[100] = NaN;
      const logits = (await f.run(new HostTensor(x, [1, 3, 32, 32]))) as HostTensor;
      assert.ok(logits.f32.some(Number.isNaN), 'a NaN input should poison the logits (attention mixes every position)');
      assert.throws(() => argmaxChannels(logits), { message: /^argmaxChannels: score of class \d+ at image 0, pixel \d+ is NaN$/ });
    } finally {
      await f.dispose();
    }
  });

  test('a checkpoint with a NaN or Inf weight is refused at creation, naming the file and the weight', T, () => {
    const c = checkpoint();
    const key = 'decodeHead.classifier.bias' in c.model ? 'decodeHead.classifier.bias' : Object.keys(c.model).at(-1)!;
    c.model[key]!.f32[1] = Number.NaN;
    assert.throws(() => Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, {}, 'diverged.safetensors'), {
      message: `diverged.safetensors: weight '${key}' holds NaN at element 1; a checkpoint with non-finite weights cannot segment (did training diverge?)`,
    });
    c.model[key]!.f32[1] = -Infinity;
    assert.throws(() => Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, {}, 'diverged.safetensors'), /holds -Infinity at element 1/);
  });
});

describe('configs', () => {
  const base = () => structuredClone(Object.values(BUILTIN_CONFIGS)[0]!) as unknown as Record<string, Record<string, unknown>>;

  test('unknown keys and wrong types name the path, the value and what is valid', T, () => {
    const cases: [(c: Record<string, Record<string, unknown>>) => void, string][] = [
      [(c) => (c.optimizer!.lr = '0.01'), 'optimizer.lr: expected a number, got "0.01"'],
      [(c) => (c.train!.itres = 5), "train.itres: unknown key (did you mean 'iters'?)"],
      [(c) => (c.model!.name = 42), 'model.name: expected a string, got 42'],
      [(c) => (c.train!.iters = -3), 'train.iters: expected an integer ≥ 1, got -3'],
    ];
    for (const [edit, want] of cases) {
      const c = base();
      edit(c);
      assert.throws(() => checkTrainConfig(c, 'my.json'), (e: Error) => {
        assert.ok(e.message.startsWith(`my.json: invalid training config:\n  ${want}`), `${e.message}\nshould list ${want}`);
        return true;
      });
    }
    assert.throws(() => checkTrainConfig(null, 'my.json'), { message: 'my.json: invalid training config:\n  (config): expected an object, got null' });
  });

  test('a config file that is not JSON, or not an object: the file and the problem', T, () => {
    const p = file('cfg.json', '{ "model": ');
    assert.throws(() => loadTrainConfig(p, BUILTIN_CONFIGS), (e: Error) => e.message.startsWith(`${p}: not valid JSON: `));
    const q = file('arr.json', '[1, 2]');
    assert.throws(() => loadTrainConfig(q, BUILTIN_CONFIGS), { message: `${q}: invalid training config:\n  expected a JSON object, got [1,2]` });
  });
});

describe('checkpoints and weight files', () => {
  // Weights of a 5-class SegFormer under metadata that declares 3 classes.
  let misfit: string;
  before(async () => {
    manualSeed(3);
    const wrong = checkpoint(createModel('segformer', { ...options, numClasses: 5 }));
    misfit = join(tmp.dir, 'misfit.safetensors');
    await saveCheckpoint(misfit, wrong);
  });

  test('loadStateDict lists shape mismatches, then missing and unexpected keys', T, () => {
    const three = createModel('segformer', options);
    const five = createModel('segformer', { ...options, numClasses: 5 });
    assert.throws(() => three.loadStateDict(five.stateDict()), (e: Error) => {
      assert.match(e.message, /^loadStateDict: 2 shape\/dtype mismatches:\n {2}/);
      assert.match(e.message, /\.weight: checkpoint \[5, 32, 1, 1\] float32, model \[3, 32, 1, 1\] float32/);
      assert.match(e.message, /\.bias: checkpoint \[5\] float32, model \[3\] float32/);
      return true;
    });
    const other = createModel('segformer', { ...options, encoder: 'mit-b1' });
    // Another encoder: nearly every tensor differs; the list stops at 30 and says how many there are.
    assert.throws(() => three.loadStateDict(other.stateDict()), (e: Error) => {
      const lines = e.message.split('\n');
      assert.match(lines[0]!, /^loadStateDict: (\d+) shape\/dtype mismatches:$/);
      const n = Number(/(\d+)/.exec(lines[0]!)![1]);
      assert.ok(n > 30, `mit-b1 vs mit-b0 should differ in many tensors, got ${n}`);
      assert.equal(lines.length, 32, 'header + 30 entries + the "… and N more" line');
      assert.equal(lines[31], `  … and ${n - 30} more`);
      return true;
    });
    const sd = three.stateDict();
    const [first] = Object.keys(sd);
    const renamed = Object.fromEntries(Object.entries(sd).map(([k, v]) => [k === first ? `module.${k}` : k, v]));
    assert.throws(() => three.loadStateDict(renamed), { message: `loadStateDict: keys do not match the model (pass { strict: false } to load what matches)\n  missing (1): ${first}\n  unexpected (1): module.${first}` });
  });

  test('createSegmenter on a checkpoint whose tensors do not fit its declared model names the file', T, async () => {
    const m = await rejects(createSegmenter(misfit, { threads: 1 }));
    assert.ok(m.startsWith(`${misfit}: its weights do not fit the model it declares (segformer {"encoder":"mit-b0","decoderHiddenSize":32,"numClasses":3}): loadStateDict: 2 shape/dtype mismatches`), m);
  });

  test('segkit eval on that checkpoint names the file too', T, async (t: TestContext) => {
    const root = join(tmp.dir, 'evalds');
    writeBytes(join(root, 'images/a.png'), await pngRgb(textureImage(32, 32), 32, 32));
    writeBytes(join(root, 'masks/a.png'), await pngGrey(new Uint8Array(32 * 32), 32, 32));
    mkdirSync(join(root, 'splits'), { recursive: true });
    writeFileSync(join(root, 'splits/val.txt'), 'a\n');
    writeFileSync(join(root, 'classes.txt'), 'a\nb\nc\n');
    t.mock.method(console, 'log', () => {});
    const m = await rejects(evalCommand.run([misfit, '--data', 'folder', '--data-root', root, '--threads', '1']));
    assert.ok(m.startsWith(`${misfit}: its weights do not fit the model it declares`), m);
  });

  test('truncated, empty and inconsistent safetensors: the file and the problem', T, async () => {
    const good = readFileSync(misfit);
    const cut = file('cut.safetensors', good.subarray(0, good.length - 5));
    assert.match(await rejects(readSafetensorsFile(cut)), new RegExp(`^${cut}: tensor '.+' has data_offsets \\[\\d+, \\d+\\] out of range; expected begin <= end <= \\d+ \\(the buffer size\\)$`));
    const head = file('head.safetensors', good.subarray(0, 20));
    assert.match(await rejects(readSafetensorsFile(head)), new RegExp(`^${head}: header length \\d+ is larger than the 12 bytes that follow it; file truncated or not safetensors$`));
    const zero = file('zero.safetensors', new Uint8Array(0));
    assert.equal(await rejects(readSafetensorsFile(zero)), `${zero}: file is 0 bytes, shorter than the 8-byte header length that starts a safetensors file`);
    const st = (name: string, header: unknown, dataBytes: number) => {
      let json = JSON.stringify(header);
      json += ' '.repeat((8 - (json.length % 8)) % 8);
      const out = Buffer.alloc(8 + json.length + dataBytes);
      out.writeBigUint64LE(BigInt(json.length));
      out.write(json, 8);
      return file(name, out);
    };
    const ov = st('overlap.safetensors', { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, 24);
    assert.equal(await rejects(readSafetensorsFile(ov)), `${ov}: tensor 'b' data_offsets [8, 24] overlap tensor 'a' (ends at 16); expected it to start at 16`);
    const oob = st('oob.safetensors', { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [8], data_offsets: [16, 48] } }, 32);
    assert.equal(await rejects(readSafetensorsFile(oob)), `${oob}: tensor 'b' has data_offsets [16, 48] out of range; expected begin <= end <= 32 (the buffer size)`);
    const size = st('size.safetensors', { a: { dtype: 'F32', shape: [5], data_offsets: [0, 16] } }, 16);
    assert.equal(await rejects(readSafetensorsFile(size)), `${size}: tensor 'a' spans 16 bytes but shape [5] of F32 needs 20 (5 x 4 bytes)`);
    const huge = Buffer.alloc(16);
    huge.writeBigUint64LE(1n << 40n);
    const hp = file('huge-header.safetensors', huge);
    assert.equal(await rejects(readSafetensorsFile(hp)), `${hp}: header length 1099511627776 is absurd (over 100000000 bytes); not a safetensors file or corrupt`);
  });

  test('truncated and empty .pth files (ZIP and legacy): the file and "truncated"', T, async () => {
    const zip = readFileSync(join(import.meta.dirname, '../fixtures/pth/tiny-zip.pth'));
    const z1 = file('z1.pth', zip.subarray(0, 10));
    assert.equal(await rejects(readTorchCheckpoint(z1)), `${z1}: 10 bytes is too short for a ZIP archive (the end record alone is 22); file truncated?`);
    const z2 = file('z2.pth', zip.subarray(0, zip.length >> 1));
    assert.equal(await rejects(readTorchCheckpoint(z2)), `${z2}: no ZIP end-of-central-directory record at the end of the file; the file is truncated or not a ZIP archive`);
    const leg = readFileSync(join(import.meta.dirname, '../fixtures/pth/tiny-legacy.pth'));
    const l1 = file('l1.pth', leg.subarray(0, leg.length >> 1));
    assert.match(await rejects(readTorchCheckpoint(l1)), new RegExp(`^${l1}: legacy object pickle, byte \\d+ \\(pickle opcode \\w+\\): the pickle ends without a STOP opcode; the file is truncated$`));
    const l2 = file('l2.pth', leg.subarray(0, leg.length - 30));
    assert.match(await rejects(readTorchCheckpoint(l2)), new RegExp(`^${l2}: storage '\\d+': .*the file is truncated$`));
    const e = file('e.pth', new Uint8Array(0));
    assert.equal(await rejects(readTorchCheckpoint(e)), `${e}: the file is empty`);
  });

  test('bytes that are not ONNX: createSession says what it was given and what it expected', T, async () => {
    const garbage = new TextEncoder().encode('this is not an onnx model');
    const m = await rejects(nodeRuntime.createSession(garbage));
    assert.ok(m.startsWith('onnxruntime-node: cannot create a session from 25 bytes of model (starts with 74 68 69 73 20 69 73 20); expected a serialized ONNX ModelProto: '), m);
    assert.match(await rejects(nodeRuntime.createSession(new Uint8Array(0))), /^onnxruntime-node: cannot create a session from 0 bytes of model \(starts with \(empty\)\); expected a serialized ONNX ModelProto: /);
  });
});
