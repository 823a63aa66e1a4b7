import type { Tensor } from '../../engine/tensor.js';
import { kaimingNormalFanOut } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Linear } from '../../nn/layers/linear.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';
import { Sequential } from '../../nn/layers/container.js';

/**
 * torchvision's ResNet with its parameter names (conv1, bn1, layer1.0.conv1, …, fc), so
 * torchvision checkpoints load as they are. `replaceStrideWithDilation` gives output stride 16 or 8
 * as in torchvision (BasicBlock accepts dilation too, as mmseg's ResNet does; torchvision refuses).
 */
function conv(inC: number, outC: number, k: 1 | 3 | 7, stride = 1, dilation = 1): Conv2d {
  const c = new Conv2d(inC, outC, k, { stride, padding: ((k - 1) / 2) * dilation, dilation, bias: false });
  c.weight.set(kaimingNormalFanOut(c.weight.shape).value); // torchvision: kaiming_normal_(fan_out, relu)
  return c;
}

/** A residual block; `preActivation` is its output before the final ReLU (the residual sum). */
export interface ResidualBlock extends Module {
  forward(x: Tensor): Tensor;
  preActivation(x: Tensor): Tensor;
}

class BasicBlock extends Module implements ResidualBlock {
  static expansion = 1;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Sequential | null;

  constructor(inC: number, planes: number, stride: number, downsample: Sequential | null, dilation: number) {
    super();
    this.conv1 = this.module('conv1', conv(inC, planes, 3, stride, dilation));
    this.bn1 = this.module('bn1', new BatchNorm2d(planes));
    this.conv2 = this.module('conv2', conv(planes, planes, 3, 1, dilation));
    this.bn2 = this.module('bn2', new BatchNorm2d(planes));
    this.downsample = downsample && this.module('downsample', downsample);
  }

  preActivation(x: Tensor): Tensor {
    const y = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()));
    return y.add(this.downsample ? this.downsample.forward(x) : x);
  }

  forward(x: Tensor): Tensor {
    return this.preActivation(x).relu();
  }
}

class Bottleneck extends Module implements ResidualBlock {
  static expansion = 4;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  downsample: Sequential | null;

  constructor(inC: number, planes: number, stride: number, downsample: Sequential | null, dilation: number) {
    super();
    this.conv1 = this.module('conv1', conv(inC, planes, 1));
    this.bn1 = this.module('bn1', new BatchNorm2d(planes));
    // torchvision puts the stride on the 3×3 conv (ResNet v1.5).
    this.conv2 = this.module('conv2', conv(planes, planes, 3, stride, dilation));
    this.bn2 = this.module('bn2', new BatchNorm2d(planes));
    this.conv3 = this.module('conv3', conv(planes, planes * 4, 1));
    this.bn3 = this.module('bn3', new BatchNorm2d(planes * 4));
    this.downsample = downsample && this.module('downsample', downsample);
  }

  preActivation(x: Tensor): Tensor {
    let y = this.bn1.forward(this.conv1.forward(x)).relu();
    y = this.bn2.forward(this.conv2.forward(y)).relu();
    y = this.bn3.forward(this.conv3.forward(y));
    return y.add(this.downsample ? this.downsample.forward(x) : x);
  }

  forward(x: Tensor): Tensor {
    return this.preActivation(x).relu();
  }
}

export const RESNET_DEPTHS = { 18: [BasicBlock, [2, 2, 2, 2]], 34: [BasicBlock, [3, 4, 6, 3]], 50: [Bottleneck, [3, 4, 6, 3]], 101: [Bottleneck, [3, 4, 23, 3]] } as const;
export type ResNetDepth = keyof typeof RESNET_DEPTHS;

export interface ResNetOptions {
  inChannels?: number;
  /** Classification head classes (torchvision: 1000); null for a backbone without fc. */
  numClasses?: number | null;
  /** torchvision's replace_stride_with_dilation for layer2..4: [F,F,F] → OS 32, [F,F,T] → 16, [F,T,T] → 8. */
  replaceStrideWithDilation?: [boolean, boolean, boolean];
  /** Drop the stem max-pool (S2-FPN's "34M"): features at strides 2, 4, 8, 16 instead of 4…32. */
  noMaxPool?: boolean;
  /**
   * Scales every width (stem 64, layers 64…512) as MobileNet's width multiplier does; 1 is
   * torchvision's ResNet. Narrow ResNets serve real-time models trained from scratch (models/portrait).
   */
  widthMultiplier?: number;
}

/** A channel count scaled by a width multiplier; the multiplier must keep it a whole number. */
export function scaledWidth(channels: number, multiplier: number, who: string): number {
  const c = channels * multiplier;
  if (!(multiplier > 0) || !Number.isInteger(c)) throw new Error(`${who}: widthMultiplier must be positive and make ${channels} channels a whole number (e.g. 0.25, 0.5, 1), got ${multiplier}`);
  return c;
}

/**
 * ResNet encoder with the feature-pyramid contract decoders consume (as SMP encoders do):
 * `features(x)` returns the stem output and layer1..layer4, `outChannels` and `strides` describe them.
 */
export class ResNet extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  layers: Sequential[];
  fc: Linear | null;
  readonly outChannels: number[];
  readonly strides: number[];

  constructor(
    readonly depth: ResNetDepth,
    readonly options: ResNetOptions = {},
  ) {
    super();
    const spec = RESNET_DEPTHS[depth];
    if (!spec) throw new Error(`ResNet: depth must be one of ${Object.keys(RESNET_DEPTHS).join(', ')}, got ${depth}`);
    const [block, counts] = spec;
    const dilate = options.replaceStrideWithDilation ?? [false, false, false];
    const width = (c: number) => scaledWidth(c, options.widthMultiplier ?? 1, 'ResNet');
    this.conv1 = this.module('conv1', conv(options.inChannels ?? 3, width(64), 7, 2));
    this.bn1 = this.module('bn1', new BatchNorm2d(width(64)));
    let inC = width(64);
    let dilation = 1;
    let stride = options.noMaxPool ? 2 : 4;
    this.strides = [2];
    this.outChannels = [width(64)];
    this.layers = [64, 128, 256, 512].map(width).map((planes, i) => {
      let s = i === 0 ? 1 : 2;
      const previous = dilation;
      if (i > 0 && dilate[i - 1]) {
        dilation *= s;
        s = 1;
      }
      stride *= s;
      const outC = planes * block.expansion;
      const down = s !== 1 || inC !== outC ? new Sequential(conv(inC, outC, 1, s), new BatchNorm2d(outC)) : null;
      // As torchvision: the first block of a layer keeps the previous dilation, the rest use the new one.
      const blocks = [new block(inC, planes, s, down, previous)];
      for (let b = 1; b < counts[i]!; b++) blocks.push(new block(outC, planes, 1, null, dilation));
      inC = outC;
      this.strides.push(stride);
      this.outChannels.push(outC);
      return this.module(`layer${i + 1}`, new Sequential(...blocks));
    });
    const numClasses = options.numClasses === undefined ? 1000 : options.numClasses;
    this.fc = numClasses === null ? null : this.module('fc', new Linear(inC, numClasses));
  }

  /** Output stride of the last feature map. */
  get outputStride(): number {
    return this.strides.at(-1)!;
  }

  /** [stem (stride 2), layer1, layer2, layer3, layer4]. */
  features(x: Tensor): Tensor[] {
    const stem = this.bn1.forward(this.conv1.forward(x)).relu();
    let y = this.options.noMaxPool ? stem : stem.maxPool2d({ kernel: 3, stride: 2, padding: 1 });
    const out = [stem];
    for (const layer of this.layers) {
      y = layer.forward(y);
      out.push(y);
    }
    return out;
  }

  /** Classification forward (torchvision): features → global average pool → fc. */
  forward(x: Tensor): Tensor {
    if (!this.fc) throw new Error('ResNet.forward: built without a classification head (numClasses: null); use features()');
    return this.fc.forward(this.features(x).at(-1)!.adaptiveAvgPool2d(1).flatten(1));
  }
}
