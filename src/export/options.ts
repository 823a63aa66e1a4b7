/**
 * The choices an export takes (output head, weight format, symbolic dims), each parsed from text
 * with an error that lists the valid values, so the CLI and the API reject the same things the
 * same way.
 */

/** What the exported graph ends with. */
export const HEADS = ['logits', 'probs', 'labels'] as const;
export type Head = (typeof HEADS)[number];

/** How the weights are stored. */
export const WEIGHT_FORMATS = ['float32', 'float16', 'int8-dynamic', 'int8-static'] as const;
export type WeightFormat = (typeof WEIGHT_FORMATS)[number];

export const INT8_MODES = ['dynamic', 'static'] as const;
export type Int8Mode = (typeof INT8_MODES)[number];

/** Dims `--dynamic` accepts (only the batch: see dynamic-batch.ts). */
export const DYNAMIC_DIMS = ['batch'] as const;

const list = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ');

export function parseHead(text: string): Head {
  if ((HEADS as readonly string[]).includes(text)) return text as Head;
  throw new Error(`unknown head '${text}'; valid heads: ${list(HEADS)} (logits: N×K×H×W scores; probs: softmax over K, sigmoid for one-channel binary models; labels: N×H×W class indices)`);
}

export function parseInt8Mode(text: string): Int8Mode {
  if ((INT8_MODES as readonly string[]).includes(text)) return text as Int8Mode;
  throw new Error(`unknown int8 mode '${text}'; valid modes: ${list(INT8_MODES)} (dynamic: int8 weights only; static: int8 weights and calibrated activations)`);
}

/**
 * `--dynamic` values: 'batch' (or a comma list containing only it). Height and width are refused
 * with the reason: segkit traces static shapes, so a file takes one input size.
 */
export function parseDynamic(text: string): { batch: boolean } {
  const dims = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (dims.length === 0) throw new Error(`--dynamic needs a dim; valid: ${list(DYNAMIC_DIMS)}`);
  for (const d of dims) {
    if (d === 'batch') continue;
    if (['height', 'width', 'h', 'w', 'hw', 'spatial', 'size'].includes(d)) {
      throw new Error(
        `a dynamic ${d === 'w' || d === 'width' ? 'width' : d === 'h' || d === 'height' ? 'height' : 'height/width'} is not supported: segkit traces static shapes, ` +
          'and the input size is baked into resize targets, pooling matrices and position embeddings. ' +
          'Export one file per input size instead (--input 1x3xHxW for each); only the batch can be symbolic (--dynamic batch)',
      );
    }
    throw new Error(`unknown dynamic dim '${d}'; valid: ${list(DYNAMIC_DIMS)}`);
  }
  return { batch: true };
}

/** The weight format from the --fp16 / --int8 flags (they exclude each other). */
export function weightFormat(o: { fp16?: boolean; int8?: Int8Mode }): WeightFormat {
  if (o.fp16 && o.int8) throw new Error('--fp16 and --int8 exclude each other: choose float16 weights or int8 weights');
  if (o.fp16) return 'float16';
  if (o.int8) return `int8-${o.int8}`;
  return 'float32';
}
