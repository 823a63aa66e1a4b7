import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDataset } from '../../src/data/sources/index.js';
import { DataError } from '../../src/data/errors.js';
import { DataLoader, type Batch } from '../../src/data/loader.js';
import { mmsegTrainPipeline } from '../../src/data/transforms/index.js';
import { REPO, blockLabel, pngGrey, pngRgb, tempDir, textureImage, writeBytes } from './helpers.js';

const K = 4;

/** A folder dataset of n images (sizes vary a little) with K classes. */
async function makeFolder(dir: string, n: number, sameSize = false): Promise<void> {
  const stems: string[] = [];
  for (let i = 0; i < n; i++) {
    const w = sameSize ? 40 : 36 + (i % 3) * 4;
    const h = sameSize ? 30 : 28 + (i % 2) * 6;
    const s = `img${String(i).padStart(2, '0')}`;
    stems.push(s);
    writeBytes(join(dir, `images/${s}.png`), await pngRgb(textureImage(w, h, i + 1), w, h));
    writeBytes(join(dir, `masks/${s}.png`), await pngGrey(blockLabel(w, h, K), w, h));
  }
  writeBytes(join(dir, 'splits/train.txt'), new TextEncoder().encode(stems.join('\n') + '\n'));
}

const pipeline = mmsegTrainPipeline({ scale: [40, 30], cropSize: [24, 32], catMaxRatio: 0.75 });

async function collect(loader: DataLoader, epochs: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for (let e = 0; e < epochs; e++) for await (const b of loader) out.push(b);
  return out;
}

test('loader: NCHW float batches, uint8 labels, identical for 0, 1 and 2 workers; epochs differ', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await makeFolder(dir, 11);
  const ds = await createDataset('folder', { root: dir, numClasses: K });
  const runs: Batch[][] = [];
  for (const workers of [0, 1, 2]) {
    const loader = new DataLoader({ dataset: ds, pipeline, batchSize: 4, workers, seed: 123, prefetch: 2 });
    assert.equal(loader.length, 3);
    runs.push(await collect(loader, 2));
    await loader.close();
  }
  const [a, b, c] = runs as [Batch[], Batch[], Batch[]];
  assert.equal(a.length, 6);
  assert.deepEqual(a.map((x) => x.size), [4, 4, 3, 4, 4, 3]);
  const first = a[0]!;
  assert.deepEqual(first.imageShape, [4, 3, 24, 32]);
  assert.deepEqual(first.labelShape, [4, 24, 32]);
  assert.ok(first.images instanceof Float32Array && first.images.length === 4 * 3 * 24 * 32);
  assert.ok(first.labels instanceof Uint8Array);
  for (const v of first.labels) assert.ok(v < K || v === 255);
  for (let i = 0; i < a.length; i++) {
    for (const other of [b, c]) {
      assert.deepEqual(other[i]!.indices, a[i]!.indices, `batch ${i} order`);
      assert.deepEqual(other[i]!.images, a[i]!.images, `batch ${i} images`);
      assert.deepEqual(other[i]!.labels, a[i]!.labels, `batch ${i} labels`);
    }
  }
  // every sample once per epoch; the two epochs are shuffled differently
  const e0 = a.slice(0, 3).flatMap((x) => x.indices);
  const e1 = a.slice(3).flatMap((x) => x.indices);
  assert.deepEqual([...e0].sort((x, y) => x - y), Array.from({ length: 11 }, (_, i) => i));
  assert.notDeepEqual(e0, e1);
  assert.deepEqual([a[0]!.epoch, a[3]!.epoch], [0, 1]);
});

test('loader: no shuffle keeps order; dropLast; batches of different sizes are a clear error', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await makeFolder(dir, 5);
  const ds = await createDataset('folder', { root: dir, numClasses: K });
  const l1 = new DataLoader({ dataset: ds, pipeline, batchSize: 2, shuffle: false, dropLast: true });
  assert.equal(l1.length, 2);
  const bs = await collect(l1, 1);
  assert.deepEqual(bs.map((b) => b.indices), [[0, 1], [2, 3]]);
  assert.deepEqual(bs[0]!.ids, ['img00', 'img01']);
  const l2 = new DataLoader({ dataset: ds, batchSize: 2, shuffle: false });
  await assert.rejects(collect(l2, 1), /cannot batch samples of different sizes: img00 is 3×28×36 but img01 is 3×34×40 \(C×H×W\); end the pipeline with RandomCrop \+ Pad/);
  assert.throws(() => new DataLoader({ dataset: ds, pipeline: (s) => s, workers: 1 }), /pipeline function cannot be sent to worker threads/);
  assert.throws(() => new DataLoader({ dataset: ds, pipeline: [{ type: 'Nope' } as never], workers: 1 }), /unknown transform 'Nope'/);
});

test('loader: bad samples stop the epoch with the file named, or are skipped and counted with skipInvalid', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await makeFolder(dir, 8, true);
  rmSync(join(dir, 'masks/img02.png'));
  writeBytes(join(dir, 'masks/img05.png'), await pngGrey(new Uint8Array(40 * 30).fill(9), 40, 30));
  const ds = await createDataset('folder', { root: dir, numClasses: K });
  const strict = new DataLoader({ dataset: ds, pipeline, batchSize: 3, shuffle: false, workers: 1 });
  await assert.rejects(collect(strict, 1), (e: DataError) => e instanceof DataError && e.kind === 'missing' && e.message.includes(join(dir, 'masks/img02.png')));
  await strict.close();
  for (const workers of [0, 1]) {
    const warnings: string[] = [];
    const loose = new DataLoader({ dataset: ds, pipeline, batchSize: 3, shuffle: false, workers, skipInvalid: true, onWarning: (m) => warnings.push(m) });
    const bs = await collect(loose, 1);
    await loose.close();
    assert.deepEqual(bs.map((b) => b.indices), [[0, 1, 3], [4, 6, 7]]);
    assert.equal(loose.skipped, 2);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /skipping sample 2 of folder train \(1 skipped so far\): missing file: .*img02\.png does not exist/);
    assert.match(warnings[1]!, /img05\.png has value 9 at \(x=0, y=0\)/);
  }
});

test('loader: breaking out of an epoch and close() end cleanly; custom transforms via setup modules', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await makeFolder(dir, 9, true);
  const ds = await createDataset('folder', { root: dir, numClasses: K });
  const loader = new DataLoader({ dataset: ds, pipeline, batchSize: 2, workers: 2, seed: 1 });
  for await (const b of loader) {
    assert.equal(b.index, 0);
    break;
  }
  const again: number[] = [];
  for await (const b of loader) again.push(b.index); // the next epoch runs fully after a break
  assert.deepEqual(again, [0, 1, 2, 3, 4]);
  await loader.close();
  await assert.rejects(collect(loader, 1), /closed/);

  // a dataset the workers cannot rebuild fails with the reason (and the pool shuts down: no hang)
  const custom = { ...ds, name: 'custom', spec: { name: 'my-layout', options: { root: dir } }, load: ds.load.bind(ds), loadLabel: ds.loadLabel.bind(ds) };
  const bad = new DataLoader({ dataset: custom, pipeline, batchSize: 2, workers: 1 });
  await assert.rejects(collect(bad, 1), /loader worker 0 could not start: unknown dataset 'my-layout'; valid datasets: .* \(custom datasets\/transforms must be registered in a `setup` module\)/);
  await bad.close();

  // a custom transform registered by a setup module, in the workers and inline
  const setup = join(dir, 'setup.mjs');
  const registry = pathToFileURL(join(REPO, 'src/data/transforms/registry.ts')).href;
  writeFileSync(
    setup,
    `import { registerTransform } from ${JSON.stringify(registry)};\n` +
      `registerTransform('Invert', () => (s) => ({ ...s, image: s.image.map((v) => 255 - v) }));\n`,
  );
  await import(pathToFileURL(setup).href);
  const specs = [{ type: 'Invert' } as never];
  const inline = await collect(new DataLoader({ dataset: ds, pipeline: specs, batchSize: 3, shuffle: false }), 1);
  const pooled = new DataLoader({ dataset: ds, pipeline: specs, batchSize: 3, shuffle: false, workers: 1, setup: [setup] });
  const viaWorker = await collect(pooled, 1);
  await pooled.close();
  assert.deepEqual(viaWorker[0]!.images, inline[0]!.images);
  const raw = await ds.load(0);
  assert.equal(inline[0]!.images[0], 255 - raw.image[0]!);
});
