/**
 * `createSegmenter` for the browser: the same call and options as in Node, with models fetched
 * over HTTP (`<modelBaseUrl>/<name>/model.safetensors` for a shipped name, or any checkpoint URL)
 * and run on onnxruntime-web (wasm by default, WebGPU on request).
 *
 * ```ts
 * const segmenter = await createSegmenter('camvid');            // fetches models/camvid/model.safetensors
 * const { labels, width, height, classes } = await segmenter.segment(imgElement);
 * await segmenter.dispose();
 * ```
 */
import type { DecodedImage, ImageSource } from '../data/image.js';
import type { RGB } from '../data/labels/types.js';
import { webCodec } from '../data/image-web.js';
import { parseSafetensors } from '../io/safetensors.js';
import { Segmenter, type Segmentation, type SegmenterOptions } from '../segmenter/segmenter.js';
import { checkpointFromSafetensors } from '../train/checkpoint-format.js';
import { webBackendRuntime, type WebBackend } from './backend.js';
import { fetchBytes } from './fetch-bytes.js';
import { configureWasm, type WasmSettings } from './ort-env.js';
import { isDecodedImage, readPixels, type ImageDataLike, type WebImageInput } from './pixels.js';

export interface WebSegmenterOptions extends SegmenterOptions, WasmSettings {
  /** Where shipped models are served: `<modelBaseUrl>/<name>/model.safetensors` (default 'models/', relative to the page). */
  modelBaseUrl?: string;
  /** 'wasm' (default) or 'webgpu' (needs `navigator.gpu`; ops WebGPU lacks run on wasm). */
  backend?: WebBackend;
  /** Download progress of the checkpoint, in bytes (`total` is 0 when the server sends no length). */
  onProgress?: (loaded: number, total: number) => void;
}

/** A shipped model's name (letters, digits, '-') rather than a URL. */
const MODEL_NAME = /^[a-z0-9-]+$/;

/** The URL a shipped name or a checkpoint URL stands for. */
export function modelUrl(nameOrUrl: string, modelBaseUrl = 'models/'): string {
  if (!nameOrUrl) throw new Error("createSegmenter: expected a shipped model's name (e.g. 'camvid', 'portrait') or a checkpoint URL, got an empty string");
  if (!MODEL_NAME.test(nameOrUrl)) return nameOrUrl;
  return `${modelBaseUrl.endsWith('/') ? modelBaseUrl : `${modelBaseUrl}/`}${nameOrUrl}/model.safetensors`;
}

/** A checkpoint download, with errors naming the model and where shipped models are served. */
function fetchCheckpoint(url: string, nameOrUrl: string, onProgress?: (loaded: number, total: number) => void): Promise<Uint8Array> {
  const named = MODEL_NAME.test(nameOrUrl) ? ` for model '${nameOrUrl}'` : '';
  const httpHint = named ? ` (shipped models are served as <modelBaseUrl>/<name>/model.safetensors; set modelBaseUrl, or pass a checkpoint URL)` : '';
  return fetchBytes(url, { what: `createSegmenter: cannot fetch ${url}${named}`, httpHint, onProgress });
}

/** What a browser segmenter takes: browser images, decoded pixels, encoded bytes or an image URL. */
export type WebSegmentInput = WebImageInput | ImageDataLike | DecodedImage | ImageSource;

/** A {@link Segmenter} that also takes the browser's image types, and says how it runs. */
export class WebSegmenter {
  readonly classes: readonly string[];
  readonly palette: readonly RGB[];
  /** The fixed [height, width] the model runs at, if any. */
  readonly inputSize?: readonly [number, number];

  constructor(
    /** The platform-neutral segmenter underneath. */
    readonly segmenter: Segmenter,
    /** The checkpoint's URL. */
    readonly url: string,
    readonly backend: WebBackend,
    /** onnxruntime-web's wasm threads in force (1 unless the page is cross-origin isolated). */
    readonly threads: number,
  ) {
    this.classes = segmenter.classes;
    this.palette = segmenter.palette;
    this.inputSize = segmenter.inputSize;
  }

  /**
   * Segments an image: an element, canvas, bitmap or ImageData (read at its natural size), decoded
   * pixels, encoded bytes, or an image URL. The labels are at the image's size.
   */
  async segment(image: WebSegmentInput): Promise<Segmentation> {
    if (typeof image === 'string' || image instanceof Uint8Array || image instanceof ArrayBuffer || isDecodedImage(image)) return this.segmenter.segment(image);
    return this.segmenter.segment(readPixels(image));
  }

  async dispose(): Promise<void> {
    await this.segmenter.dispose();
  }
}

/**
 * Loads a shipped model by name or a segkit checkpoint by URL and compiles it for onnxruntime-web.
 * Threads and `wasmPaths` apply to the whole page and are fixed by the first segmenter created.
 */
export async function createSegmenter(nameOrUrl: string, o: WebSegmenterOptions = {}): Promise<WebSegmenter> {
  const { backend, runtime } = await webBackendRuntime(o.backend, 'createSegmenter');
  const { threads } = configureWasm({ threads: o.threads, wasmPaths: o.wasmPaths });
  const url = modelUrl(nameOrUrl, o.modelBaseUrl);
  // An exported graph carries its own pre/post-processing and cannot take the Segmenter's options.
  if (/\.onnx([?#].*)?$/i.test(url)) throw new Error(`createSegmenter: ${url} is an exported ONNX file; load it with loadExportedSegmenter(url) (createSegmenter takes segkit checkpoints, .safetensors)`);
  const bytes = await fetchCheckpoint(url, nameOrUrl, o.onProgress);
  const checkpoint = checkpointFromSafetensors(parseSafetensors(bytes, url));
  const segmenter = Segmenter.fromCheckpoint(checkpoint, webCodec, runtime, { ...o, threads }, url);
  return new WebSegmenter(segmenter, url, backend, threads);
}
