// onnx.checker.check_model(full_check=True) from Debian's python3-onnx on every kind of file segkit
// export writes (float32, float16, int8 weight-only, int8 static QDQ, symbolic batch with uint8
// input and labels head); a file with a dangling node input fails it, so the check is live.
// Skipped, saying why, when no Python can import onnx.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { exportCheckpoint, type ExportOptions } from '../../src/export/export-model.js';
import { encodeOnnx } from '../../src/export/onnx-encode.js';
import { checkOnnxFile, findOnnxPython } from '../../src/export/onnx-checker.js';
import { readOnnx } from '../../src/export/onnx-read.js';
import { syntheticImages } from '../../src/export/segmenter-agreement.js';
import { tempDir } from '../data/helpers.js';
import { TINY, tinyCheckpoint } from './helpers.js';

const S = TINY.size;
const VARIANTS: [string, Partial<ExportOptions>][] = [
  ['float32', {}],
  ['float16', { weights: 'float16' }],
  ['int8-dynamic', { weights: 'int8-dynamic' }],
  ['int8-static', { weights: 'int8-static', calibration: () => syntheticImages(3, S, S) }],
  ['dynamic batch, uint8, labels', { dynamicBatch: true, uint8: true, head: 'labels' }],
];

describe('onnx.checker (python3-onnx)', () => {
  const python = findOnnxPython();
  for (const [name, o] of VARIANTS) {
    test(`${name} passes check_model(full_check=True)`, async (t) => {
      if (!python) return t.skip('python3-onnx is not installed (apt-get install python3-onnx); onnx.checker not run');
      const tmp = tempDir('segkit-export-check-');
      try {
        const e = await exportCheckpoint(tinyCheckpoint(), { runtime: nodeRuntime, threads: 1, input: `1x3x${S}x${S}`, ...o });
        const file = join(tmp.dir, 'model.onnx');
        writeFileSync(file, e.bytes);
        const r = checkOnnxFile(file);
        assert.equal(r.status, 'passed', JSON.stringify(r));
      } finally {
        tmp.cleanup();
      }
    });
  }

  test('a node reading an undefined tensor fails the check', async (t) => {
    if (!python) return t.skip('python3-onnx is not installed (apt-get install python3-onnx); onnx.checker not run');
    const tmp = tempDir('segkit-export-check-');
    try {
      const m = readOnnx((await exportCheckpoint(tinyCheckpoint(), { runtime: nodeRuntime, threads: 1, input: `1x3x${S}x${S}` })).bytes);
      m.graph.nodes[3]!.inputs[0] = 'no_such_tensor';
      const file = join(tmp.dir, 'broken.onnx');
      writeFileSync(file, encodeOnnx(m));
      const r = checkOnnxFile(file);
      assert.equal(r.status, 'failed');
      assert.match((r as { message: string }).message, /no_such_tensor/);
    } finally {
      tmp.cleanup();
    }
  });
});
