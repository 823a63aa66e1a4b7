import type { KeyMap } from '../../io/keymap.js';

// Keys the official code (mohamedac29/S2-FPN, model/SSFPN*.py, model/common_blocks.py) saves for
// modules it builds but never runs; segkit does not build them. `(module\.)?` allows the
// DataParallel prefix, which the rename rule then strips.
const NEVER_RUN: readonly RegExp[] = [
  // SSAM's residual conv (v1 and v2) and the bias of its shared conv (only the weight is applied).
  /^(module\.)?apf\d\.sa\.(tr\.0\.attn\.)?conv_res\./,
  /^(module\.)?apf\d\.sa\.(tr\.0\.attn\.)?conv_sh\.bias$/,
  // BN (and v2's PReLU) of every conv_block built with bn_act=False.
  /^(module\.)?(apf\d\.sa\.fuse|apf\d\.sa\.tr\.0\.attn\.fuse(_out)?|apf\d\.sa\.tr\.0\.mlp\.fuse|apf\d\.ca\.conv_pool\.[02]|apf\d\.classifier\.2|gfu\d\.conv2\.0|gfu\d\.s2\.0|classifier\.fc|seghead\.fc)\.(bn|act)\./,
];

const STRIP_DATA_PARALLEL = [[/^module\./, '']] as const;

/**
 * Official S2-FPN checkpoints (`model` entry of the official train.py's .pth), v2 with any encoder and
 * v1 with ResNet-50/101: drops the never-run modules listed above.
 */
export const S2FPN_OFFICIAL: KeyMap = {
  name: 's2fpn-official',
  description: 'official S2-FPN checkpoint (mohamedac29/S2-FPN): v2 with any encoder, v1 with ResNet-50/101',
  rules: STRIP_DATA_PARALLEL,
  drop: NEVER_RUN,
};

/**
 * Official S2-FPN v1 checkpoints with ResNet-18/34/34M: v1 also builds the ResNet-50 adapters
 * `down2..down5` (≈ 12.5 M parameters) for these backbones and never runs them.
 */
export const S2FPN_OFFICIAL_V1_BASIC: KeyMap = {
  name: 's2fpn-official-v1-r18-r34',
  description: 'official S2-FPN v1 checkpoint with ResNet-18/34/34M (drops the unused ResNet-50 adapters down2..down5)',
  rules: STRIP_DATA_PARALLEL,
  drop: [...NEVER_RUN, /^(module\.)?down[2-5]\./],
};

export const S2FPN_KEY_MAPS: readonly KeyMap[] = [S2FPN_OFFICIAL, S2FPN_OFFICIAL_V1_BASIC];
