/**
 * `exportCheckpoint`: a segkit checkpoint to a verified ONNX file, platform-neutral (the runtime
 * is injected; files and datasets are handled by export-files.ts and the CLI).
 *
 *  1. the checkpoint's model, eval mode, traced with the chosen preprocessing and head
 *     (export-graph.ts) at the input size (input-size.ts);
 *  2. on the written ONNX: BatchNorm folded into the convolutions, dead nodes and unused
 *     initializers removed (fold-batchnorm.ts, prune.ts);
 *  3. `dynamicBatch`: traced again at batch 1 and 2 and merged into a symbolic batch
 *     (dynamic-batch.ts), then run at both sizes against the static graphs;
 *  4. weights as float16 or int8 (weight-only, or with calibrated activations);
 *  5. the contract (classes, palette, normalisation, layout, head …) as metadata_props.
 */
import { generatePalette, type RGB } from '../data/labels/types.js';
import type { DecodedImage } from '../data/image.js';
import { Rng } from '../data/rng.js';
import { HostTensor } from '../engine/host-tensor.js';
import type { Runtime } from '../engine/runtime/runtime.js';
import { createModel, listModels } from '../models/index.js';
import type { SegmentationModel } from '../models/segmentation-model.js';
import type { Checkpoint, CheckpointMeta } from '../train/checkpoint-format.js';
import { modelFromCheckpoint as loadModel } from '../segmenter/model-from-checkpoint.js';
import { calibrateRanges } from './calibrate.js';
import type { ExportContract } from './contract.js';
import { metadataProps } from './contract.js';
import { guidedFilterSettings } from '../inference/guided-filter.js';
import { makeBatchDynamic } from './dynamic-batch.js';
import { prepareInput } from './exported-segmenter.js';
import { inputNameOf, outputNameOf, traceExportGraph, type GraphSpec } from './export-graph.js';
import { convertWeightsToFloat16, type Float16Report } from './float16-weights.js';
import { foldBatchNorm, type FoldReport } from './fold-batchnorm.js';
import { activationInputs, insertActivationQdq } from './int8-activations.js';
import { quantizeWeightsInt8, type Int8WeightsReport } from './int8-weights.js';
import { resolveInputShape, type ResolvedInput } from './input-size.js';
import { encodeOnnx } from './onnx-encode.js';
import { opCounts, type OnnxModel } from './onnx-model.js';
import { readOnnx } from './onnx-read.js';
import type { Head, WeightFormat } from './options.js';
import { pruneDeadNodes } from './prune.js';

export interface ExportOptions {
  runtime: Runtime;
  threads?: number;
  /** `NxCxHxW` (default: see input-size.ts). */
  input?: string;
  /** Default 'logits'. */
  head?: Head;
  /** uint8 NHWC RGB input, normalisation in the graph. */
  uint8?: boolean;
  dynamicBatch?: boolean;
  /** Default 'float32'. */
  weights?: WeightFormat;
  /** int8-static: the calibration images (RGB, any size; prepared as the exported model's users prepare them). */
  calibration?: () => AsyncIterable<DecodedImage> | Iterable<DecodedImage>;
  /** Written into the metadata (the package version). */
  segkitVersion?: string;
  /** Names the checkpoint in errors. */
  source?: string;
}

export interface ExportReport {
  input: ResolvedInput;
  fold: FoldReport;
  /** Nodes and initializers the pruning pass removed. */
  pruned: { nodes: number; initializers: number };
  dynamicBatch?: { rebuiltShapes: number; worstRelativeDifference: number };
  float16?: Float16Report;
  int8Weights?: Int8WeightsReport;
  int8Activations?: { tensors: number; calibrationImages: number };
  opCounts: Record<string, number>;
  bytes: number;
  float32Bytes: number;
}

export interface ExportedModel {
  bytes: Uint8Array;
  contract: ExportContract;
  /** The same export with float32 weights (equal to `bytes` for a float32 export), the reference for comparisons. */
  float32Bytes: Uint8Array;
  report: ExportReport;
}

/** The checkpoint's model with its weights, in eval mode; errors name the checkpoint. */
export function modelFromCheckpoint(c: Checkpoint, source = 'checkpoint'): SegmentationModel {
  return loadModel(c, source, 'be exported');
}

/** The input channels a checkpoint's model takes: its `inChannels` option or the registry default. */
function inChannelsOf(meta: ExportMeta): number {
  const v = meta.model.options?.inChannels ?? listModels().find((m) => m.name === meta.model.name)?.options.inChannels?.default;
  return typeof v === 'number' ? v : 3;
}

/** Traced, BatchNorm-folded and pruned graph at one batch size. */
function foldedGraph(model: SegmentationModel, spec: GraphSpec): { m: OnnxModel; fold: FoldReport; pruned: { nodes: number; initializers: number } } {
  const m = readOnnx(traceExportGraph(model, spec));
  const fold = foldBatchNorm(m);
  const pruned = pruneDeadNodes(m);
  return { m, fold, pruned };
}

/** A random input of the graph's input type (for checking rewrites numerically). */
function randomInput(shape: number[], uint8: boolean, seed: number): HostTensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  if (uint8) return new HostTensor(Uint8Array.from({ length: n }, () => rng.int(0, 256)), shape, 'uint8');
  return new HostTensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

/** Relative difference of two outputs: max |a − b| / max |b| for floats, the share of differing elements for labels. */
export function outputDifference(a: HostTensor, b: HostTensor): number {
  if (a.shape.join() !== b.shape.join()) return Infinity;
  if (a.dtype !== 'float32') {
    let diff = 0;
    for (let i = 0; i < a.size; i++) if (a.data[i] !== b.data[i]) diff++;
    return diff / a.size;
  }
  let worst = 0;
  let scale = 0;
  const [x, y] = [a.f32, b.f32];
  for (let i = 0; i < x.length; i++) {
    worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return worst / Math.max(scale, 1e-12);
}

async function runOnce(bytes: Uint8Array, runtime: Runtime, threads: number | undefined, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await runtime.createSession(bytes, { threads });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** Tolerance of the dynamic-batch check: the same ops, but onnxruntime may fuse computed shapes differently. */
const DYNAMIC_TOLERANCE = 1e-4;

/** The float32 export with its weights stored as `contract.weights` says (float16, int8), reported into `report`. */
async function convertWeights(float32Bytes: Uint8Array, contract: ExportContract, report: Partial<ExportReport>, o: ExportOptions): Promise<Uint8Array> {
  const m = readOnnx(float32Bytes);
  if (contract.weights === 'float16') report.float16 = convertWeightsToFloat16(m);
  else if (contract.weights === 'int8-dynamic') report.int8Weights = quantizeWeightsInt8(m);
  else if (contract.weights === 'int8-static') {
    if (!o.calibration) throw new Error("--int8 static needs calibration images (the checkpoint config's training data, or --data/--data-root)");
    // Ranges come from the float32 graph fed exactly what the exported model's users will feed it.
    const images = o.calibration();
    let count = 0;
    async function* inputs() {
      for await (const img of images) {
        count++;
        yield prepareInput(contract, img).input;
      }
    }
    const ranges = await calibrateRanges(m, activationInputs(m), inputs(), o.runtime, o.threads);
    report.int8Weights = quantizeWeightsInt8(m);
    report.int8Activations = { tensors: insertActivationQdq(m, ranges), calibrationImages: count };
  }
  pruneDeadNodes(m);
  m.metadata = metadataProps(contract);
  return encodeOnnx(m);
}

/** Exports a segkit checkpoint (its model, weights, classes, palette and config). */
export async function exportCheckpoint(ckpt: Checkpoint, o: ExportOptions): Promise<ExportedModel> {
  return exportModel(modelFromCheckpoint(ckpt, o.source), ckpt.meta, o);
}

/** What an export needs from a checkpoint's metadata. */
export type ExportMeta = Pick<CheckpointMeta, 'model' | 'classes' | 'palette' | 'config' | 'refine'>;

/**
 * Exports a model already built from `meta` (and holding its weights): what exportCheckpoint does
 * after loading, for callers that have the model at hand.
 */
export async function exportModel(model: SegmentationModel, meta: ExportMeta, o: ExportOptions): Promise<ExportedModel> {
  model.eval();
  const head = o.head ?? 'logits';
  const uint8 = o.uint8 ?? false;
  const weights = o.weights ?? 'float32';
  const input = resolveInputShape({ text: o.input, config: meta.config, modelName: meta.model.name, inputMultiple: model.inputMultiple, inChannels: inChannelsOf(meta) });
  const [n, c, h, w] = input.shape;
  const spec = (batch: number): GraphSpec => ({ batch, channels: c, height: h, width: w, head, uint8 });
  const inputName = inputNameOf(uint8);
  const outputName = outputNameOf(head);

  let { m: fp32, fold, pruned } = foldedGraph(model, spec(o.dynamicBatch ? 1 : n));
  const report: Partial<ExportReport> = { input, fold, pruned };
  if (o.dynamicBatch) {
    const b = foldedGraph(model, spec(2)).m;
    const static1 = encodeOnnx(fp32);
    const dyn = makeBatchDynamic(readOnnx(static1), b, 1, 2);
    pruneDeadNodes(dyn.model);
    const dynBytes = encodeOnnx(dyn.model);
    // The rewrite is checked, not trusted: batch 1 against the batch-1 trace, batch 2 against the batch-2 trace.
    let worst = 0;
    for (const [batch, ref] of [[1, static1], [2, encodeOnnx(b)]] as const) {
      const shape = uint8 ? [batch, h, w, 3] : [batch, c, h, w];
      const x = randomInput(shape, uint8, 17 + batch);
      const want = (await runOnce(ref, o.runtime, o.threads, { [inputName]: x }))[outputName]!;
      const got = (await runOnce(dynBytes, o.runtime, o.threads, { [inputName]: x }))[outputName]!;
      const d = outputDifference(got, want);
      worst = Math.max(worst, d);
      if (!(d <= DYNAMIC_TOLERANCE)) throw new Error(`internal error: the symbolic-batch graph differs from the traced one at batch ${batch} (relative difference ${d}); export without --dynamic batch`);
    }
    fp32 = dyn.model;
    report.dynamicBatch = { rebuiltShapes: dyn.rebuiltShapes, worstRelativeDifference: worst };
  }

  const k = model.numClasses;
  const outShape: (number | string)[] = head === 'labels' ? [n, h, w] : [n, k, h, w];
  const contract: ExportContract = {
    segkitVersion: o.segkitVersion ?? 'unknown',
    model: { name: meta.model.name, options: meta.model.options ?? {} },
    classes: [...meta.classes],
    palette: (meta.palette ?? generatePalette(meta.classes.length)).map((p) => [p[0], p[1], p[2]] as RGB),
    mean: [...model.normalization.mean] as [number, number, number],
    std: [...model.normalization.std] as [number, number, number],
    input: { name: inputName, shape: uint8 ? [n, h, w, 3] : [n, c, h, w], dtype: uint8 ? 'uint8' : 'float32', layout: uint8 ? 'NHWC' : 'NCHW' },
    output: { name: outputName, shape: outShape, dtype: head !== 'labels' ? 'float32' : k <= 256 ? 'uint8' : 'int64' },
    head,
    weights: 'float32',
    resizeTo: input.resizeTo,
    // The checkpoint's guided filter, kept where the head gives the scores it refines.
    refine: meta.refine && head !== 'labels' && k <= 2 ? guidedFilterSettings(meta.refine, `export: the checkpoint's refine`) : null,
  };
  if (o.dynamicBatch) {
    contract.input.shape[0] = 'batch';
    contract.output.shape[0] = 'batch';
  }
  fp32.metadata = metadataProps(contract);
  const float32Bytes = encodeOnnx(fp32);

  let bytes = float32Bytes;
  if (weights !== 'float32') {
    contract.weights = weights;
    bytes = await convertWeights(float32Bytes, contract, report, o);
  }
  return {
    bytes,
    contract,
    float32Bytes,
    report: { ...(report as ExportReport), opCounts: opCounts(readOnnx(bytes)), bytes: bytes.length, float32Bytes: float32Bytes.length },
  };
}
