import { MIT_NAMES, type MiTName } from '../backbones/mit.js';
import type { ModelEntry } from '../registry.js';
import { SERSegFormer } from './model.js';

/** Registry entry 'serseg-former': FastSeg's SERSegFormer with every switch (architectures.md §2.4). */
export const entry: ModelEntry = {
  name: 'serseg-former',
  description: "FastSeg's SERSegFormer: SegFormer with switchable AbG, DbN, AfN, DAM, depth input and a learned-upsampling decoder (FastSeg parameter names)",
  options: {
    encoder: { type: 'string', default: 'mit-b0', choices: MIT_NAMES, doc: 'Mix Transformer size (FastSeg uses mit-b0)' },
    abg: { type: 'boolean', default: false, doc: 'attention-boosting gate t + t·σ(t) in the encoder (patch embeddings, K/V reduction, Mix-FFN)' },
    dbn: { type: 'boolean', default: false, doc: 'dilation-based network on decoder inputs 0 and 1 (concatenated)' },
    afn: { type: 'boolean', default: false, doc: 'attention-fusion networks on the decoder inputs (and after the first ×2 with upsample)' },
    dam: { type: 'boolean', default: false, doc: "dual attention (FastSeg's reading of HSNet) on the stride-4 decoder input" },
    upsample: { type: 'boolean', default: false, doc: 'two learned ×2 upsampling blocks: logits at the input size (FastSeg "w DConv decoder") instead of stride 4' },
    depthChannel: { type: 'boolean', default: false, doc: 'the input has inChannels + 1 channels, the last being a depth map, fed to every encoder stage and decoder inputs 0–2' },
    decoderHiddenSize: { type: 'number', default: 256, doc: 'All-MLP decoder width (the upsampling blocks are a quarter of it)' },
    dropPath: { type: 'number', default: 0.1, doc: 'stochastic-depth rate of the last encoder block, linear from 0 over all blocks' },
    classifierDropout: { type: 'number', default: 0.1, doc: 'dropout before the classifier' },
  },
  create: (o) =>
    new SERSegFormer({
      numClasses: o.numClasses,
      inChannels: o.inChannels,
      encoder: o.encoder as MiTName,
      abg: o.abg as boolean,
      dbn: o.dbn as boolean,
      afn: o.afn as boolean,
      dam: o.dam as boolean,
      upsample: o.upsample as boolean,
      depthChannel: o.depthChannel as boolean,
      decoderHiddenSize: o.decoderHiddenSize as number,
      dropPath: o.dropPath as number,
      classifierDropout: o.classifierDropout as number,
    }),
};
