/**
 * Small weightless graphs (upsampling, the guided filter) compiled once per image size and kept,
 * the least recently used released when the cache is full: a folder of differently sized photos must
 * not hold one onnxruntime session per size. Shared by the Segmenter and the ExportedSegmenter.
 */
import type { CompiledFunction } from '../engine/compile.js';

export class GraphCache {
  /** Most recently used last (a Map keeps insertion order). */
  private readonly graphs = new Map<string, CompiledFunction>();

  constructor(private readonly capacity: number) {}

  /** The graph under `key`, compiled by `make` on first use. */
  async get(key: string, make: () => CompiledFunction): Promise<CompiledFunction> {
    let f = this.graphs.get(key);
    if (f) this.graphs.delete(key); // re-inserted below as the most recently used
    else {
      f = make();
      if (this.graphs.size >= this.capacity) {
        const [oldest, g] = this.graphs.entries().next().value!;
        this.graphs.delete(oldest);
        await g.dispose();
      }
    }
    this.graphs.set(key, f);
    return f;
  }

  /** Releases every graph. */
  async dispose(): Promise<void> {
    const graphs = [...this.graphs.values()];
    this.graphs.clear();
    for (const f of graphs) await f.dispose();
  }
}
