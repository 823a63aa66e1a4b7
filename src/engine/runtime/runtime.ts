import type { HostTensor } from '../host-tensor.js';

export interface SessionOptions {
  /** Intra-op threads (Node); 0 lets onnxruntime decide. Default: the machine's core count. */
  threads?: number;
  /** Execution providers in order of preference, e.g. ['webgpu', 'wasm'] or ['cpu']. */
  executionProviders?: string[];
  /** Graph optimisation level; 'all' (default) enables layout transforms and fusions. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Whether idle intra-op threads spin before sleeping (onnxruntime's default: yes). Spinning is
   * fastest on an otherwise idle machine; with other busy processes (data-loader workers) it
   * steals their cores. Set SEGKIT_ORT_SPIN=0 to change the default.
   */
  spin?: boolean;
}

/** A loaded model: named host tensors in, named host tensors out. */
export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Runs the model. Inputs are passed to the runtime without copying. Outputs named in
   * `preallocated` are written into those tensors (no allocation: a train step ping-pongs its
   * parameter buffers); the others are allocated by the runtime.
   */
  run(feeds: Record<string, HostTensor>, preallocated?: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

/** Creates sessions from ONNX bytes. One interface; Node (onnxruntime-node) and web (onnxruntime-web) implementations. */
export interface Runtime {
  readonly name: string;
  createSession(model: Uint8Array, options?: SessionOptions): Promise<Session>;
}
