import type { ModelEntry } from '../registry.js';
import { SERNetFormer } from './model.js';
import { PAPER_ENCODERS, SERNetFormerPaper, type PaperEncoder } from './paper.js';

/** SERNet-Former as FastSeg implements it (§2.2): the runnable reference reading. */
export const entry: ModelEntry = {
  name: 'sernet-former',
  description:
    "SERNet-Former as FastSeg runs it: AbG conv-unit encoder (output stride 16), DbN bridge, AfN1/AfN2 decoder, logits at full input resolution; H and W must be multiples of 16 (9.23 M parameters with 1 class)",
  options: {},
  create: ({ numClasses, inChannels }) => new SERNetFormer({ numClasses, inChannels }),
};

/** The paper-style reconstruction (§1.3), experimental. */
export const paperEntry: ModelEntry = {
  name: 'sernet-former-paper',
  description:
    'Experimental paper-style SERNet-Former reconstruction: dilated ResNet-50/101 (output stride 8) with AbMs at every stage end, DbN bridge, AfN decoder, bilinear ×4 to the input size; any input size',
  options: {
    encoder: { type: 'string', default: 'resnet50', choices: Object.keys(PAPER_ENCODERS), doc: 'dilated ResNet encoder' },
  },
  create: ({ numClasses, inChannels, encoder }) => new SERNetFormerPaper({ numClasses, inChannels, encoder: encoder as PaperEncoder }),
  experimental: true,
};
