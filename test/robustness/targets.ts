/**
 * The parsers segkit owns, as fuzz targets: each builds small valid seed inputs (with the same code
 * that writes real files, or the checked-in torch fixtures) and feeds a parser one input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { HostTensor } from '../../src/engine/host-tensor.js';
import { extractStateDict, loadTorchCheckpoint } from '../../src/io/pth.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { DataError } from '../../src/data/errors.js';
import { decodePngIndices, PngFormatError } from '../../src/data/png.js';
import { readPairList } from '../../src/data/sources/list-dataset.js';
import { checkpointFromSafetensors, serializeCheckpoint, type CheckpointMeta } from '../../src/train/checkpoint-format.js';
import { blockLabel, pngGrey, pngGrey16, tempDir } from '../data/helpers.js';
import { buildZip, bytes, tensorPickle, torchZip, u32 } from '../io/builders.js';
import { bytesSource, looksLikeZip, ZipReader } from '../../src/io/zip.js';
import { choose, mutate, mutateFields, mutateJson, type Field } from './mutate.js';
import { encodeOnnx } from '../../src/export/onnx-encode.js';
import { readOnnx } from '../../src/export/onnx-read.js';
import { foldBatchNorm } from '../../src/export/fold-batchnorm.js';
import { exportModuleOnnx } from '../../src/nn/compile.js';
import { manualSeed } from '../../src/nn/init.js';
import { BatchNorm2d } from '../../src/nn/layers/norm.js';
import { Conv2d } from '../../src/nn/layers/conv.js';
import { ReLU } from '../../src/nn/layers/activation.js';
import { Sequential } from '../../src/nn/layers/container.js';
import type { FuzzTarget } from './runner.js';

const enc = (s: string) => new TextEncoder().encode(s);
const tokens = (...xs: (string | Uint8Array)[]) => xs.map((x) => (typeof x === 'string' ? enc(x) : x));
const JSON_TOKENS = ['null', '-1', '0', '1e309', '9007199254740993', '[]', '{}', '""', '"', '\\', '\\u0000', '"__proto__"', ',', ':'];

/** Every tensor of a file, read in full (get copies or views every byte it claims). */
function touchAll(tensors: Iterable<HostTensor>): number {
  let n = 0;
  for (const t of tensors) n += t.data.length;
  return n;
}

/** A safetensors file from a header value and a data buffer (the header need not be valid). */
function safetensorsFile(header: unknown, data: Uint8Array): Uint8Array {
  const json = enc(JSON.stringify(header) ?? 'null');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The header object and data buffer of a well-formed safetensors file. */
function splitSafetensors(file: Uint8Array): { header: unknown; data: Uint8Array } {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))), data: file.subarray(8 + n) };
}

/** A safetensors file written by hand: unpadded header (so data is unaligned) and dtypes serializeSafetensors never writes. */
function handSafetensors(): Uint8Array {
  const data = new Uint8Array([0x80, 0x3f, 0x00, 0xc0, 0x49, 0x40, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0xff, 0xff, 0x02, 0x00, 0x07, 0x00]);
  return safetensorsFile({
    __metadata__: { note: 'hand-made' },
    x: { dtype: 'BF16', shape: [3], data_offsets: [0, 6] },
    y: { dtype: 'F64', shape: [1], data_offsets: [6, 14] },
    z: { dtype: 'I16', shape: [2], data_offsets: [14, 18] },
    u: { dtype: 'U16', shape: [1], data_offsets: [18, 20] },
  }, data);
}

const safetensors: FuzzTarget = {
  name: 'safetensors',
  about: 'parseSafetensors, then get() of every tensor',
  async prepare() {
    const source = 'fuzz-input.safetensors';
    return {
      seeds: [
        serializeSafetensors({
          a: new HostTensor(Float32Array.from([1, -2, 3.5, 0, 1e-3, 7]), [2, 3]),
          b: new HostTensor(new Uint16Array([0x3c00, 0xc000, 0x7c00, 1]), [4], 'float16'),
          c: new HostTensor(BigInt64Array.from([1n, -1n]), [2], 'int64'),
          d: new HostTensor(Uint8Array.from([0, 1, 255]), [3], 'uint8'),
          e: new HostTensor(Uint8Array.from([1, 0]), [2], 'bool'),
          f: new HostTensor(Int32Array.from([-5]), [1], 'int32'),
          g: new HostTensor(Int8Array.from([-1, 2]), [1, 2], 'int8'),
          h: new HostTensor(new Float32Array(0), [0, 3]),
        }, { format: 'pt' }),
        handSafetensors(),
        serializeSafetensors({}),
      ],
      tokens: tokens(...JSON_TOKENS, '"F32"', '"BF16"', '"U64"', '"__metadata__"', '"data_offsets"', '"shape"', '"dtype"', '[0,0]', '[4294967296]'),
      // A third of the cases mutate the header as JSON (types, offsets, shapes) over the same data.
      derive(base, caseSeed) {
        if (choose(caseSeed, 2, 3) !== 0) return undefined;
        const { header, data } = splitSafetensors(base);
        return { bytes: safetensorsFile(mutateJson(header, caseSeed), data), ops: ['json'] };
      },
      contract: { source },
      run(input) {
        const f = parseSafetensors(input, source);
        const tensors: HostTensor[] = [];
        for (const name of f.names()) {
          if (f.info(name).dtype === 'U16') continue; // readable in the format but not by segkit: get() refuses it by design
          tensors.push(f.get(name));
          f.raw(name);
        }
        return touchAll(tensors);
      },
    };
  },
};

const pth: FuzzTarget = {
  name: 'pth',
  about: 'loadTorchCheckpoint (ZIP and legacy, CRC checked or not) + extractStateDict',
  async prepare() {
    const source = 'fuzz-input.pth';
    const fixtures = join(import.meta.dirname, '..', 'fixtures', 'pth');
    const f32 = (n: number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => i - 2).buffer);
    const seeds = [
      readFileSync(join(fixtures, 'tiny-zip.pth')),
      readFileSync(join(fixtures, 'tiny-legacy.pth')),
      await torchZip(tensorPickle({ numel: 6, size: [2, 3], stride: [3, 1] }), { 0: f32(6) }),
      await torchZip(tensorPickle({ numel: 8, offset: 1, size: [2, 3], stride: [1, 2] }), { 0: f32(8) }),
    ];
    // The entries of each ZIP seed, to mutate one of them (mostly data.pkl) inside a valid archive.
    const unzipped = new Map<Uint8Array, { name: string; data: Uint8Array }[]>();
    for (const seed of seeds.filter(looksLikeZip)) {
      const zip = await ZipReader.open(bytesSource(seed));
      unzipped.set(seed, await Promise.all(zip.entries.map(async (e) => ({ name: e.name, data: (await zip.read(e)).slice() }))));
    }
    const pickleTokens = tokens(
      'ctorch._utils\n_rebuild_tensor_v2\n', 'ctorch\nFloatStorage\n', 'ccollections\nOrderedDict\n', 'cos\nsystem\n',
      bytes('K', 0xff), bytes('J', u32(0x7fffffff)), bytes('J', u32(0xffffffff)), bytes(0x8a, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
      '(', ')', 't', 'R', '}', ']', 'u', 'e', 'Q', '.', bytes('q', 0), bytes('h', 0), bytes('r', u32(0xffffffff)),
      'PK\x03\x04', 'PK\x01\x02', 'PK\x05\x06', 'PK\x06\x06', 'PK\x06\x07',
    );
    return {
      seeds,
      // A quarter of the cases of ZIP seeds mutate one entry and re-zip it, so that the pickle and
      // the storages are fuzzed behind a valid archive (with valid CRCs).
      async derive(base, caseSeed) {
        const entries = unzipped.get(base);
        if (!entries || choose(caseSeed, 4, 4) !== 0) return undefined;
        const which = choose(caseSeed, 5, 3) === 0 ? choose(caseSeed, 6, entries.length) : entries.findIndex((e) => e.name.endsWith('/data.pkl'));
        const m = mutate(entries[which]!.data, caseSeed, pickleTokens);
        const rezipped = entries.map((e, i) => ({ name: e.name, data: i === which ? m.bytes : e.data }));
        return { bytes: await buildZip(rezipped, { zip64End: true }), ops: [`entry ${entries[which]!.name}`, ...m.ops] };
      },
      tokens: pickleTokens,
      contract: { source },
      async run(input, caseSeed) {
        // Half the cases skip CRC checks, or almost every mutation of the data would stop there.
        const ckpt = await loadTorchCheckpoint(input, source, { verifyCrc: choose(caseSeed, 7, 2) === 0 });
        // The torch fixtures keep their state dict under 'tensors' (beside 'meta').
        const obj = ckpt.object as Record<string, unknown> | null;
        const sd = extractStateDict(typeof obj === 'object' && obj !== null && 'tensors' in obj ? obj.tensors : obj, source);
        return touchAll(Object.values(sd.tensors));
      },
    };
  },
};

/** The IHDR fields (width, height, bit depth, colour type, interlace) and every chunk's length field. */
function pngFields(file: Uint8Array): Field[] {
  const be = (at: number, width: 1 | 4): Field => ({ at, width, littleEndian: false });
  const fields = [be(16, 4), be(20, 4), be(24, 1), be(25, 1), be(28, 1)];
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  for (let at = 8; at + 8 <= file.length; at += 12 + view.getUint32(at)) fields.push(be(at, 4));
  return fields;
}

const png: FuzzTarget = {
  name: 'png',
  about: 'decodePngIndices with zlib inflateSync (grey 8/16-bit, palette 1/2/4/8-bit)',
  async prepare() {
    const w = 9;
    const h = 5;
    const rgb = new Uint8Array(w * h * 3).map((_, i) => ((i % 3) * 90 + Math.floor(i / 7) * 40) & 0xff);
    // libvips picks the smallest bit depth that holds the palette (checked in fuzz.test.ts).
    const palette = (bitdepth: 1 | 2 | 4 | 8) => sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png({ palette: true, colours: 2 ** bitdepth }).toBuffer();
    const grey16 = Uint16Array.from({ length: w * h }, (_, i) => i * 1000);
    return {
      seeds: [
        await pngGrey(blockLabel(w, h, 5), w, h),
        await palette(1),
        await palette(2),
        await palette(4),
        await palette(8),
        pngGrey16(grey16, w, h),
      ].map((b) => new Uint8Array(b)),
      tokens: tokens('IHDR', 'IDAT', 'IEND', 'PLTE', 'tRNS', bytes(0xff, 0xff, 0xff, 0xff), bytes(0, 0, 0, 0), bytes(0x78, 0x9c), bytes(0, 0, 0, 0x0d, 'IHDR')),
      // A third of the cases set header fields to boundary values together (say bit depth 0 and a huge width).
      derive: (base, caseSeed) => (choose(caseSeed, 3, 3) === 0 ? { bytes: mutateFields(base, pngFields(base), caseSeed), ops: ['fields'] } : undefined),
      contract: { errorClass: PngFormatError },
      run: (input) => decodePngIndices(input, (z) => inflateSync(z)),
    };
  },
};

const list: FuzzTarget = {
  name: 'list',
  about: 'readPairList on list-file text (written to a temp file)',
  async prepare() {
    const { dir, cleanup } = tempDir('segkit-fuzz-list-');
    const file = join(dir, 'fuzz-list.txt');
    return {
      seeds: [
        enc('images/a.png labels/a.png\n# a comment\n\nimages/b.png labels/b.png\r\n/SegNet/CamVid/train/c.png /SegNet/CamVid/trainannot/c.png\n'),
        enc('a.jpg a.png\n  sub/a.jpg\tsub/a.png  \n'),
      ],
      tokens: tokens(' ', '\t', '\n', '\r\n', '\r', '#', '/', '../', '\u0000', '\u2028', '\ufeff', ' x y z', 'a.png'),
      contract: { source: file, errorClass: DataError },
      run(input) {
        writeFileSync(file, input);
        return readPairList(dir, file);
      },
      close: cleanup,
    };
  },
};

const checkpoint: FuzzTarget = {
  name: 'checkpoint',
  about: 'checkpointFromSafetensors on mutated files and on valid files with mutated metadata',
  async prepare() {
    const source = 'fuzz-input.ckpt.safetensors';
    const meta: CheckpointMeta = {
      format: 'segkit-checkpoint/1',
      iteration: 3,
      model: { name: 'tiny', options: { numClasses: 2 } },
      classes: ['bg', 'fg'],
      palette: [[0, 0, 0], [255, 0, 0]],
      best: { metric: 'mIoU', value: 0.5, iteration: 2 },
    };
    const model = { 'conv.weight': new HostTensor(Float32Array.from([1, 2, 3, 4]), [2, 2]), 'conv.bias': new HostTensor(new Float32Array(2), [2]) };
    const optimizer = { 'conv.weight.m': new HostTensor(new Float32Array(4), [2, 2]) };
    const file = serializeCheckpoint({ meta, model, optimizer });
    const tensors = { ...model, 'optimizer.conv.weight.m': optimizer['conv.weight.m'] };
    const metaTokens = tokens(...JSON_TOKENS, '"segkit-checkpoint/1"', '"format"', '"model"', '"classes"', '"iteration"', '"name"', '"segkit"');
    return {
      seeds: [file],
      tokens: metaTokens,
      // Half the cases mutate the whole file; the others mutate the metadata (as text or as JSON) and
      // re-wrap it in a valid file, since most whole-file mutants stop at the safetensors checks.
      derive(_base, caseSeed) {
        if (choose(caseSeed, 8, 2) === 0) return undefined;
        const text = choose(caseSeed, 9, 2) === 0
          ? new TextDecoder().decode(mutate(enc(JSON.stringify(meta)), caseSeed, metaTokens).bytes)
          : JSON.stringify(mutateJson(meta, caseSeed)) ?? 'null';
        return { bytes: serializeSafetensors(tensors, { segkit: text, format: 'pt' }), ops: ['metadata'] };
      },
      contract: { source },
      run: (input) => checkpointFromSafetensors(parseSafetensors(input, source)),
    };
  },
};

const onnx: FuzzTarget = {
  name: 'onnx',
  about: "readOnnx (segkit export's protobuf reader), then encodeOnnx of what it read",
  async prepare() {
    // A small conv-BN-ReLU graph as segkit writes it, and the same graph after the export passes.
    manualSeed(1);
    const net = new Sequential(new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU()).eval();
    const written = exportModuleOnnx(net, [{ shape: [1, 3, 5, 6] }], { metadata: { classes: '["a","b"]' } });
    const folded = readOnnx(written);
    foldBatchNorm(folded);
    return {
      seeds: [written, encodeOnnx(folded)],
      tokens: [new Uint8Array([0x08]), new Uint8Array([0x12]), new Uint8Array([0x3a]), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])],
      contract: {},
      run: (input) => encodeOnnx(readOnnx(input)).length,
    };
  },
};

/** All targets, in report order. */
export const TARGETS: readonly FuzzTarget[] = [safetensors, pth, png, list, checkpoint, onnx];
