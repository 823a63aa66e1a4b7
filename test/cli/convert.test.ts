// `segkit convert`: a checkpoint (torch.save .pth, or safetensors) goes into a model and comes out as
// safetensors with the same values and its provenance in the metadata; mismatches are listed, usage
// errors name what is valid.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../src/cli/command.js';
import { convertCommand } from '../../src/cli/commands/convert.js';
import type { HostTensor } from '../../src/engine/host-tensor.js';
import { f16ToF32 } from '../../src/io/half.js';
import { extractStateDict } from '../../src/io/pth.js';
import { readTorchCheckpoint } from '../../src/io/pth-node.js';
import { readSafetensorsFile } from '../../src/io/safetensors-node.js';
import { serializeSafetensors } from '../../src/io/safetensors.js';
import { ResNet } from '../../src/models/backbones/resnet.js';
import { findTorchPython } from '../parity/python.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const GEN = join(REPO, 'test', 'fixtures', 'pth', 'gen.py');

/** Runs the command with console output captured. */
async function convert(t: TestContext, ...args: string[]): Promise<string> {
  const lines: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => lines.push(a.join(' ')));
  t.mock.method(console, 'warn', (...a: unknown[]) => lines.push(a.join(' ')));
  try {
    await convertCommand.run(args);
  } finally {
    t.mock.restoreAll();
  }
  return lines.join('\n');
}

function sameValues(got: HostTensor, want: HostTensor, key: string): void {
  assert.deepEqual(got.shape, want.shape, key);
  assert.equal(got.dtype, want.dtype, key);
  assert.deepEqual(got.data, want.data, key);
}

describe('segkit convert', () => {
  let dir = '';
  let input = '';
  let weights: Record<string, HostTensor> = {};
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'segkit-convert-'));
    weights = new ResNet(18, { numClasses: 10 }).stateDict();
    input = join(dir, 'r18.safetensors');
    await writeFile(input, serializeSafetensors(weights));
  });
  after(() => dir && rm(dir, { recursive: true, force: true }));

  test('safetensors in, safetensors out: same values, provenance in the metadata, nothing left behind', async (t) => {
    const out = join(dir, 'out.safetensors');
    const log = await convert(t, input, out, '--model', 'resnet18', '--model-options', '{"numClasses": 10}');
    assert.match(log, /read .*r18\.safetensors \(safetensors\): 122 tensors/);
    assert.match(log, /loaded 122 of 122 tensors into resnet18 \(11,181,642 parameters\)/);
    const st = await readSafetensorsFile(out);
    assert.deepEqual(st.metadata, {
      format: 'pt', converted_by: 'segkit convert', source: 'r18.safetensors', source_format: 'safetensors',
      model: 'resnet18', model_options: '{"numClasses":10}', dtype: 'float32',
    });
    assert.deepEqual(new Set(st.names()), new Set(Object.keys(weights)));
    for (const [k, w] of Object.entries(weights)) sameValues(st.get(k), w, k);
    assert.deepEqual((await readdir(dir)).sort(), ['out.safetensors', 'r18.safetensors'], 'no temporary files');
  });

  test('--fp16 writes float tensors as float16 (integers stay); pre-0.4.1 checkpoints without num_batches_tracked load strict', async (t) => {
    const old = join(dir, 'old.safetensors');
    await writeFile(old, serializeSafetensors(Object.fromEntries(Object.entries(weights).filter(([k]) => !k.endsWith('num_batches_tracked')))));
    const out = join(dir, 'half.safetensors');
    const log = await convert(t, old, out, '--model', 'resnet18', '--model-options', '{"numClasses":10}', '--fp16');
    assert.match(log, /note: 20 BatchNorm num_batches_tracked counter\(s\) absent \(a checkpoint from torch < 0\.4\.1\) start at 0/);
    const st = await readSafetensorsFile(out);
    assert.equal(st.metadata.dtype, 'float16');
    assert.equal(st.info('conv1.weight').dtype, 'F16');
    assert.equal(st.info('bn1.num_batches_tracked').dtype, 'I64');
    const w = weights['fc.weight']!.f32;
    const h = new Uint16Array(st.raw('fc.weight').slice().buffer);
    for (let i = 0; i < w.length; i += 97) assert.ok(Math.abs(f16ToF32(h[i]!) - w[i]!) <= Math.abs(w[i]!) * 2 ** -10, `fc.weight[${i}]`);
  });

  test('strict by default: missing and unused keys are listed; --no-strict loads what matches', async (t) => {
    const part = join(dir, 'part.safetensors');
    await writeFile(part, serializeSafetensors({ 'conv1.weight': weights['conv1.weight']!, 'conv1.wieght2': weights['bn1.weight']! }));
    const out = join(dir, 'part-out.safetensors');
    await assert.rejects(convert(t, part, out, '--model', 'resnet18', '--model-options', '{"numClasses":10}'), (e: Error) => {
      assert.match(e.message, /part\.safetensors does not match model 'resnet18' \(use --no-strict to load what matches\)/);
      assert.match(e.message, /missing from the checkpoint \(121\): bn1\.weight, bn1\.bias, /);
      assert.match(e.message, /not in the model \(1\): conv1\.wieght2/);
      assert.match(e.message, /closest checkpoint keys to the first missing ones: bn1\.weight ~ conv1\.wieght2/);
      return true;
    });
    const log = await convert(t, part, out, '--model', 'resnet18', '--model-options', '{"numClasses":10}', '--no-strict');
    assert.match(log, /warning: 121 model tensor\(s\) missing from the checkpoint keep their initial values: bn1\.weight/);
    assert.match(log, /warning: 1 checkpoint tensor\(s\) not in the model were dropped: conv1\.wieght2/);
    assert.match(log, /loaded 1 of 122 tensors/);
    const st = await readSafetensorsFile(out);
    assert.equal(st.metadata.strict, 'false');
    assert.equal(st.names().length, 122, 'the whole model is written');
    sameValues(st.get('conv1.weight'), weights['conv1.weight']!, 'conv1.weight');
  });

  test('shape mismatches fail even with --no-strict, naming both shapes', async (t) => {
    await assert.rejects(
      convert(t, input, join(dir, 'x.safetensors'), '--model', 'resnet18', '--no-strict'),
      /2 tensor\(s\) of .* do not fit model 'resnet18' with options \{\}:\n  fc\.weight: checkpoint \[10, 512\], model \[1000, 512\]\n  fc\.bias: checkpoint \[10\], model \[1000\]/,
    );
  });

  test('usage errors name what is valid', async (t) => {
    const o = join(dir, 'x.safetensors');
    const usage = (args: string[], re: RegExp) => assert.rejects(convert(t, ...args), (e: Error) => e instanceof UsageError && re.test(e.message));
    await usage([input, o], /--model NAME is required; valid models: .*resnet18, resnet34, resnet50, resnet101/);
    await usage([input, o, '--model', 'resnet7'], /unknown model 'resnet7'; valid models: .*resnet18/);
    await usage([input, '--model', 'resnet18'], /expected an input and an output file, got 1 argument/);
    await usage([input, join(dir, 'x.pth'), '--model', 'resnet18'], /must be a \.safetensors file/);
    await usage([input, o, '--model', 'resnet18', '--model-options', '{nope'], /--model-options is not valid JSON/);
    await usage([input, o, '--model', 'resnet18', '--model-options', '[1]'], /must be a JSON object/);
    await usage([input, o, '--model', 'resnet18', '--model-options', '{"depth": 3}'], /unknown option 'depth'; valid: numClasses/);
    await usage([input, o, '--model', 'resnet18', '--model-options', '{"numClasses": 0}'], /'numClasses' must be a positive integer or null, got 0/);
    await usage([input, o, '--model', 'resnet18', '--from', 'mmseg'], /model 'resnet18' has no key map 'mmseg'; valid: \(none/);
    await usage([input, o, '--model', 'resnet18', '--strict', '--no-strict'], /contradict/);
    await assert.rejects(convert(t, join(dir, 'missing.pth'), o, '--model', 'resnet18'), /missing\.pth: cannot open: ENOENT/);
  });

  test('the segkit binary runs it (help, and an error with exit code 1 and no stack trace)', () => {
    const bin = join(REPO, 'bin', 'segkit.js');
    const help = spawnSync(process.execPath, [bin, 'convert', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Usage: segkit convert <in\.pth\|in\.pt\|in\.safetensors> <out\.safetensors> --model NAME/);
    const bad = spawnSync(process.execPath, [bin, 'convert', join(dir, 'nope.pth'), join(dir, 'o.safetensors'), '--model', 'resnet18'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^segkit convert: .*nope\.pth: cannot open: ENOENT/);
    assert.doesNotMatch(bad.stderr, /    at /);
  });

  const py = findTorchPython();
  test('a torch.save checkpoint (DataParallel keys in a training wrapper) converts with torch\'s values', { skip: typeof py === 'string' ? `python3 with torch is not available (${py})` : false }, async (t) => {
    if (typeof py === 'string') return;
    const r = spawnSync(py.python, [GEN, 'resnet', dir], { env: py.env, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    const pth = join(dir, 'resnet18.pth');
    const out = join(dir, 'from-pth.safetensors');
    const log = await convert(t, pth, out, '--model', 'resnet18', '--model-options', '{"numClasses":10}');
    assert.match(log, /read .*resnet18\.pth \(zip, state dict under 'state_dict', prefix 'module\.' removed\): 122 tensors/);
    assert.match(log, /ignored beside the state dict: epoch, optimizer/);
    const st = await readSafetensorsFile(out);
    assert.equal(st.metadata.source_format, 'zip');
    const want = extractStateDict((await readTorchCheckpoint(pth)).object).tensors;
    for (const [k, w] of Object.entries(want)) sameValues(st.get(k), w, k);
  });
});
