// What the streaming-inference soak (test/robustness/soak.test.ts, bench/soak.ts) and the Segmenter
// tests share: a runtime that counts open sessions, a periodic synthetic video frame, and a binary
// person-style checkpoint.
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import type { Runtime, Session } from '../../src/engine/runtime/runtime.js';
import { createModel } from '../../src/models/index.js';
import { manualSeed } from '../../src/nn/init.js';
import type { Checkpoint } from '../../src/train/checkpoint-format.js';

/** Frames per period of the moving pattern: frame t and t + STREAM_PERIOD are the same image. */
export const STREAM_PERIOD = 100;

/** A runtime that forwards to onnxruntime-node and counts the sessions still open. */
export function countingRuntime(): Runtime & { open: () => number } {
  let open = 0;
  return {
    name: nodeRuntime.name,
    open: () => open,
    async createSession(model, o): Promise<Session> {
      const s = await nodeRuntime.createSession(model, o);
      open++;
      let released = false;
      return {
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: (feeds, pre) => s.run(feeds, pre),
        async release() {
          if (!released) open--;
          released = true;
          await s.release();
        },
      };
    },
  };
}

/**
 * Frame t of the stream into `out` (RGB, w×h): diagonal stripes drifting across a gradient, with a
 * skin-toned disc (the "person") moving along a Lissajous path; periodic with STREAM_PERIOD frames.
 */
export function drawFrame(t: number, w: number, h: number, out: Uint8Array): void {
  const phase = (2 * Math.PI * (t % STREAM_PERIOD)) / STREAM_PERIOD;
  const [cx, cy] = [w / 2 + 0.3 * w * Math.cos(phase), h / 2 + 0.25 * h * Math.sin(2 * phase)];
  const r2 = (0.2 * Math.min(w, h)) ** 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 3 * (y * w + x);
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < r2;
      const stripe = 100 * Math.sin((2 * Math.PI * (x + y)) / 16 + phase);
      out[i] = inside ? 210 : Math.round(128 + stripe);
      out[i + 1] = inside ? 160 : Math.round((255 * y) / h);
      out[i + 2] = inside ? 130 : Math.round(128 - stripe / 2);
    }
  }
}

/** A binary person-style SegFormer mit-b0 (random weights), as a video-call app runs it. */
export function personCheckpoint(): Checkpoint {
  const options = { encoder: 'mit-b0', decoderHiddenSize: 32, numClasses: 1 };
  manualSeed(11);
  const model = createModel('segformer', options);
  return { meta: { format: 'segkit-checkpoint/1', iteration: 0, model: { name: 'segformer', options }, classes: ['background', 'person'] }, model: model.stateDict(), optimizer: {} };
}
