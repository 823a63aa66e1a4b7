/** Frame rates over a sliding window of recent frames. */
export class RateMeter {
  private times: number[] = [];
  private durations: number[] = [];

  constructor(private readonly windowMs = 3000) {}

  /** A frame finished at `now` after `durationMs` of work. */
  add(now: number, durationMs: number): void {
    this.times.push(now);
    this.durations.push(durationMs);
    while (this.times.length > 2 && now - this.times[0]! > this.windowMs) {
      this.times.shift();
      this.durations.shift();
    }
  }

  /** Completed frames per second over the window (frame-to-frame, what the viewer sees). */
  get throughput(): number {
    const n = this.times.length;
    return n < 2 ? 0 : ((n - 1) * 1000) / (this.times[n - 1]! - this.times[0]!);
  }

  /** 1 / mean work time: how fast the measured step alone could run. */
  get rate(): number {
    const n = this.durations.length;
    if (!n) return 0;
    return (1000 * n) / this.durations.reduce((a, b) => a + b, 0);
  }
}

export function base64(bytes: Uint8Array | Float32Array): string {
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}
