/** The model zoo: every family registered under one name, built with `createModel(name, options)`. */
import { ModelRegistry, type ModelEntry } from './registry.js';
import type { SegmentationModel } from './segmentation-model.js';

import { entry as sernetFormer, paperEntry as sernetFormerPaper } from './sernet-former/entry.js';
import { entry as setr } from './setr/entry.js';
import { entry as s2fpn } from './s2fpn/entry.js';
import { entry as segformer } from './segformer/entry.js';
import { entry as sersegFormer } from './serseg-former/entry.js';

const ENTRIES: ModelEntry[] = [sernetFormer, sernetFormerPaper, segformer, sersegFormer, s2fpn, setr];

export const registry = new ModelRegistry();
for (const e of ENTRIES) registry.register(e);

/** Builds a registered model; unknown names or options are errors that list the valid ones. */
export function createModel(name: string, options: Record<string, unknown> = {}): SegmentationModel {
  return registry.create(name, options);
}

/** Every registered model with its options (name, type, default, choices, doc). */
export function listModels() {
  return registry.list();
}

export { SegmentationModel, IMAGENET_NORMALIZATION, type Normalization } from './segmentation-model.js';
export type { ModelEntry, OptionSpec } from './registry.js';
export { ResNet, type ResNetOptions, type ResNetDepth } from './backbones/resnet.js';
