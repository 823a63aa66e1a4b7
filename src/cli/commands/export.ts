/**
 * `segkit export`: a checkpoint (or shipped model) to a verified ONNX file plus transformers.js
 * sidecars, with BatchNorm folded, an optional symbolic batch, in-graph preprocessing, a choice of
 * head and float16/int8 weights; `--check` runs onnx.checker and compares with the Segmenter, and
 * float16/int8 exports are evaluated against the float32 export on the config's validation images.
 */
import { nodeCodec } from '../../data/image-node.js';
import type { DecodedImage } from '../../data/image.js';
import { nodeRuntime } from '../../engine/runtime/node.js';
import { checkOnnxFile } from '../../export/onnx-checker.js';
import { evaluateExports } from '../../export/evaluate-exports.js';
import { exportDataset, spreadImages, type DataChoice } from '../../export/export-data.js';
import { writeExport } from '../../export/export-files.js';
import { exportCheckpoint, type ExportedModel } from '../../export/export-model.js';
import { ExportedSegmenter } from '../../export/exported-segmenter.js';
import { inputHW } from '../../export/contract.js';
import { HEADS, parseDynamic, parseHead, parseInt8Mode, weightFormat, type Int8Mode } from '../../export/options.js';
import { agreementWithSegmenter, syntheticImages } from '../../export/segmenter-agreement.js';
import { segkitVersion } from '../../export/version-node.js';
import { resolveModelFile } from '../../segmenter/node.js';
import { Segmenter } from '../../segmenter/segmenter.js';
import { loadCheckpoint } from '../../train/checkpoint.js';
import type { TrainConfig } from '../../train/config.js';
import { parseArgs, UsageError, type Command } from '../command.js';
import { Progress } from '../progress.js';

const DEFAULT_CALIB = 16;
const DEFAULT_CHECK_IMAGES = 4;

function count(options: Record<string, unknown>, name: string, fallback: number | undefined, min: number): number | undefined {
  const text = options[name];
  if (text === undefined) return fallback;
  const v = typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(v) && v >= min)) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${String(text)}'`);
  return v;
}

/** Turns option-parsing errors from src/export into usage errors (printed with the usage text). */
function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const pct = (v: number) => `${(v * 100).toFixed(2)} %`;

function printSummary(e: ExportedModel): void {
  const r = e.report;
  const c = e.contract;
  const src = { option: '--input', config: "the config's fixed validation size", default: 'the default 512×512, rounded to the input multiple' }[r.input.source];
  console.log(`model     ${c.model.name} ${JSON.stringify(c.model.options)}, ${c.classes.length} classes`);
  console.log(`input     ${c.input.name}: ${c.input.dtype} ${c.input.layout} [${c.input.shape.join(', ')}] (size from ${src}${c.resizeTo ? `; images resized to ${c.resizeTo[0]}×${c.resizeTo[1]}` : ''})`);
  console.log(`output    ${c.output.name}: ${c.output.dtype} [${c.output.shape.join(', ')}] (head '${c.head}')`);
  const left = r.fold.remaining ? `, ${r.fold.remaining} left (input not a convolution)` : '';
  console.log(`graph     ${Object.values(r.opCounts).reduce((a, b) => a + b, 0)} nodes; BatchNorm folded into ${r.fold.folded} convolution(s)${left}; pruned ${r.pruned.nodes} dead node(s), ${r.pruned.initializers} unused initializer(s)`);
  if (r.dynamicBatch) console.log(`batch     symbolic ('batch'): ${r.dynamicBatch.rebuiltShapes} shape operand(s) rebuilt from the input; checked at batch 1 and 2 (relative difference ${r.dynamicBatch.worstRelativeDifference.toExponential(1)})`);
  let weights = `weights   ${c.weights}: ${mb(r.bytes)}`;
  if (c.weights !== 'float32') weights += ` (float32 export ${mb(r.float32Bytes)}, ×${(r.bytes / r.float32Bytes).toFixed(2)})`;
  if (r.float16) weights += `; ${r.float16.converted} tensor(s) stored as float16, compute in float32${r.float16.outOfRange.length ? `; kept float32 (beyond ±65504): ${r.float16.outOfRange.join(', ')}` : ''}`;
  if (r.int8Weights) weights += `; ${r.int8Weights.quantized} weight tensor(s) int8 per channel`;
  if (r.int8Activations) weights += `; ${r.int8Activations.tensors} activation(s) QDQ uint8, min/max over ${r.int8Activations.calibrationImages} calibration image(s)`;
  console.log(weights);
  if (c.refine) console.log(`refine    guided filter (radius ${c.refine.radius}, eps ${c.refine.eps}) after the model, the image as guide: in the 'refine' metadata; ExportedSegmenter and loadExportedSegmenter apply it`);
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a checkpoint to ONNX (BatchNorm folded, metadata, transformers.js sidecars, fp16/int8, --check)',
  usage: `Usage: segkit export [<model>] <checkpoint|shipped-name> --out model.onnx [--input 1x3xHxW] [--dynamic batch]
                     [--head ${HEADS.join('|')}] [--uint8] [--fp16] [--int8 dynamic|static] [--calib N]
                     [--check] [--check-images N] [--eval | --no-eval] [--data DATASET] [--data-root DIR]
                     [--split SPLIT] [--limit N] [--threads N]

Traces the checkpoint's model in eval mode, folds BatchNorm into the convolutions, removes dead nodes,
and writes the .onnx with its contract in metadata_props (classes, palette, mean/std, input size and
layout, head, segkit version, model) plus config.json and preprocessor_config.json beside it
(transformers.js layout). Files are written atomically.

  <model>          optional; must match the model the checkpoint declares
  --out FILE       the .onnx file to write (sidecars go to its folder)
  --input NxCxHxW  traced size (default: the config's fixed validation size, else 512×512; both rounded
                   up to the model's input multiple). segkit traces static shapes: one file per size
  --dynamic batch  a symbolic batch dimension (checked at batch 1 and 2); height/width cannot be dynamic
  --head H         logits (N×K×H×W, default), probs (softmax over K; sigmoid for one-channel binary
                   models) or labels (N×H×W argmax, uint8 when K ≤ 256, else int64)
  --uint8          input uint8 RGB N×H×W×3 (NHWC, canvas ImageData without alpha); normalisation in-graph
  --fp16           float16 weights (Cast to float32 inside the graph: compute stays float32), half the size
  --int8 MODE      dynamic: per-channel int8 weights (DequantizeLinear); static: also QDQ on activations,
                   calibrated (min/max) on --calib N (default ${DEFAULT_CALIB}) images of the config's train split
  --check          onnx.checker (python3-onnx, if installed) and labels against the Segmenter on
                   --check-images N (default ${DEFAULT_CHECK_IMAGES}) validation images (synthetic without a dataset)
  --eval/--no-eval evaluate the export (and the float32 export, for --fp16/--int8) on the validation split;
                   default: on for --fp16/--int8 when the dataset folder exists
  --data, --data-root  the dataset that calibrates and evaluates (default: the config's)
  --split, --limit     the evaluation split and how many of its images (default: the config's validation
                       images, all of them); calibration always uses the training split`,
  async run(args) {
    const { positional, options } = parseArgs(args, {
      options: ['out', 'input', 'dynamic', 'head', 'int8', 'calib', 'check-images', 'data', 'data-root', 'split', 'limit', 'threads'],
      flags: ['uint8', 'fp16', 'check', 'eval', 'no-eval'],
    });
    if (positional.length < 1 || positional.length > 2) throw new UsageError(`expected [<model>] <checkpoint|shipped-name>, got ${positional.length} argument(s)`);
    const out = options.out as string | undefined;
    if (!out) throw new UsageError('--out FILE.onnx is required');
    if (!out.endsWith('.onnx')) throw new UsageError(`--out ${out}: expected a file name ending in .onnx`);
    const head = usage(() => parseHead((options.head as string | undefined) ?? 'logits'));
    const int8: Int8Mode | undefined = options.int8 === undefined ? undefined : usage(() => parseInt8Mode(options.int8 as string));
    const weights = usage(() => weightFormat({ fp16: options.fp16 === true, int8 }));
    const dynamicBatch = options.dynamic === undefined ? false : usage(() => parseDynamic(options.dynamic as string)).batch;
    if (options.eval && options['no-eval']) throw new UsageError('--eval and --no-eval exclude each other');
    const calib = count(options, 'calib', DEFAULT_CALIB, 1)!;
    if (options.calib !== undefined && weights !== 'int8-static') throw new UsageError('--calib applies to --int8 static only');
    const checkImages = count(options, 'check-images', DEFAULT_CHECK_IMAGES, 1)!;
    const limit = count(options, 'limit', undefined, 1);
    const threads = count(options, 'threads', undefined, 1);

    const ckptPath = resolveModelFile(positional.at(-1)!);
    const ckpt = await loadCheckpoint(ckptPath);
    if (positional.length === 2 && positional[0] !== ckpt.meta.model.name) {
      throw new UsageError(`${ckptPath} holds model '${ckpt.meta.model.name}', not '${positional[0]}' (omit the model name to use the checkpoint's)`);
    }
    const config = ckpt.meta.config as TrainConfig | undefined;
    const choice: DataChoice = { dataset: options.data as string | undefined, root: options['data-root'] as string | undefined, split: options.split as string | undefined };

    let calibration: (() => AsyncIterable<DecodedImage>) | undefined;
    if (weights === 'int8-static') {
      const found = await exportDataset(config, 'calibration', { ...choice, split: undefined });
      if (!found.dataset) throw new UsageError(`--int8 static needs calibration images: ${found.why}`);
      const ds = found.dataset;
      console.log(`calibration: ${Math.min(calib, ds.length)} image(s) of ${ds.name} ${ds.split}`);
      calibration = () => spreadImages(ds, calib);
    }
    const e = await exportCheckpoint(ckpt, { runtime: nodeRuntime, threads, input: options.input as string | undefined, head, uint8: options.uint8 === true, dynamicBatch, weights, calibration, segkitVersion: segkitVersion(), source: ckptPath }).catch((err: Error) => {
      // Bad --input values are usage errors; anything else (a model that cannot take a symbolic batch …) is not.
      throw /^--input|input shape/.test(err.message) ? new UsageError(err.message) : err;
    });
    printSummary(e);
    if (ckpt.meta.refine && !e.contract.refine) console.log(`refine    the checkpoint's guided filter is not kept: the '${head}' head has no scores to refine (export with --head logits or probs to keep it)`);
    const files = await writeExport(out, e);
    console.log(`wrote ${files.onnx}, ${files.config}, ${files.preprocessor}`);

    let failed = false;
    const wantEval = options.eval === true || (!options['no-eval'] && weights !== 'float32');
    if (wantEval) {
      const found = await exportDataset(config, 'evaluation', choice);
      if (!found.dataset) {
        if (options.eval) throw new Error(`--eval: ${found.why}`);
        console.log(`evaluation skipped: ${found.why}`);
      } else {
        const ds = found.dataset;
        const n = Math.min(limit ?? ds.length, ds.length);
        const runners = [{ name: 'float32', segmenter: await ExportedSegmenter.create(e.float32Bytes, nodeRuntime, { threads }) }];
        if (weights !== 'float32') runners.push({ name: weights, segmenter: await ExportedSegmenter.create(e.bytes, nodeRuntime, { threads }) });
        const progress = new Progress({ label: `eval ${ds.name} ${ds.split}`, total: n, logEvery: 20 });
        try {
          const r = await evaluateExports(runners, ds, { limit: n, onImage: () => progress.tick() });
          progress.done();
          console.log(`\nevaluation on ${ds.name} ${ds.split} (${r.images} images), onnxruntime-node, the Segmenter's pre/post-processing:`);
          console.log(`  ${'weights'.padEnd(14)} ${'size'.padStart(10)} ${'mIoU'.padStart(9)} ${'aAcc'.padStart(9)}  agreement with float32`);
          for (const [i, x] of r.results.entries()) {
            const size = i === 0 ? e.float32Bytes.length : e.bytes.length;
            console.log(`  ${x.name.padEnd(14)} ${mb(size).padStart(10)} ${pct(x.mIoU).padStart(9)} ${pct(x.aAcc).padStart(9)}  ${pct(x.agreement)}`);
          }
          if (r.results.length === 2) {
            const d = ((r.results[1]!.mIoU - r.results[0]!.mIoU) * 100).toFixed(2);
            console.log(`  mIoU delta (${weights} − float32): ${d.startsWith('-') && Number(d) !== 0 ? d : `+${d.replace('-', '')}`} points`);
          }
        } finally {
          for (const x of runners) await x.segmenter.dispose();
        }
      }
    }

    if (options.check) {
      const checker = checkOnnxFile(files.onnx);
      if (checker.status === 'passed') console.log(`\nonnx.checker (full_check, onnx ${checker.onnxVersion}): passed`);
      else if (checker.status === 'failed') {
        failed = true;
        console.log(`\nonnx.checker (full_check, onnx ${checker.onnxVersion}): FAILED\n${checker.message}`);
      } else console.log(`\nonnx.checker skipped: ${checker.message}`);
      const found = await exportDataset(config, 'evaluation', choice);
      const [h, w] = e.contract.resizeTo ?? inputHW(e.contract);
      const images: AsyncIterable<DecodedImage> | DecodedImage[] = found.dataset ? spreadImages(found.dataset, checkImages) : syntheticImages(checkImages, h, w);
      const exported = await ExportedSegmenter.create(e.bytes, nodeRuntime, { threads });
      const segmenter = Segmenter.fromCheckpoint(ckpt, nodeCodec, nodeRuntime, { threads }, ckptPath);
      try {
        const a = await agreementWithSegmenter(exported, segmenter, images);
        const where = found.dataset ? `${found.dataset.name} ${found.dataset.split}` : `synthetic (${found.why})`;
        const need = a.required === null ? 'reported only for int8' : `required ≥ ${pct(a.required)}`;
        console.log(`labels vs the Segmenter on ${a.perImage.length} ${where} image(s): ${pct(a.overall)} of pixels agree (${need}; per image ${a.perImage.map(pct).join(', ')})${a.ok ? '' : ' — FAILED'}`);
        if (!a.ok) failed = true;
      } finally {
        await exported.dispose();
        await segmenter.dispose();
      }
    }
    return failed ? 1 : 0;
  },
};
