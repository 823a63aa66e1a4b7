// The create → segment → dispose cycles of soak.test.ts, run in a child process that soak.test.ts
// starts with glibc's allocator told to give freed memory back at once (see MEASURING_ALLOCATOR
// there). Prints one JSON line: the RSS after each cycle, and the sessions open after each dispose.
// `--leak-mib N` keeps N MiB of written memory per cycle: the leak the test must be able to see.
// Usage: node --import tsx test/robustness/soak-cycles.ts <cycles> [--leak-mib N]
import { nodeCodec } from '../../src/data/image-node.js';
import { Segmenter } from '../../src/segmenter/segmenter.js';
import { settledRss } from './settled-rss.js';
import { countingRuntime, drawFrame, personCheckpoint } from './streaming.js';

const cycles = Number(process.argv[2]);
const leakMiB = process.argv[3] === '--leak-mib' ? Number(process.argv[4]) : 0;
const kept: Buffer[] = [];
const [W, H] = [48, 40];
const checkpoint = personCheckpoint();
const frame = { data: new Uint8Array(W * H * 3), width: W, height: H, channels: 3 };
drawFrame(0, W, H, frame.data);
const runtime = countingRuntime();
const rss: number[] = [];
const openAfterDispose: number[] = [];
for (let k = 0; k < cycles; k++) {
  const seg = Segmenter.fromCheckpoint(checkpoint, nodeCodec, runtime, { threads: 1 });
  // Sessions are created on the first segment(), so run one frame to have something to release.
  await seg.segment(frame);
  if (runtime.open() !== 1) throw new Error(`cycle ${k}: ${runtime.open()} sessions open after one frame; expected 1`);
  await seg.dispose();
  openAfterDispose.push(runtime.open());
  if (leakMiB) kept.push(Buffer.alloc(leakMiB * 1024 * 1024, 1));
  rss.push(await settledRss());
}
console.log(JSON.stringify({ rss, openAfterDispose }));
