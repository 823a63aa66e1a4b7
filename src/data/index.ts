/**
 * segkit data, platform-neutral part (no Node or DOM imports): label sets, transforms, the seeded
 * generator, statistics, visualisation, the codec interface and the PNG index reader.
 * Node parts (sharp codec, datasets on disk, the worker loader) are in `./node.ts`; the browser codec
 * is `./image-web.ts`.
 */
export * from './errors.js';
export * from './rng.js';
export * from './sample.js';
export * from './image.js';
export * from './png.js';
export * from './labels/index.js';
export * from './transforms/index.js';
export * from './stats.js';
export * from './visualize.js';
export type { DatasetEntry, DatasetOptions, DatasetSpec, SegDataset } from './sources/types.js';
export { sampleRng, epochOrder, type ProcessedSample } from './loader-core.js';
