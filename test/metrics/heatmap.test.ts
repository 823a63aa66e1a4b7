// Confusion-matrix heatmap: cell colours against viridis stops and hand-interpolated values, the
// grid geometry, escaped class names, and a PNG that sharp decodes at the SVG's size with the cell
// colours in its pixels.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { ConfusionMatrix } from '../../src/metrics/confusion.js';
import { confusionHeatmapSvg, viridis } from '../../src/metrics/heatmap.js';
import { writeConfusionHeatmap } from '../../src/metrics/heatmap-node.js';

interface Cell {
  row: number;
  col: number;
  x: number;
  y: number;
  size: number;
  fill: string;
}

function cells(svg: string): Cell[] {
  const re = /<rect class="cell" data-row="(\d+)" data-col="(\d+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="\5" fill="(#[0-9a-f]{6})"\/>/g;
  return [...svg.matchAll(re)].map((m) => ({ row: +m[1]!, col: +m[2]!, x: +m[3]!, y: +m[4]!, size: +m[5]!, fill: m[6]! }));
}

const names = ['road', 'car<&>', `sky "blue" 'x'`];
// rows: ground truth; 0.025 and 0.975 fall a quarter / three quarters between viridis stops.
const m = Float64Array.from([1, 0, 0, 0.5, 0.5, 0, 0, 0.025, 0.975]);

describe('confusion heatmap SVG', () => {
  it('K×K cells on a grid, coloured by value', () => {
    const cs = cells(confusionHeatmapSvg(m, names, { cellSize: 30 }));
    assert.equal(cs.length, 9);
    const expected: Record<string, string> = {
      '0,0': '#fde725', // 1: last viridis stop
      '0,1': '#440154', // 0: first stop
      '1,0': '#21918c', // 0.5: middle stop
      // 0.025: ¼ from #440154 to #482475 → (68 + 1, 1 + 8.75, 84 + 8.25) = (69, 10, 92)
      '2,1': '#450a5c',
      // 0.975: ¾ from #bddf26 to #fde725 → (189 + 48, 223 + 6, 38 − 0.75) = (237, 229, 37)
      '2,2': '#ede525',
    };
    const x0 = cs[0]!.x;
    const y0 = cs[0]!.y;
    for (const c of cs) {
      assert.equal(c.size, 30);
      assert.equal(c.x, x0 + 30 * c.col, `cell ${c.row},${c.col} x`);
      assert.equal(c.y, y0 + 30 * c.row, `cell ${c.row},${c.col} y`);
      const want = expected[`${c.row},${c.col}`];
      if (want) assert.equal(c.fill, want, `cell ${c.row},${c.col}`);
    }
  });

  it('percentages in big cells only, ink readable on the fill', () => {
    const big = confusionHeatmapSvg(m, names, { cellSize: 30 });
    assert.match(big, /fill="#000000">100</, 'black on yellow');
    assert.match(big, /fill="#ffffff">50</, 'white on teal');
    assert.equal(big.match(/fill="#ffffff">0</g)?.length, 4, 'white on the four dark-purple zeros');
    assert.doesNotMatch(confusionHeatmapSvg(m, names, { cellSize: 14 }), />100</);
  });

  it('escaped class names on both axes and axis titles', () => {
    const svg = confusionHeatmapSvg(m, names);
    for (const cls of ['row-name', 'col-name']) {
      assert.ok(svg.includes(`class="${cls}"`));
      assert.equal(svg.match(new RegExp(`class="${cls}"[^>]*>car&lt;&amp;&gt;<`, 'g'))?.length, 1, cls);
      assert.equal(svg.match(new RegExp(`class="${cls}"[^>]*>sky &quot;blue&quot; &apos;x&apos;<`, 'g'))?.length, 1, cls);
    }
    assert.match(svg, /class="col-name"[^>]*transform="rotate\(-45 /);
    assert.ok(!svg.includes('car<&>'));
    assert.match(svg, />Ground truth</);
    assert.match(svg, />Prediction</);
  });

  it('works with ConfusionMatrix.normalized()', () => {
    // gt 0: 3 pixels → pred 0, 0, 1 (2/3, 1/3); gt 1: 1 pixel → pred 1
    const cm = new ConfusionMatrix(2).update([0, 0, 1, 1], [0, 0, 0, 1]);
    const cs = cells(confusionHeatmapSvg(cm.normalized(), ['a', 'b']));
    assert.equal(cs.find((c) => c.row === 1 && c.col === 1)!.fill, '#fde725');
    // 1/3: a third from #355f8d to #2a788e → (53 − 3.67, 95 + 8.33, 141 + 0.33) = (49, 103, 141)
    assert.equal(cs.find((c) => c.row === 0 && c.col === 1)!.fill, '#31678d');
  });

  it('viridis hits its stops and interpolates', () => {
    assert.equal(viridis(0.3), '#355f8d');
    assert.equal(viridis(0.7), '#44bf70');
    // 0.15: halfway #482475 → #414487: (72+65)/2 = 68.5, (36+68)/2 = 52, (117+135)/2 = 126
    assert.match(viridis(0.15), /^#4[45]347e$/);
  });

  it('names bad input', () => {
    assert.throws(() => confusionHeatmapSvg(new Float64Array(3), ['a', 'b']), /2 class names need 2×2 = 4 values, got 3/);
    assert.throws(() => confusionHeatmapSvg(Float64Array.from([0.5, 0.5, NaN, 1]), ['a', 'b']), /value NaN at row 1, column 0 is outside \[0, 1\]/);
    assert.throws(() => confusionHeatmapSvg(Float64Array.from([3]), ['a']), /value 3 at row 0, column 0/);
    assert.throws(() => confusionHeatmapSvg(new Float64Array(0), []), /non-empty/);
  });
});

describe('writeConfusionHeatmap', () => {
  it('writes a PNG of the SVG size with the cell colours', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'segkit-heatmap-'));
    try {
      const path = join(dir, 'confusion.png');
      await writeConfusionHeatmap(path, m, names, { cellSize: 30 });
      const svg = confusionHeatmapSvg(m, names, { cellSize: 30 });
      const [, w, h] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
      const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.equal(info.format, 'raw');
      assert.deepEqual([info.width, info.height], [w, h]);
      assert.equal((await sharp(path).metadata()).format, 'png');
      // A pixel near each cell's corner (away from the centred text) has the cell's colour.
      for (const c of cells(svg)) {
        const o = ((c.y + 3) * info.width + (c.x + 3)) * info.channels;
        const want = [1, 3, 5].map((i) => parseInt(c.fill.slice(i, i + 2), 16));
        const got = [data[o]!, data[o + 1]!, data[o + 2]!];
        assert.ok(got.every((v, i) => Math.abs(v - want[i]!) <= 2), `cell ${c.row},${c.col}: ${got} vs ${want}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
