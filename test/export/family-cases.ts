/**
 * The model families exported in the tests (Node: families.test.ts; browser: test/web/exported.test.ts):
 * tiny configurations with random weights, at seeds where the labels on the synthetic block image
 * are far from uniform and depend on the colours (see families.test.ts).
 */
import { createModel, type SegmentationModel } from '../../src/models/index.js';
import { manualSeed } from '../../src/nn/init.js';
import type { Checkpoint, CheckpointMeta } from '../../src/train/checkpoint-format.js';

export interface FamilyCase {
  family: string;
  options: Record<string, unknown>;
  size: number;
  seed: number;
}

export const FAMILY_CASES: FamilyCase[] = [
  { family: 's2fpn', options: { variant: 'v1', encoder: 'resnet18', numClasses: 4 }, size: 64, seed: 1 },
  { family: 's2fpn', options: { variant: 'v2', encoder: 'resnet18', numClasses: 4 }, size: 64, seed: 1 },
  { family: 's2fpn', options: { variant: 'v1', encoder: 'resnet18', widthMultiplier: 0.25, detailHead: true, numClasses: 4 }, size: 64, seed: 8 },
  { family: 'segformer', options: { encoder: 'mit-b0', decoderHiddenSize: 32, numClasses: 4 }, size: 32, seed: 1 },
  { family: 'serseg-former', options: { numClasses: 3 }, size: 32, seed: 1 },
  { family: 'setr', options: { variant: 'naive', encoder: 'vit-t16', imgSize: 32, numClasses: 4 }, size: 32, seed: 4 },
  { family: 'sernet-former', options: { numClasses: 4 }, size: 32, seed: 2 },
];

export const familyLabel = (c: FamilyCase): string => `${c.family} ${JSON.stringify(c.options)} at ${c.size}×${c.size}`;

/** The case's model with its seeded random weights, its metadata and the checkpoint holding both. */
export function familyModel(c: FamilyCase): { model: SegmentationModel; meta: CheckpointMeta; checkpoint: Checkpoint } {
  manualSeed(c.seed);
  const model = createModel(c.family, c.options);
  const k = c.options.numClasses as number;
  const meta: CheckpointMeta = { format: 'segkit-checkpoint/1' as const, iteration: 0, model: { name: c.family, options: c.options }, classes: Array.from({ length: k }, (_, i) => `class${i}`) };
  return { model, meta, checkpoint: { meta, model: model.stateDict(), optimizer: {} } };
}
