/**
 * Files written by `segkit export` in the browser: an .onnx file (by URL, or its bytes) run on
 * onnxruntime-web (wasm by default, WebGPU on request) with the pre- and post-processing its own metadata prescribes
 * ({@link ExportedSegmenter}), so the page needs neither the checkpoint nor segkit's compiler.
 *
 * ```ts
 * const m = await loadExportedSegmenter('models/camvid.onnx', { threads: 2 });
 * const { labels, width, height, classes } = await m.segment(imgElement);
 * await m.dispose();
 * ```
 */
import { webCodec } from '../data/image-web.js';
import type { RGB } from '../data/labels/types.js';
import type { ExportContract } from '../export/contract.js';
import { ExportedSegmenter, type ExportedSegmentation } from '../export/exported-segmenter.js';
import { webBackendRuntime, type WebBackend } from './backend.js';
import type { WebSegmentInput } from './create-segmenter.js';
import { fetchBytes } from './fetch-bytes.js';
import { configureWasm, type WasmSettings } from './ort-env.js';
import { readPixels } from './pixels.js';

export interface ExportedWebOptions extends WasmSettings {
  /** 'wasm' (default) or 'webgpu' (needs `navigator.gpu`; ops WebGPU lacks run on wasm). */
  backend?: WebBackend;
  /** Download progress of the .onnx file, in bytes (`total` is 0 when the server sends no length). */
  onProgress?: (loaded: number, total: number) => void;
  /** false: leave out the guided-filter edge refinement the file's metadata asks for (default: apply it). */
  refine?: boolean;
}

export interface ExportedWebSegmentation extends ExportedSegmentation {
  /** Class names by label value, from the file's metadata. */
  classes: readonly string[];
  palette: readonly RGB[];
}

/** An {@link ExportedSegmenter} on onnxruntime-web that also takes the browser's image types. */
export class WebExportedSegmenter {
  readonly contract: ExportContract;
  readonly classes: readonly string[];
  readonly palette: readonly RGB[];

  constructor(
    /** The runtime-agnostic segmenter underneath. */
    readonly exported: ExportedSegmenter,
    /** The file's URL, or 'ONNX bytes' when bytes were given. */
    readonly source: string,
    /** onnxruntime-web's wasm threads in force (1 unless the page is cross-origin isolated). */
    readonly threads: number,
    readonly backend: WebBackend,
  ) {
    this.contract = exported.contract;
    this.classes = exported.contract.classes;
    this.palette = exported.contract.palette;
  }

  /**
   * Labels at the image's size. Takes what the browser Segmenter takes: an element, canvas, bitmap
   * or ImageData (read at its natural size), decoded pixels, encoded bytes, or an image URL.
   */
  async segment(image: WebSegmentInput): Promise<ExportedWebSegmentation> {
    const pixels = typeof image === 'string' || image instanceof Uint8Array || image instanceof ArrayBuffer ? await webCodec.decodeImage(image) : readPixels(image);
    const r = await this.exported.segment(pixels);
    return { ...r, classes: this.classes, palette: this.palette };
  }

  async dispose(): Promise<void> {
    await this.exported.dispose();
  }
}

/**
 * Loads an exported .onnx file (a URL to fetch, or its bytes) for onnxruntime-web (`backend`, default wasm).
 * Threads and `wasmPaths` apply to the whole page and are fixed by the first model loaded (as for
 * `createSegmenter`).
 */
export async function loadExportedSegmenter(urlOrBytes: string | URL | Uint8Array | ArrayBuffer, o: ExportedWebOptions = {}): Promise<WebExportedSegmenter> {
  const { backend, runtime } = await webBackendRuntime(o.backend, 'loadExportedSegmenter');
  const { threads } = configureWasm({ threads: o.threads, wasmPaths: o.wasmPaths });
  let bytes: Uint8Array;
  let source: string;
  if (typeof urlOrBytes === 'string' || urlOrBytes instanceof URL) {
    source = String(urlOrBytes);
    if (!source) throw new Error('loadExportedSegmenter: expected the URL of an .onnx file written by segkit export, or its bytes; got an empty string');
    bytes = await fetchBytes(source, { what: `loadExportedSegmenter: cannot fetch ${source}`, onProgress: o.onProgress });
  } else if (urlOrBytes instanceof Uint8Array || urlOrBytes instanceof ArrayBuffer) {
    source = 'ONNX bytes';
    bytes = urlOrBytes instanceof Uint8Array ? urlOrBytes : new Uint8Array(urlOrBytes);
  } else {
    throw new Error(`loadExportedSegmenter: expected a URL or the bytes (Uint8Array, ArrayBuffer) of an .onnx file, got ${(urlOrBytes as object)?.constructor?.name ?? typeof urlOrBytes}`);
  }
  let exported: ExportedSegmenter;
  try {
    exported = await ExportedSegmenter.create(bytes, runtime, { threads, source, refine: o.refine });
  } catch (e) {
    throw new Error(`loadExportedSegmenter: cannot load ${source} (${bytes.length} bytes): ${(e as Error).message}`, { cause: e });
  }
  return new WebExportedSegmenter(exported, source, threads, backend);
}
