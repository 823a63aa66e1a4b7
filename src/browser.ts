/**
 * segkit for the browser: everything in `segkit/web` (the platform-neutral core and
 * onnxruntime-web) plus `createSegmenter` fetching models over HTTP, `loadExportedSegmenter`
 * running files written by `segkit export`, the people helpers (segmentPeople, PersonStream) and
 * canvas drawing (drawMask, drawBokehEffect, replaceBackground).
 * `npm run build:web` bundles it as one ES module (dist/web/segkit.js).
 */
export * from './web.js';
export { createSegmenter, modelUrl, WebSegmenter, type WebSegmenterOptions, type WebSegmentInput } from './web/create-segmenter.js';
export type { WebBackend } from './web/backend.js';
export { loadExportedSegmenter, WebExportedSegmenter, type ExportedWebOptions, type ExportedWebSegmentation } from './web/exported.js';
export { ExportedSegmenter, type ExportedSegmentation } from './export/exported-segmenter.js';
export { type ExportContract } from './export/contract.js';
export { configureWasm, type WasmSettings, type WasmState } from './web/ort-env.js';
export { readPixels, sourceSize, makeImageData, createCanvas, context2d, type WebImageInput, type ImageDataLike } from './web/pixels.js';
export {
  segmentPeople,
  personClassIndex,
  personProbability,
  MaskSmoother,
  PersonStream,
  type PersonSegmentation,
  type SegmentPeopleOptions,
  type PersonStreamOptions,
} from './web/person.js';
export { toBinaryMask, toColoredMask, drawMask, drawBokehEffect, replaceBackground, personMatte, putPixels, type Color, type BokehOptions, type ReplaceOptions } from './web/draw.js';
