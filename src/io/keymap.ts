import type { HostTensor } from '../engine/host-tensor.js';

/**
 * Renames checkpoint keys from another code base's naming (official SegFormer, mmseg, FastSeg, …)
 * to segkit's, which follow the PyTorch reference each model names (torchvision, HF transformers).
 * Rules are tried in order on each key; the first whose pattern matches rewrites it (String.replace
 * with `$1`-style groups) and the rest are skipped. Keys matching `drop` are removed (e.g. an unused
 * classifier, optimizer state stored beside weights).
 */
export interface KeyMap {
  /** Name used on the command line (`segkit convert --from NAME`). */
  name: string;
  description: string;
  rules: readonly (readonly [RegExp, string])[];
  drop?: readonly RegExp[];
  /** Optional per-tensor fix-up after renaming (e.g. a reshape between conv 1×1 and linear). */
  transform?: (key: string, value: HostTensor) => HostTensor;
  /** Optional: replaces one renamed tensor by several (a fused kv projection split into key and value); null keeps it. */
  expand?: (key: string, value: HostTensor) => [string, HostTensor][] | null;
}

/** Applies a key map (rename, transform, expand); throws if two source keys land on the same target key. */
export function applyKeyMap(sd: Record<string, HostTensor>, map: KeyMap): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  const from: Record<string, string> = {};
  for (const [key, value] of Object.entries(sd)) {
    if (map.drop?.some((re) => re.test(key))) continue;
    let renamed = key;
    for (const [re, to] of map.rules) {
      if (re.test(key)) {
        renamed = key.replace(re, to);
        break;
      }
    }
    const fixed = map.transform ? map.transform(renamed, value) : value;
    for (const [k, v] of map.expand?.(renamed, fixed) ?? [[renamed, fixed] as [string, HostTensor]]) {
      if (k in out) throw new Error(`key map '${map.name}': '${key}' and '${from[k]}' both map to '${k}'`);
      out[k] = v;
      from[k] = key;
    }
  }
  return out;
}
