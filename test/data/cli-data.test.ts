import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataBrowseCommand, dataStatsCommand, prepareCityscapesCommand } from '../../src/cli/commands/data.js';
import { commands } from '../../src/cli/commands/index.js';
import { UsageError } from '../../src/cli/command.js';
import { decodeImage } from '../../src/data/image-node.js';
import { blockLabel, pngGrey, pngRgb, tempDir, textureImage, writeBytes } from './helpers.js';

async function capture(f: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    await f();
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

test('segkit data stats / data browse on a folder dataset', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  for (const s of ['a', 'b', 'c']) {
    writeBytes(join(dir, `images/${s}.png`), await pngRgb(textureImage(48, 32), 48, 32));
    writeBytes(join(dir, `masks/${s}.png`), await pngGrey(blockLabel(48, 32, 3), 48, 32));
  }
  assert.ok(commands.includes(dataStatsCommand) && commands.includes(dataBrowseCommand) && commands.includes(prepareCityscapesCommand));
  const json = join(dir, 'stats.json');
  const out = await capture(() => dataStatsCommand.run(['folder', '--root', dir, '--split', 'all', '--set', 'classes=sky,road,car', '--json', json]));
  assert.match(out, /folder all: 3 images \(48×32: 3\), 4,608 pixels; label set .*3 classes, ignore 255/);
  assert.match(out, /  1  road /);
  const st = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(st.classes.length, 3);
  assert.equal(st.classes.reduce((s: number, c: { pixels: number }) => s + c.pixels, 0), 4608);

  const vis = join(dir, 'vis');
  const bout = await capture(() => dataBrowseCommand.run(['folder', '--root', dir, '--split', 'all', '--set', 'numClasses=3', '--out', vis, '--count', '2']));
  assert.match(bout, /wrote 2 file\(s\)/);
  const files = readdirSync(vis).sort();
  assert.deepEqual(files, ['0000_a.png', '0001_b.png']);
  const img = await decodeImage(join(vis, files[0]!));
  assert.equal(img.height, 512); // default pipeline for a generic dataset: crop 512×512 after padding
  assert.equal(img.width, 512 * 3 + 8);

  await assert.rejects(dataStatsCommand.run(['folder']), UsageError);
  await assert.rejects(dataStatsCommand.run([]), /name a dataset; valid datasets: camvid/);
  await assert.rejects(dataBrowseCommand.run(['folder', '--root', dir]), /--out DIR is required/);
});
