// Resident memory after a full garbage collection that has finished freeing what it found.
//
// Without a full GC before each sample, the weights and ONNX bytes of disposed segmenters linger until
// V8 decides to collect, and samples swing by tens of MiB (measured: up to +62 MiB over 10 clean
// cycles), as large as a leak. One gc() is not enough either: V8 frees the backing stores of dead
// ArrayBuffers on a background thread after the collection, so a sample taken at once still counts
// 13–39 MiB of them (measured in process.memoryUsage().external); a second gc() after a short pause
// finds them freed. The test runner starts Node without --expose-gc, so gc is exposed at run time, as
// jest's leak detector does.
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** global.gc under --expose-gc; otherwise V8's gc, exposed now. */
function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
const gc = exposeGc();

export async function settledRss(): Promise<number> {
  gc();
  await sleep(20);
  gc();
  return process.memoryUsage().rss;
}
