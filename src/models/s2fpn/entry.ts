import type { ModelEntry } from '../registry.js';
import { S2FPN_VARIANTS, type S2fpnVariant } from '../blocks/s2fpn-conv-block.js';
import { S2FPN, S2FPN_ENCODERS, type S2fpnEncoder } from './s2fpn.js';

/** S2-FPN in the model zoo: `variant` picks the code version, `encoder` the ResNet. */
export const entry: ModelEntry = {
  name: 's2fpn',
  description: 'S2-FPN (Elhassan et al. 2022): ResNet + attention pyramid fusion (strip attention SSAM, channel re-weighting CRB) + global feature upsampling; 4 auxiliary heads (weight 1.0 each) in training',
  options: {
    variant: {
      type: 'string',
      default: 'v1',
      choices: S2FPN_VARIANTS,
      doc: "'v1': the paper's version (strip-pooling SSAM, summing GFU, ReLU); 'v2': the 2023 code (ScaleAwareBlock SSAM, gated GFU, PReLU)",
    },
    encoder: {
      type: 'string',
      default: 'resnet18',
      choices: Object.keys(S2FPN_ENCODERS),
      doc: "torchvision ResNet backbone; 'resnet34m' is ResNet-34 without the stem max-pool (features at strides 2…16); resnet50/101 go through 3×3 adapters to 64…512 channels",
    },
    widthMultiplier: {
      type: 'number',
      default: 1,
      doc: 'scales the ResNet and every decoder width (1: the paper; 0.25 runs the shipped portrait model in real time); 32 × it must be a multiple of 4',
    },
    detailHead: {
      type: 'boolean',
      default: false,
      doc: 'classify at stride 2: the decoder output fused with the ResNet stem (not in the paper; about 7 % more MACs for edges on a grid twice as fine)',
    },
  },
  create: (o) =>
    new S2FPN({
      numClasses: o.numClasses,
      inChannels: o.inChannels,
      variant: o.variant as S2fpnVariant,
      encoder: o.encoder as S2fpnEncoder,
      widthMultiplier: o.widthMultiplier as number,
      detailHead: o.detailHead as boolean,
    }),
};
