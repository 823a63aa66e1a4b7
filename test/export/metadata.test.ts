// What an export says about itself: metadata_props (read back with segkit's reader) and the
// transformers.js sidecars written next to the file, checked against the checkpoint's classes and
// palette, ImageNet's mean/std (the SegFormer normalisation) and package.json's version; the input
// size chosen from the config's fixed validation Resize, from the default, or from --input.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { contractFromMetadata } from '../../src/export/contract.js';
import { writeExport } from '../../src/export/export-files.js';
import { exportCheckpoint } from '../../src/export/export-model.js';
import { resolveInputShape } from '../../src/export/input-size.js';
import { readOnnx } from '../../src/export/onnx-read.js';
import { REPO, tempDir } from '../data/helpers.js';
import { TINY_CLASSES, TINY_PALETTE, tinyCheckpoint } from './helpers.js';

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const config = { data: { valPipeline: [{ type: 'Resize', scale: [48, 32], keepRatio: false }, { type: 'Normalize' }] } };

describe('export metadata and sidecars', () => {
  test('metadata_props, config.json and preprocessor_config.json describe the checkpoint', async () => {
    const tmp = tempDir('segkit-export-meta-');
    try {
      const ckpt = tinyCheckpoint({ config });
      const e = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads: 1, head: 'labels', segkitVersion: VERSION });
      const files = await writeExport(join(tmp.dir, 'out', 'model.onnx'), e);
      const meta = new Map(readOnnx(readFileSync(files.onnx)).metadata);
      assert.deepEqual(JSON.parse(meta.get('classes')!), TINY_CLASSES);
      assert.deepEqual(JSON.parse(meta.get('palette')!), TINY_PALETTE);
      assert.deepEqual(JSON.parse(meta.get('mean')!), IMAGENET.mean);
      assert.deepEqual(JSON.parse(meta.get('std')!), IMAGENET.std);
      // The config's Resize scale is [width, height]: 48 wide, 32 high.
      assert.deepEqual(JSON.parse(meta.get('input_shape')!), [1, 3, 32, 48]);
      assert.deepEqual([meta.get('input_name'), meta.get('input_layout'), meta.get('input_dtype')], ['pixel_values', 'NCHW', 'float32']);
      assert.deepEqual([meta.get('head'), meta.get('output_name'), meta.get('output_dtype'), meta.get('output_shape')], ['labels', 'labels', 'uint8', '[1,32,48]']);
      assert.deepEqual([meta.get('segkit_version'), meta.get('model_name'), meta.get('weights')], [VERSION, 'segformer', 'float32']);
      assert.deepEqual(JSON.parse(meta.get('model_options')!), ckpt.meta.model.options);
      assert.deepEqual(JSON.parse(meta.get('resize')!), [32, 48]);
      assert.deepEqual(contractFromMetadata([...meta]), e.contract);

      const cfg = JSON.parse(readFileSync(files.config, 'utf8'));
      assert.equal(cfg.model_type, 'segformer');
      assert.equal(cfg.num_labels, 4);
      assert.deepEqual(cfg.id2label, { 0: 'sky', 1: 'road', 2: 'car', 3: 'tree' });
      assert.deepEqual(cfg.label2id, { sky: 0, road: 1, car: 2, tree: 3 });
      assert.deepEqual([cfg.segkit.palette, cfg.segkit.mean, cfg.segkit.std, cfg.segkit.head, cfg.segkit.version], [TINY_PALETTE, IMAGENET.mean, IMAGENET.std, 'labels', VERSION]);

      const pre = JSON.parse(readFileSync(files.preprocessor, 'utf8'));
      assert.deepEqual(pre.size, { height: 32, width: 48 });
      assert.deepEqual([pre.do_resize, pre.do_rescale, pre.rescale_factor, pre.do_normalize], [true, true, 1 / 255, true]);
      assert.deepEqual([pre.image_mean, pre.image_std], [IMAGENET.mean, IMAGENET.std]);
    } finally {
      tmp.cleanup();
    }
  });

  test('--uint8: NHWC in the metadata; the preprocessor neither rescales nor normalises', async () => {
    const tmp = tempDir('segkit-export-meta-');
    try {
      const e = await exportCheckpoint(tinyCheckpoint(), { runtime: nodeRuntime, threads: 1, input: '1x3x40x56', uint8: true });
      const files = await writeExport(join(tmp.dir, 'u8.onnx'), e);
      const meta = new Map(readOnnx(readFileSync(files.onnx)).metadata);
      assert.deepEqual([meta.get('input_name'), meta.get('input_layout'), meta.get('input_dtype'), meta.get('input_shape')], ['image', 'NHWC', 'uint8', '[1,40,56,3]']);
      assert.match(meta.get('input_format')!, /canvas ImageData without its alpha channel/);
      assert.equal(meta.get('resize'), 'null');
      const pre = JSON.parse(readFileSync(files.preprocessor, 'utf8'));
      assert.deepEqual([pre.size, pre.do_rescale, pre.do_normalize], [{ height: 40, width: 56 }, false, false]);
    } finally {
      tmp.cleanup();
    }
  });

  test('input size: config, default rounded up to the input multiple, --input checked', () => {
    const base = { modelName: 'm', inChannels: 3 };
    assert.deepEqual(resolveInputShape({ ...base, inputMultiple: 24 }), { shape: [1, 3, 528, 528], source: 'default', resizeTo: null });
    const fixed = { data: { valPipeline: [{ type: 'Resize', scale: [240, 180], keepRatio: false }] } };
    assert.deepEqual(resolveInputShape({ ...base, config: fixed, inputMultiple: 32 }), { shape: [1, 3, 192, 256], source: 'config', resizeTo: [180, 240] });
    assert.deepEqual(resolveInputShape({ ...base, config: fixed, inputMultiple: 1, text: '2x3x64x96' }), { shape: [2, 3, 64, 96], source: 'option', resizeTo: [64, 96] });
    assert.throws(() => resolveInputShape({ ...base, inputMultiple: 16, text: '1x3x100x96' }), /m needs height and width that are multiples of 16, got 100×96; nearest valid size: 1x3x96x96/);
    assert.throws(() => resolveInputShape({ ...base, inputMultiple: 1, text: '512x512' }), /--input: input shape '512x512': expected NxCxHxW, four positive integers joined by 'x' \(e.g. 1x3x512x1024\)/);
    assert.throws(() => resolveInputShape({ ...base, inputMultiple: 1, text: '1x4x64x64' }), /m takes 3 input channel\(s\), got C = 4/);
  });
});
