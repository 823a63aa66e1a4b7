// `segkit export` end to end on a small trained-ish model (a SegFormer-B0 trained a few iterations on
// the synthetic three-colour-band folder dataset, enough for confident, input-dependent labels):
// --int8 static calibrates on the config's train split, writes a QDQ file about a quarter of the
// float32 size, evaluates both on the val split and prints the mIoU delta; its labels agree with
// the float32 export's on ≥ 90 % of pixels. --check passes (onnx.checker when installed, labels
// against the Segmenter). Bad flags are usage errors that list the valid values or explain the format.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UsageError } from '../../src/cli/command.js';
import { exportCommand } from '../../src/cli/commands/export.js';
import { trainCommand } from '../../src/cli/commands/train.js';
import { opCounts } from '../../src/export/onnx-model.js';
import { readOnnx } from '../../src/export/onnx-read.js';
import { tempDir, tinyTrainConfig, writeBandsDataset } from '../data/helpers.js';

const ITERS = 12;

/** Runs a command with console.log captured; returns its exit code and what it printed. */
async function capture(run: () => Promise<number | void>): Promise<{ code: number | void; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.map(String).join(' '));
  try {
    return { code: await run(), out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

describe('segkit export on a trained-ish model', () => {
  const tmp = tempDir('segkit-export-cli-');
  const root = join(tmp.dir, 'data');
  const work = join(tmp.dir, 'work');
  let ckpt = '';
  before(async () => {
    await writeBandsDataset(root, { train: 8, val: 4 });
    const cfg = tinyTrainConfig(root, { iters: ITERS, valInterval: 0, checkpointInterval: 0 }) as { data: Record<string, unknown> };
    cfg.data.valSplit = 'val';
    writeFileSync(join(tmp.dir, 'tiny.json'), JSON.stringify(cfg));
    const r = await capture(() => trainCommand.run([join(tmp.dir, 'tiny.json'), '--work-dir', work]));
    assert.equal(r.code ?? 0, 0, r.out);
    ckpt = join(work, `iter_${ITERS}.safetensors`);
    assert.ok(existsSync(ckpt), r.out);
  });
  after(() => tmp.cleanup());

  test('--int8 static: QDQ file, mIoU delta printed, ≥ 90 % agreement with float32', async (t) => {
    const out = join(tmp.dir, 'int8', 'model.onnx');
    const r = await capture(() => exportCommand.run([ckpt, '--out', out, '--int8', 'static', '--calib', '4', '--threads', '1']));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /calibration: 4 image\(s\) of folder train/);
    const table = /^\s+float32\s+([\d.]+) MB\s+([\d.]+) %\s+[\d.]+ %\s+100\.00 %$/m.exec(r.out);
    const int8 = /^\s+int8-static\s+([\d.]+) MB\s+([\d.]+) %\s+[\d.]+ %\s+([\d.]+) %$/m.exec(r.out);
    assert.ok(table && int8, r.out);
    const [fp32Mb, fp32Miou] = [Number(table[1]), Number(table[2])];
    const [int8Mb, int8Miou, agree] = [Number(int8[1]), Number(int8[2]), Number(int8[3])];
    t.diagnostic(`float32 ${fp32Mb} MB mIoU ${fp32Miou} %; int8-static ${int8Mb} MB mIoU ${int8Miou} %, ${agree} % of pixels agree`);
    assert.ok(fp32Miou > 40, `the float32 export is trained-ish: mIoU ${fp32Miou} %`);
    assert.ok(agree >= 90, `int8 static labels agree with float32 on ${agree} % of pixels`);
    assert.ok(int8Mb < 0.4 * fp32Mb, `int8 file ${int8Mb} MB vs float32 ${fp32Mb} MB`);
    const delta = /mIoU delta \(int8-static − float32\): ([+-][\d.]+) points/.exec(r.out);
    assert.ok(delta, r.out);
    assert.ok(Math.abs(Number(delta[1]) - (int8Miou - fp32Miou)) < 0.015, 'the delta is the difference of the printed mIoUs');
    const ops = opCounts(readOnnx(readFileSync(out)));
    assert.ok((ops.QuantizeLinear ?? 0) > 10 && (ops.DequantizeLinear ?? 0) > 20, JSON.stringify(ops));
    for (const f of ['config.json', 'preprocessor_config.json']) assert.ok(existsSync(join(tmp.dir, 'int8', f)), f);
  });

  test('--check: onnx.checker and labels against the Segmenter', async () => {
    const r = await capture(() => exportCommand.run([ckpt, '--out', join(tmp.dir, 'check', 'model.onnx'), '--check', '--check-images', '2', '--threads', '1']));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /onnx\.checker \(full_check, onnx [\d.]+\): passed|onnx\.checker skipped: no Python with the onnx package/);
    const m = /labels vs the Segmenter on 2 folder val image\(s\): ([\d.]+) % of pixels agree \(required ≥ 99\.90 %/.exec(r.out);
    assert.ok(m && Number(m[1]) >= 99.9, r.out);
    assert.doesNotMatch(r.out, /evaluation on/, 'a float32 export is not evaluated unless --eval asks');
  });

  test('bad values are usage errors naming the valid choices or the format', async () => {
    const out = join(tmp.dir, 'bad.onnx');
    const cases: [string[], RegExp][] = [
      [['--head', 'mask'], /unknown head 'mask'; valid heads: 'logits', 'probs', 'labels'/],
      [['--int8', 'weights'], /unknown int8 mode 'weights'; valid modes: 'dynamic', 'static'/],
      [['--dynamic', 'width'], /dynamic width is not supported: segkit traces static shapes.*one file per input size/],
      [['--input', '64x64'], /input shape '64x64': expected NxCxHxW, four positive integers joined by 'x'/],
      [['--fp16', '--int8', 'dynamic'], /--fp16 and --int8 exclude each other/],
      [['--calib', '4'], /--calib applies to --int8 static only/],
    ];
    for (const [args, want] of cases) await assert.rejects(exportCommand.run([ckpt, '--out', out, ...args]), (e: Error) => e instanceof UsageError && want.test(e.message), args.join(' '));
    await assert.rejects(exportCommand.run([ckpt]), /--out FILE.onnx is required/);
    await assert.rejects(exportCommand.run([ckpt, '--out', join(tmp.dir, 'x.bin')]), /expected a file name ending in \.onnx/);
    await assert.rejects(exportCommand.run(['setr', ckpt, '--out', out]), /holds model 'segformer', not 'setr'/);
    assert.ok(!existsSync(out), 'nothing written on errors');
  });
});
