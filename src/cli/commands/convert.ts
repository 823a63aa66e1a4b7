/**
 * `segkit convert`: imports a PyTorch checkpoint (.pth/.pt, read without running its pickle code) or
 * a safetensors file into a segkit model and writes the model's weights as safetensors.
 */
import { basename } from 'node:path';
import { HostTensor } from '../../engine/host-tensor.js';
import { fmt } from '../../engine/shape.js';
import { f16ArrayToF32, f32ArrayToF16 } from '../../io/half.js';
import { applyKeyMap, type KeyMap } from '../../io/keymap.js';
import { readStateDictFile } from '../../io/pth-node.js';
import { nearestNames } from '../../io/safetensors.js';
import { writeSafetensorsFile } from '../../io/safetensors-node.js';
import { RESNET_DEPTHS, ResNet, type ResNetDepth, type ResNetOptions } from '../../models/backbones/resnet.js';
import { createModel, listModels } from '../../models/index.js';
import { keyMapByName, keyMapsFor } from '../../models/keymaps.js';
import type { AnyModule } from '../../nn/module.js';
import { parseArgs, UsageError, type Command } from '../command.js';

/** torchvision classification ResNets, accepted by name beside the registry (their checkpoints are common backbones). */
const RESNETS: Record<string, ResNetDepth> = Object.fromEntries(Object.keys(RESNET_DEPTHS).map((d) => [`resnet${d}`, Number(d) as ResNetDepth]));
const RESNET_OPTIONS = 'numClasses (number, or null for no fc; default 1000), inChannels (number), replaceStrideWithDilation ([bool, bool, bool]), noMaxPool (bool)';

function modelNames(): string[] {
  return [...listModels().map((m) => m.name), ...Object.keys(RESNETS).filter((n) => !listModels().some((m) => m.name === n))];
}

function resnetOptions(name: string, o: Record<string, unknown>): ResNetOptions {
  const bad = (k: string, want: string): never => {
    throw new UsageError(`--model-options for ${name}: '${k}' must be ${want}, got ${JSON.stringify(o[k])}`);
  };
  for (const k of Object.keys(o)) if (!['numClasses', 'inChannels', 'replaceStrideWithDilation', 'noMaxPool'].includes(k)) throw new UsageError(`--model-options for ${name}: unknown option '${k}'; valid: ${RESNET_OPTIONS}`);
  const { numClasses, inChannels, replaceStrideWithDilation: dil, noMaxPool } = o;
  if (numClasses !== undefined && numClasses !== null && !(Number.isInteger(numClasses) && (numClasses as number) > 0)) bad('numClasses', 'a positive integer or null');
  if (inChannels !== undefined && !(Number.isInteger(inChannels) && (inChannels as number) > 0)) bad('inChannels', 'a positive integer');
  if (dil !== undefined && !(Array.isArray(dil) && dil.length === 3 && dil.every((b) => typeof b === 'boolean'))) bad('replaceStrideWithDilation', 'three booleans');
  if (noMaxPool !== undefined && typeof noMaxPool !== 'boolean') bad('noMaxPool', 'a boolean');
  return o as ResNetOptions;
}

function buildModel(name: string, options: Record<string, unknown>): AnyModule {
  if (listModels().some((m) => m.name === name)) {
    try {
      return createModel(name, options);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const depth = RESNETS[name];
  if (depth !== undefined) return new ResNet(depth, resnetOptions(name, options));
  throw new UsageError(`unknown model '${name}'; valid models: ${modelNames().join(', ')}`);
}

const list = (keys: string[], max = 20): string => `${keys.slice(0, max).join(', ')}${keys.length > max ? `, … (${keys.length - max} more)` : ''}`;
const fmtBytes = (n: number): string => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

export const convertCommand: Command = {
  name: 'convert',
  summary: 'import a PyTorch checkpoint (.pth/.pt) or safetensors file into a model and save it as safetensors',
  usage: `Usage: segkit convert <in.pth|in.pt|in.safetensors> <out.safetensors> --model NAME
                      [--model-options JSON] [--from KEYMAP] [--strict | --no-strict] [--fp16]

Reads a checkpoint, renames its keys with a key map (--from) when it comes from another code base,
loads it into the model and writes the model's weights as safetensors (atomically), with the source,
model and options in the file's metadata.

PyTorch checkpoints are read without Python and without running their pickle code: only tensors,
storages, dtypes and plain containers are accepted, any other pickled object is refused. Both the
ZIP format (torch >= 1.6) and the legacy format are read. The state dict is found at the top level
or under 'state_dict', 'model_state_dict', 'model', 'module', 'net' or 'params'; nn.DataParallel's
'module.' prefix is removed. float64 and bfloat16 weights become float32.

Options:
  --model NAME          a registered segkit model or a torchvision classifier
                        (resnet18, resnet34, resnet50, resnet101)
  --model-options JSON  the model's options, e.g. '{"numClasses": 19}' (ResNets: ${RESNET_OPTIONS})
  --from KEYMAP         rename keys from another naming (the model's key maps are listed on a failed load)
  --strict              (default) every model tensor must come from the checkpoint and every
                        checkpoint tensor must be used
  --no-strict           load what matches: missing tensors keep their initial values (listed),
                        unused checkpoint tensors are dropped (listed). Shapes must match either way.
  --fp16                write float tensors as float16 (half the size)`,
  async run(args) {
    const { positional, options } = parseArgs(args, { options: ['model', 'model-options', 'from'], flags: ['strict', 'no-strict', 'fp16'] });
    if (positional.length !== 2) throw new UsageError(`expected an input and an output file, got ${positional.length} argument(s)${positional.length ? `: ${positional.join(' ')}` : ''}`);
    const [input, output] = positional as [string, string];
    if (!output.endsWith('.safetensors')) throw new UsageError(`the output '${output}' must be a .safetensors file`);
    if (options.strict && options['no-strict']) throw new UsageError('--strict and --no-strict contradict each other');
    const strict = options['no-strict'] !== true;
    const name = options.model;
    if (typeof name !== 'string') throw new UsageError(`--model NAME is required; valid models: ${modelNames().join(', ')}`);
    let modelOptions: Record<string, unknown> = {};
    if (options['model-options'] !== undefined) {
      try {
        modelOptions = JSON.parse(options['model-options'] as string);
      } catch (e) {
        throw new UsageError(`--model-options is not valid JSON (${(e as Error).message}): ${options['model-options']}`);
      }
      if (typeof modelOptions !== 'object' || modelOptions === null || Array.isArray(modelOptions)) throw new UsageError(`--model-options must be a JSON object, got ${options['model-options']}`);
    }
    let keyMap: KeyMap | undefined;
    if (typeof options.from === 'string') {
      try {
        keyMap = keyMapByName(name, options.from);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    if (!modelNames().includes(name)) throw new UsageError(`unknown model '${name}'; valid models: ${modelNames().join(', ')}`);
    const file = await readStateDictFile(input);
    const model = buildModel(name, modelOptions);
    const where = file.path.length ? `, state dict under '${file.path.join('.')}'` : '';
    console.log(`read ${input} (${file.format}${where}${file.strippedPrefix ? `, prefix '${file.strippedPrefix}' removed` : ''}): ${Object.keys(file.tensors).length} tensors`);
    if (file.ignored.length) console.log(`ignored beside the state dict: ${list(file.ignored)}`);
    if (file.dropped.length) console.log(`dropped non-tensor entries: ${list(file.dropped)}`);
    for (const n of file.notes) console.log(`note: ${n}`);
    let tensors = file.tensors;
    if (keyMap) {
      tensors = applyKeyMap(tensors, keyMap);
      console.log(`key map '${keyMap.name}': ${Object.keys(file.tensors).length} → ${Object.keys(tensors).length} tensors`);
    }

    const own = new Map(model.namedState());
    const given = new Map(Object.entries(tensors));
    // Checkpoints from torch < 0.4.1 (torchvision's original ImageNet weights among them) predate
    // BatchNorm's num_batches_tracked; torch loads them with the counter at 0, and so does this.
    const untracked = [...own.keys()].filter((k) => /(^|\.)num_batches_tracked$/.test(k) && !given.has(k) && given.has(k.replace(/num_batches_tracked$/, 'running_mean')));
    const missing = [...own.keys()].filter((k) => !given.has(k) && !untracked.includes(k));
    const unexpected = [...given.keys()].filter((k) => !own.has(k));
    const mismatched = [...own].filter(([k, p]) => given.has(k) && fmt(given.get(k)!.shape) !== fmt(p.shape)).map(([k, p]) => `${k}: checkpoint ${fmt(given.get(k)!.shape)}, model ${fmt(p.shape)}`);
    const maps = keyMapsFor(name).map((m) => `${m.name} (${m.description})`);
    const hints = (): string => {
      const h: string[] = [];
      if (!keyMap && maps.length) h.push(`checkpoints from other code bases need a key map: --from ${maps.join(' | ')}`);
      if (missing.length && unexpected.length) {
        h.push(`closest checkpoint keys to the first missing ones: ${missing.slice(0, 3).map((k) => `${k} ~ ${nearestNames(k, unexpected, 1)[0]}`).join('; ')}`);
      }
      return h.length ? `\n${h.join('\n')}` : '';
    };
    if (mismatched.length) throw new Error(`${mismatched.length} tensor(s) of ${input} do not fit model '${name}' with options ${JSON.stringify(modelOptions)}:\n  ${mismatched.slice(0, 30).join('\n  ')}${hints()}`);
    if (strict && (missing.length || unexpected.length)) {
      throw new Error(
        `${input} does not match model '${name}' (use --no-strict to load what matches)` +
          (missing.length ? `\n  missing from the checkpoint (${missing.length}): ${list(missing, 30)}` : '') +
          (unexpected.length ? `\n  not in the model (${unexpected.length}): ${list(unexpected, 30)}` : '') +
          hints(),
      );
    }
    if (untracked.length) console.log(`note: ${untracked.length} BatchNorm num_batches_tracked counter(s) absent (a checkpoint from torch < 0.4.1) start at 0, as in torch`);
    if (missing.length) console.warn(`warning: ${missing.length} model tensor(s) missing from the checkpoint keep their initial values: ${list(missing)}`);
    if (unexpected.length) console.warn(`warning: ${unexpected.length} checkpoint tensor(s) not in the model were dropped: ${list(unexpected)}`);

    // float16 comes in as raw half bits; loadStateDict converts between dtypes by value, so widen it first.
    const load: Record<string, HostTensor> = {};
    for (const [k, t] of given) {
      if (!own.has(k)) continue;
      load[k] = t.dtype === 'float16' ? new HostTensor(f16ArrayToF32(t.data as Uint16Array), t.shape, 'float32') : t;
    }
    model.loadStateDict(load, { strict: false });
    const loaded = Object.keys(load).length;
    console.log(`loaded ${loaded} of ${own.size} tensors into ${name} (${model.numParameters().toLocaleString('en-US')} parameters)`);

    const out: Record<string, HostTensor> = {};
    const fp16 = options.fp16 === true;
    for (const [k, t] of Object.entries(model.stateDict())) {
      out[k] = fp16 && t.dtype === 'float32' ? new HostTensor(f32ArrayToF16(t.data as Float32Array), t.shape, 'float16') : t;
    }
    const metadata: Record<string, string> = {
      format: 'pt',
      converted_by: 'segkit convert',
      source: basename(input),
      source_format: file.format,
      model: name,
      model_options: JSON.stringify(modelOptions),
      dtype: fp16 ? 'float16' : 'float32',
    };
    if (keyMap) metadata.key_map = keyMap.name;
    if (!strict) metadata.strict = 'false';
    await writeSafetensorsFile(output, out, metadata);
    const bytes = Object.values(out).reduce((a, t) => a + t.data.byteLength, 0);
    console.log(`wrote ${output} (${Object.keys(out).length} tensors, ${fp16 ? 'float16' : 'float32'}, ${fmtBytes(bytes)})`);
  },
};
