/** Shared fixtures of the export tests: a tiny SegFormer checkpoint and ways to run exported files. */
import type { DecodedImage } from '../../src/data/image.js';
import type { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { ExportedSegmenter } from '../../src/export/exported-segmenter.js';
import { createModel } from '../../src/models/index.js';
import { manualSeed } from '../../src/nn/init.js';
import type { Checkpoint } from '../../src/train/checkpoint-format.js';

export const TINY = { name: 'segformer', options: { encoder: 'mit-b0', decoderHiddenSize: 32, numClasses: 4 }, size: 32 };
export const TINY_CLASSES = ['sky', 'road', 'car', 'tree'];
export const TINY_PALETTE: [number, number, number][] = [[70, 130, 180], [128, 64, 128], [0, 0, 142], [107, 142, 35]];

/** A random-weight SegFormer-B0 checkpoint with named classes and a palette (labels vary over the block images at seed 1). */
export function tinyCheckpoint(o: { config?: unknown; numClasses?: number; classes?: string[] } = {}): Checkpoint {
  manualSeed(1);
  const options = { ...TINY.options, numClasses: o.numClasses ?? TINY.options.numClasses };
  const model = createModel(TINY.name, options);
  const classes = o.classes ?? (options.numClasses === 1 ? ['background', 'person'] : TINY_CLASSES.slice(0, options.numClasses));
  return {
    meta: { format: 'segkit-checkpoint/1', iteration: 7, model: { name: TINY.name, options }, classes, palette: TINY_PALETTE.slice(0, classes.length), config: o.config },
    model: model.stateDict(),
    optimizer: {},
  };
}

/** Runs raw ONNX bytes once on one input, returning every output. */
export async function runOnnx(bytes: Uint8Array, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await nodeRuntime.createSession(bytes, { threads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** Labels of an exported file on an image, through its own metadata-driven pre/post-processing. */
export async function exportedLabels(bytes: Uint8Array, img: DecodedImage): Promise<Uint8Array> {
  const s = await ExportedSegmenter.create(bytes, nodeRuntime, { threads: 1 });
  try {
    return (await s.segment(img)).labels;
  } finally {
    await s.dispose();
  }
}

/** Share of equal entries. */
export function agreement(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (Number(a[i]) === Number(b[i])) eq++;
  return eq / a.length;
}

/** Largest absolute difference over the reference's largest magnitude. */
export function maxRelative(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return worst / scale;
}
