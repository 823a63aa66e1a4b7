// Training-curve SVG: tick values and labels against hand-picked ranges, data→pixel mapping against
// hand-computed positions in the plot rectangle the SVG declares, and robustness (NaN, empty,
// one point, thousands of points with a spike, XML escaping). sharp rasterises the SVG as a
// well-formedness check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { formatTick, niceTicks, renderCurves, type ScalarRecord } from '../../src/train/curves.js';

/** The `<g class="panel" data-panel="id">` element of a panel. */
function panel(svg: string, id: string): string {
  const m = new RegExp(`<g class="panel" data-panel="${id}">([\\s\\S]*?)</g>`).exec(svg);
  assert.ok(m, `panel ${id} missing`);
  return m[1]!;
}

function plotRect(panelSvg: string): { x: number; y: number; w: number; h: number } {
  const m = /<rect class="plot" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(panelSvg);
  assert.ok(m, 'plot rect missing');
  return { x: +m[1]!, y: +m[2]!, w: +m[3]!, h: +m[4]! };
}

function polyline(panelSvg: string, label: string): Array<[number, number]> {
  const m = new RegExp(`<polyline class="series" data-label="${label.replace(/[()]/g, '\\$&')}"[^>]* points="([^"]*)"`).exec(panelSvg);
  assert.ok(m, `polyline ${label} missing`);
  return m[1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 0.01, `${what}: ${a} vs ${b}`);

describe('niceTicks', () => {
  it('1-2-5 steps covering the range', () => {
    assert.deepEqual(niceTicks(0, 1000), [0, 200, 400, 600, 800, 1000]);
    // span 0.74 / 5 = 0.148 → step 0.2, widened to [0, 1]
    assert.deepEqual(niceTicks(0.13, 0.87), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    // 0.08 → step 0.1; 0.3 and 0.7 are ticks themselves despite 0.3/0.1 = 2.9999999999999996
    assert.deepEqual(niceTicks(0.3, 0.7), [0.3, 0.4, 0.5, 0.6, 0.7]);
    assert.deepEqual(niceTicks(0, 6e-5), [0, 1e-5, 2e-5, 3e-5, 4e-5, 5e-5, 6e-5]);
    assert.deepEqual(niceTicks(-3, 7), [-4, -2, 0, 2, 4, 6, 8]);
    // span 1 / 5 = 0.2 → 0.2, but 25 / 5 = 5 → 5 and 3.3/5 = 0.66 → 0.5
    assert.deepEqual(niceTicks(0, 25), [0, 5, 10, 15, 20, 25]);
    assert.deepEqual(niceTicks(0.2, 3.5), [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]);
  });

  it('widens a zero-width range, keeps integer steps ≥ 1', () => {
    assert.deepEqual(niceTicks(5, 5), [4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6]);
    assert.deepEqual(niceTicks(0, 0), [-1, -0.5, 0, 0.5, 1], 'zero widens to ±1');
    assert.deepEqual(niceTicks(0, 1, 5, true), [0, 1]);
    assert.deepEqual(niceTicks(0, 3, 5, true), [0, 1, 2, 3]);
  });

  it('rejects bad ranges', () => {
    assert.throws(() => niceTicks(2, 1), /lo ≤ hi.*\[2, 1\]/);
    assert.throws(() => niceTicks(0, NaN), /finite/);
  });
});

describe('formatTick', () => {
  it('compact labels', () => {
    const cases: Array<[number, string]> = [
      [0, '0'], [1500, '1.5k'], [20000, '20k'], [1250, '1.25k'], [2e6, '2M'], [3e9, '3e9'],
      [2e-4, '2e-4'], [1.5e-5, '1.5e-5'], [0.25, '0.25'], [0.001, '0.001'], [-500, '-500'], [7, '7'],
    ];
    for (const [v, s] of cases) assert.equal(formatTick(v), s, `formatTick(${v})`);
  });
});

describe('renderCurves', () => {
  const run: ScalarRecord[] = [
    { iter: 0, loss: 2, lr: 0.01 },
    { iter: 500, loss: 1 },
    { iter: 1000, loss: 0.5, lr: 0, 'val/mIoU': 0.25, 'val/aAcc': 0.75 },
  ];

  it('maps data to pixels inside the panel rectangle', () => {
    const p = panel(renderCurves(run, { smoothing: 0 }), 'loss');
    const r = plotRect(p);
    // x: ticks 0..1000 step 200 → domain [0, 1000]. y: span 1.5 / 5 = 0.3 → step 0.2 → domain [0.4, 2].
    const raw = polyline(p, 'raw');
    assert.equal(raw.length, 3);
    near(raw[0]![0], r.x, 'x of iter 0');
    near(raw[0]![1], r.y, 'y of loss 2 (top)');
    near(raw[1]![0], r.x + 0.5 * r.w, 'x of iter 500');
    near(raw[1]![1], r.y + r.h - ((1 - 0.4) / 1.6) * r.h, 'y of loss 1');
    near(raw[2]![0], r.x + r.w, 'x of iter 1000');
    near(raw[2]![1], r.y + r.h - ((0.5 - 0.4) / 1.6) * r.h, 'y of loss 0.5');
  });

  it('EMA line and its legend', () => {
    const p = panel(renderCurves(run, { smoothing: 0.75 }), 'loss');
    const r = plotRect(p);
    assert.match(p, />smoothed \(EMA 0\.75\)</);
    // EMA: 2, 0.75·2 + 0.25·1 = 1.75, 0.75·1.75 + 0.25·0.5 = 1.4375
    const sm = polyline(p, 'smoothed (EMA 0.75)');
    near(sm[1]![1], r.y + r.h - ((1.75 - 0.4) / 1.6) * r.h, 'EMA at iter 500');
    near(sm[2]![1], r.y + r.h - ((1.4375 - 0.4) / 1.6) * r.h, 'EMA at iter 1000');
  });

  it('log-scale loss: decades', () => {
    const p = panel(renderCurves([{ iter: 0, loss: 2 }, { iter: 10, loss: 1 }, { iter: 20, loss: 0.05 }, { iter: 30, loss: 0 }], { logLoss: true }), 'loss');
    const r = plotRect(p);
    // log10 range [-2, 1] (0.05 → 10^-2, 2 → 10^1); loss 1 sits at 2/3 of the height; loss 0 is not drawn.
    const raw = polyline(p, 'raw');
    assert.equal(raw.length, 3);
    near(raw[1]![1], r.y + r.h - (2 / 3) * r.h, 'y of loss 1');
    near(raw[2]![1], r.y + r.h - ((Math.log10(0.05) + 2) / 3) * r.h, 'y of loss 0.05');
    for (const t of ['0.01', '0.1', '>1<', '10']) assert.ok(p.includes(t), `tick ${t}`);
    assert.match(p, /log scale/);
  });

  it('validation panel: every val/ key, mIoU first, lr panel', () => {
    const svg = renderCurves(run);
    const v = panel(svg, 'val');
    assert.ok(v.indexOf('data-label="mIoU"') < v.indexOf('data-label="aAcc"'));
    assert.equal((v.match(/<circle /g) ?? []).length, 2, 'one marker per val point');
    const lr = polyline(panel(svg, 'lr'), 'lr');
    const r = plotRect(panel(svg, 'lr'));
    // lr 0.01 → 0: ticks step 0.002 → domain [0, 0.01]
    near(lr[0]![1], r.y, 'lr 0.01 at top');
    near(lr[1]![1], r.y + r.h, 'lr 0 at bottom');
  });

  it('never writes NaN: non-finite values, nulls, one point, empty input', async () => {
    const bad: ScalarRecord[] = [
      { iter: 0, loss: NaN, lr: Infinity },
      { iter: 1, loss: 0.7, lr: -Infinity, 'val/mIoU': NaN },
      { iter: 2, loss: null as unknown as number, 'val/mIoU': 0.3 },
      { iter: 3, loss: Infinity },
    ];
    const cases: ScalarRecord[][] = [bad, [], [{ iter: 0, loss: 1 }], [{ iter: 7, lr: 0.5, 'val/mIoU': 0.5 }], [{ iter: 0, loss: 1 }, { iter: 0, loss: 1 }]];
    for (const recs of cases) {
      const svg = renderCurves(recs, { logLoss: recs === bad });
      assert.ok(!/NaN|Infinity/.test(svg), `NaN in ${JSON.stringify(recs)}`);
      const meta = await sharp(Buffer.from(svg)).metadata();
      assert.equal(meta.width, 760, 'renders as SVG');
    }
    const empty = renderCurves([]);
    assert.equal(empty.match(/no data yet/g)?.length, 3);
    const onlyLr = renderCurves([{ iter: 7, lr: 0.5 }]);
    assert.match(panel(onlyLr, 'loss'), /no data yet/);
    assert.match(panel(onlyLr, 'lr'), /<circle /, 'a single point gets a marker');
    assert.match(panel(renderCurves([{ iter: 0, loss: 0 }], { logLoss: true }), 'loss'), /no positive values/);
  });

  it('downsamples thousands of points, keeping a spike', () => {
    const recs: ScalarRecord[] = [];
    for (let i = 0; i < 5000; i++) recs.push({ iter: i, loss: i === 2347 ? 10 : 1 + 0.001 * (i % 7) });
    const p = panel(renderCurves(recs, { maxPoints: 1000 }), 'loss');
    const r = plotRect(p);
    const raw = polyline(p, 'raw');
    // 500 buckets of 10 iterations, each keeping its min and its max (never equal: i % 7 varies).
    assert.equal(raw.length, 1000);
    for (let i = 1; i < raw.length; i++) assert.ok(raw[i]![0] >= raw[i - 1]![0], 'x increasing');
    // values 1..10 → step 2 → domain [0, 10]: the spike reaches the top edge at iter 2347 (domain [0, 5000]), after its bucket's minimum at 2345.
    const top = raw.filter((q) => Math.abs(q[1] - r.y) < 0.01);
    assert.equal(top.length, 1);
    near(top[0]![0], r.x + (2347 / 5000) * r.w, 'spike x');
  });

  it('escapes the title', () => {
    const svg = renderCurves(run, { title: `a<b & "c" 'd'` });
    assert.ok(svg.includes('a&lt;b &amp; &quot;c&quot; &apos;d&apos; — training curves'));
    assert.ok(!svg.includes('a<b'));
  });

  it('names bad input', () => {
    assert.throws(() => renderCurves([{ iter: 0 }, { iter: NaN }]), /record 1 has iter NaN, expected a finite number/);
    assert.throws(() => renderCurves([{ iter: 3, loss: '0.5' as unknown as number }]), /record 0 \(iter 3\) has loss = "0.5", expected a number/);
    assert.throws(() => renderCurves(run, { smoothing: 1 }), /smoothing must be in \[0, 1\), got 1/);
  });
});
