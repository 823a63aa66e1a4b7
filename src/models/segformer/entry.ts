import { LAYER_NORM_EPS_CHOICES, MIT_NAMES, type LayerNormEps, type MiTName } from '../backbones/mit.js';
import type { ModelEntry } from '../registry.js';
import { SegFormer } from './model.js';

/** Registry entry 'segformer': MiT-B0…B5 + All-MLP head, HF parameter names. */
export const entry: ModelEntry = {
  name: 'segformer',
  description: 'SegFormer (Xie et al. 2021): Mix Transformer encoder + All-MLP decoder, logits at stride 4; HF transformers parameter names',
  options: {
    encoder: { type: 'string', default: 'mit-b0', choices: MIT_NAMES, doc: 'Mix Transformer size' },
    decoderHiddenSize: { type: 'number', default: 0, doc: "All-MLP decoder width; 0 = the encoder's (256 for mit-b0/b1, 768 for mit-b2…b5)" },
    dropPath: { type: 'number', default: 0.1, doc: 'stochastic-depth rate of the last encoder block, linear from 0 over all blocks (HF drop_path_rate)' },
    classifierDropout: { type: 'number', default: 0.1, doc: 'dropout before the classifier (HF classifier_dropout_prob)' },
    layerNormEps: {
      type: 'string',
      default: 'official',
      choices: LAYER_NORM_EPS_CHOICES,
      doc: "LayerNorm epsilons of the checkpoint's origin: official (NVlabs, mmseg 0.x: 1e-6 in blocks and stage norms, 1e-5 elsewhere), hf (1e-5 everywhere), mmseg (1.x: 1e-6 everywhere)",
    },
  },
  create: (o) =>
    new SegFormer({
      numClasses: o.numClasses,
      inChannels: o.inChannels,
      encoder: o.encoder as MiTName,
      decoderHiddenSize: o.decoderHiddenSize as number,
      dropPath: o.dropPath as number,
      classifierDropout: o.classifierDropout as number,
      layerNormEps: o.layerNormEps as LayerNormEps,
    }),
};
