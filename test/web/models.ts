// Small checkpoints for the browser tests and bench/web.ts when the shipped models (models/portrait,
// models/camvid) are not there yet: random-weight SegFormer-B0s with the shipped models' classes.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeCodec } from '../../src/data/image-node.js';
import type { DecodedImage } from '../../src/data/image.js';
import { CAMVID_CLASSES } from '../../src/data/labels/camvid.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { writeFileAtomic } from '../../src/io/atomic-file.js';
import { createModel } from '../../src/models/index.js';
import { manualSeed } from '../../src/nn/init.js';
import { Segmenter } from '../../src/segmenter/segmenter.js';
import { serializeCheckpoint, type Checkpoint } from '../../src/train/checkpoint-format.js';
import { personCheckpoint } from '../robustness/streaming.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** models/<name>/model.safetensors if it is there (a shipped model). */
export function shippedModel(name: string): string | undefined {
  const p = join(REPO, 'models', name, 'model.safetensors');
  return existsSync(p) ? p : undefined;
}

/**
 * The binary person model of the streaming tests, its output bias shifted so that its median
 * logit on `frame` is 0: about half of that frame's pixels are 'person', so masks, blur and the
 * comparisons have both classes to work on (random weights alone may call everything one class).
 */
export async function calibratedPersonCheckpoint(frame: DecodedImage, inputSize: readonly [number, number]): Promise<Checkpoint> {
  const c = personCheckpoint();
  const s = Segmenter.fromCheckpoint(c, nodeCodec, nodeRuntime, { threads: 1, probabilities: true, inputSize });
  try {
    const p = (await s.segment(frame)).probabilities!;
    const logits = Array.from(p, (v) => Math.log(v / (1 - v))).sort((a, b) => a - b);
    const median = logits[logits.length >> 1]!;
    const key = 'decode_head.classifier.bias';
    const bias = c.model[key]!;
    c.model[key] = new HostTensor(Float32Array.from(bias.f32, (b) => b - median), [...bias.shape]);
  } finally {
    await s.dispose();
  }
  return c;
}

/** A SegFormer-B0 (random weights) with CamVid's 11 classes and palette, as models/camvid declares them. */
export function camvidTestCheckpoint(): Checkpoint {
  const options = { encoder: 'mit-b0', decoderHiddenSize: 32, numClasses: CAMVID_CLASSES.length };
  manualSeed(23);
  const model = createModel('segformer', options);
  return {
    meta: {
      format: 'segkit-checkpoint/1',
      iteration: 0,
      model: { name: 'segformer', options },
      classes: CAMVID_CLASSES.map((c) => c.name),
      palette: CAMVID_CLASSES.map((c) => [...c.color] as [number, number, number]),
    },
    model: model.stateDict(),
    optimizer: {},
  };
}

export async function writeCheckpoint(c: Checkpoint, path: string): Promise<string> {
  await writeFileAtomic(path, serializeCheckpoint(c));
  return path;
}
