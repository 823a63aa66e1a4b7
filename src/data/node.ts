/** segkit data for Node.js: everything in `./index.ts` plus the sharp codec, datasets on disk and the loader. */
export * from './index.js';
export * from './image-node.js';
export * from './sources/index.js';
export * from './loader.js';
export { processSample } from './loader-core.js';
