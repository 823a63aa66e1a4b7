/**
 * The model a segkit checkpoint declares, with its weights, in eval mode: what the Segmenter runs
 * and `segkit export` writes. Every error starts with `source` (the checkpoint's file).
 */
import { createModel } from '../models/index.js';
import type { SegmentationModel } from '../models/segmentation-model.js';
import type { Checkpoint } from '../train/checkpoint-format.js';

/**
 * Builds and loads the model; refuses weights that do not fit it, NaN/±Inf weights (a diverged run:
 * they would surface as NaN outputs; `purpose` finishes that message, e.g. 'segment') and a class
 * list of the wrong length.
 */
export function modelFromCheckpoint(c: Checkpoint, source = 'checkpoint', purpose = 'segment'): SegmentationModel {
  const model = createModel(c.meta.model.name, c.meta.model.options);
  try {
    model.loadStateDict(c.model);
  } catch (e) {
    throw new Error(`${source}: its weights do not fit the model it declares (${c.meta.model.name} ${JSON.stringify(c.meta.model.options ?? {})}): ${(e as Error).message}`, { cause: e });
  }
  for (const [k, p] of model.namedState()) {
    if (p.value.dtype !== 'float32') continue;
    const d = p.value.f32;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) throw new Error(`${source}: weight '${k}' holds ${d[i]} at element ${i}; a checkpoint with non-finite weights cannot ${purpose} (did training diverge?)`);
    }
  }
  const binary = model.numClasses === 1;
  if (c.meta.classes.length !== (binary ? 2 : model.numClasses)) {
    throw new Error(`${source}: names ${c.meta.classes.length} classes but its model predicts ${model.numClasses}${binary ? ' (binary)' : ''}`);
  }
  return model.eval();
}
