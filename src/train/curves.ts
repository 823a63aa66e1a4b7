/**
 * Training curves as one self-contained SVG (no scripts, no external fonts): three stacked panels on a
 * shared iteration axis — training loss (raw and EMA-smoothed), learning rate, validation metrics.
 * Pure string building, so it runs in Node and the browser alike.
 */
import { escapeXml } from '../metrics/heatmap.js';

/** One line of a run's scalars.jsonl: `loss`, `lr` from training, `val/<metric>` from validation. */
export interface ScalarRecord {
  iter: number;
  [key: string]: number;
}

/** Options of {@link renderCurves}. */
export interface CurvesOptions {
  /** Run name, shown in the title. */
  title?: string;
  /** Total width in pixels (default 760). */
  width?: number;
  /** Height of each panel's plot area in pixels (default 150). */
  plotHeight?: number;
  /** Log-scale loss axis (non-positive losses are then not drawn). Default false. */
  logLoss?: boolean;
  /**
   * EMA weight of the previous smoothed value, in [0, 1); 0 = no smoothing. Default: about 1/25
   * of the series per time constant (1 − 25/n, between 0 and 0.9), so a short run's smoothed line
   * does not lag behind its raw points.
   */
  smoothing?: number;
  /** At most this many vertices per drawn line; longer series keep each bucket's min and max (default 2000). */
  maxPoints?: number;
}

// Layout (pixels). A panel is a header row (panel name, legend) above its plot area.
const TITLE_H = 40;
const HEADER_H = 22;
const GAP = 14;
const FOOTER_H = 44; // x tick labels and the axis title under the last panel
const LEFT = 64;
const RIGHT = 20;
const SERIES_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

type Point = readonly [x: number, y: number];
interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  log: boolean;
}
interface Series {
  label: string;
  color: string;
  points: Point[];
  /** Faint (raw loss behind its smoothed line). */
  faint?: boolean;
  markers?: boolean;
}

/**
 * "Nice" tick values (steps of 1, 2 or 5 × 10^k) covering [lo, hi]: the first tick is ≤ lo and the last
 * ≥ hi, about `target` intervals in between. A zero-width range is widened by ±10% (±1 around 0);
 * `integer` keeps the step ≥ 1 (iteration axes).
 */
export function niceTicks(lo: number, hi: number, target = 5, integer = false): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new Error(`niceTicks: need finite lo ≤ hi, got [${lo}, ${hi}]`);
  if (!(Number.isInteger(target) && target >= 1)) throw new Error(`niceTicks: target must be a positive integer, got ${target}`);
  // A range too narrow to tick at float64 precision (a constant series) is widened around its middle.
  if (hi - lo <= Math.max(Math.abs(lo), Math.abs(hi)) * 1e-9) {
    const mid = (lo + hi) / 2;
    const d = mid === 0 ? 1 : Math.abs(mid) * 0.1;
    [lo, hi] = [mid - d, mid + d];
  }
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  // Thresholds at the geometric midpoints between 1, 2, 5 and 10.
  let step = (norm >= Math.sqrt(50) ? 10 : norm >= Math.sqrt(10) ? 5 : norm >= Math.SQRT2 ? 2 : 1) * mag;
  if (integer) step = Math.max(step, 1);
  // The small tolerance keeps lo = 0.3 from becoming 0.2 because 0.3 / 0.1 = 2.9999999999999996.
  const k0 = Math.floor(lo / step + 1e-9);
  const k1 = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = k0; k <= k1; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Compact tick label: 1500 → "1.5k", 2e6 → "2M", 0.0002 → "2e-4", 0.25 → "0.25". */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  const trim = (x: number) => String(Number(x.toPrecision(4)));
  if (a >= 1e9) return Number(v.toPrecision(4)).toExponential().replace('e+', 'e');
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e3) return `${trim(v / 1e3)}k`;
  if (a < 1e-3) return Number(v.toPrecision(4)).toExponential().replace('e+', 'e');
  return trim(v);
}


function linearAxis(values: readonly number[], integer = false): Axis {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (integer && lo === hi) hi = lo + 1; // one iteration: [it, it + 1] rather than negative iterations
  const ticks = niceTicks(lo, hi, 5, integer);
  return { lo: ticks[0]!, hi: ticks[ticks.length - 1]!, ticks, log: false };
}

/** Decades covering the (positive) values; with ≤ 2 decades the 2× and 5× ticks are added. */
function logAxis(values: readonly number[]): Axis {
  let a = Infinity;
  let b = -Infinity;
  for (const v of values) [a, b] = [Math.min(a, Math.floor(Math.log10(v))), Math.max(b, Math.ceil(Math.log10(v)))];
  if (a === b) b = a + 1;
  const ticks: number[] = [];
  for (let e = a; e <= b; e++) {
    ticks.push(Number((10 ** e).toPrecision(12)));
    if (b - a <= 2 && e < b) ticks.push(Number((2 * 10 ** e).toPrecision(12)), Number((5 * 10 ** e).toPrecision(12)));
  }
  return { lo: 10 ** a, hi: 10 ** b, ticks, log: true };
}

/** Maps a data value to a pixel between p0 (at axis.lo) and p1 (at axis.hi). */
function project(axis: Axis, v: number, p0: number, p1: number): number {
  const t = axis.log ? (Math.log10(v) - Math.log10(axis.lo)) / (Math.log10(axis.hi) - Math.log10(axis.lo)) : (v - axis.lo) / (axis.hi - axis.lo);
  return p0 + t * (p1 - p0);
}

/** Keeps each bucket's min and max (in order), so spikes survive downsampling. */
function downsample(points: Point[], maxPoints: number): Point[] {
  if (points.length <= maxPoints) return points;
  const buckets = Math.floor(maxPoints / 2);
  const out: Point[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * points.length) / buckets);
    const end = Math.floor(((b + 1) * points.length) / buckets);
    let iMin = start;
    let iMax = start;
    for (let i = start + 1; i < end; i++) {
      if (points[i]![1] < points[iMin]![1]) iMin = i;
      if (points[i]![1] > points[iMax]![1]) iMax = i;
    }
    out.push(points[Math.min(iMin, iMax)]!);
    if (iMin !== iMax) out.push(points[Math.max(iMin, iMax)]!);
  }
  return out;
}

/** Exponential moving average of the y values (the first point starts the average). */
function ema(points: readonly Point[], weight: number): Point[] {
  let s = NaN;
  return points.map(([x, y]) => {
    s = Number.isNaN(s) ? y : weight * s + (1 - weight) * y;
    return [x, s] as const;
  });
}

const fmt = (v: number) => String(Math.round(v * 100) / 100);

/** The finite points of one key, sorted by iteration. Non-finite values (a diverged loss) are skipped. */
function series(records: readonly ScalarRecord[], key: string): Point[] {
  const pts: Point[] = [];
  for (const r of records) {
    const v = r[key];
    if (typeof v === 'number' && Number.isFinite(v)) pts.push([r.iter, v]);
  }
  return pts.sort((a, b) => a[0] - b[0]);
}

const show = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));

function checkRecords(records: readonly ScalarRecord[]): void {
  if (!Array.isArray(records)) throw new Error(`renderCurves: expected an array of scalar records, got ${typeof records}`);
  records.forEach((r, i) => {
    if (typeof r !== 'object' || r === null) throw new Error(`renderCurves: record ${i} is ${JSON.stringify(r)}, expected an object`);
    if (typeof r.iter !== 'number' || !Number.isFinite(r.iter)) throw new Error(`renderCurves: record ${i} has iter ${show(r.iter)}, expected a finite number`);
    for (const [k, v] of Object.entries(r)) {
      // null is how JSON.stringify writes NaN/Infinity: a missing value, not an error.
      if (v !== null && typeof v !== 'number') throw new Error(`renderCurves: record ${i} (iter ${r.iter}) has ${k} = ${show(v)}, expected a number`);
    }
  });
}

interface PanelSpec {
  id: string;
  name: string;
  series: Series[];
  log?: boolean;
  /** Why nothing is drawn, when no series has a point. */
  empty: string;
}

/**
 * Renders a run's scalars as an SVG document: panels "training loss" (raw as a faint line, EMA as a
 * solid one), "learning rate" and "validation" (every `val/…` key, mIoU first), sharing the x axis.
 * Non-finite values are skipped; a panel without data says "no data yet".
 */
export function renderCurves(records: readonly ScalarRecord[], options: CurvesOptions = {}): string {
  checkRecords(records);
  const { title = 'run', width = 760, plotHeight = 150, logLoss = false, maxPoints = 2000 } = options;
  const lossCount = records.filter((r) => Number.isFinite(r.loss)).length;
  const smoothing = options.smoothing ?? Math.round(Math.min(0.9, Math.max(0, 1 - 25 / Math.max(lossCount, 1))) * 100) / 100;
  if (!(width >= 200)) throw new Error(`renderCurves: width must be ≥ 200 px, got ${width}`);
  if (!(plotHeight >= 40)) throw new Error(`renderCurves: plotHeight must be ≥ 40 px, got ${plotHeight}`);
  if (!(smoothing >= 0 && smoothing < 1)) throw new Error(`renderCurves: smoothing must be in [0, 1), got ${smoothing}`);
  if (!(Number.isInteger(maxPoints) && maxPoints >= 4)) throw new Error(`renderCurves: maxPoints must be an integer ≥ 4, got ${maxPoints}`);

  let loss = series(records, 'loss');
  if (logLoss) loss = loss.filter((p) => p[1] > 0);
  const valKeys = [...new Set(records.flatMap((r) => Object.keys(r).filter((k) => k.startsWith('val/'))))].sort((a, b) =>
    a === 'val/mIoU' ? -1 : b === 'val/mIoU' ? 1 : a.localeCompare(b),
  );
  const panels: PanelSpec[] = [
    {
      id: 'loss',
      name: 'training loss',
      log: logLoss,
      empty: logLoss && series(records, 'loss').length > 0 ? 'no positive values for the log scale' : 'no data yet',
      series:
        loss.length === 0
          ? []
          : [
              { label: 'raw', color: SERIES_COLORS[0]!, points: loss, faint: true },
              { label: `smoothed (EMA ${smoothing})`, color: SERIES_COLORS[0]!, points: ema(loss, smoothing) },
            ],
    },
    { id: 'lr', name: 'learning rate', empty: 'no data yet', series: [{ label: 'lr', color: SERIES_COLORS[2]!, points: series(records, 'lr') }] },
    {
      id: 'val',
      name: 'validation',
      empty: 'no data yet',
      series: valKeys.map((k, i) => ({ label: k.slice(4), color: SERIES_COLORS[(i + 1) % SERIES_COLORS.length]!, points: series(records, k), markers: true })),
    },
  ];
  for (const p of panels) p.series = p.series.filter((s) => s.points.length > 0);

  const iters = panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q[0])));
  const xAxis = iters.length > 0 ? linearAxis(iters, true) : { lo: 0, hi: 1, ticks: [0, 1], log: false };
  const x0 = LEFT;
  const x1 = width - RIGHT;
  const height = TITLE_H + 3 * (HEADER_H + plotHeight) + 2 * GAP + FOOTER_H;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)} — training curves</text>`,
  ];
  panels.forEach((p, i) => {
    const top = TITLE_H + i * (HEADER_H + plotHeight + GAP) + HEADER_H;
    out.push(renderPanel(p, xAxis, x0, x1, top, top + plotHeight, i === panels.length - 1, maxPoints));
  });
  out.push(`<text x="${(x0 + x1) / 2}" y="${height - 8}" text-anchor="middle">iteration</text>`, '</svg>');
  return out.join('\n');
}

function renderPanel(p: PanelSpec, xAxis: Axis, x0: number, x1: number, y0: number, y1: number, xLabels: boolean, maxPoints: number): string {
  const out = [`<g class="panel" data-panel="${p.id}">`];
  out.push(`<text x="${x0}" y="${y0 - 7}" font-weight="bold">${escapeXml(p.name)}${p.log ? ' (log scale)' : ''}</text>`);
  for (const t of xAxis.ticks) {
    const x = fmt(project(xAxis, t, x0, x1));
    out.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y1}" stroke="#eeeeee"/>`);
    if (xLabels) out.push(`<text x="${x}" y="${y1 + 14}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  const frame = `<rect class="plot" x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="none" stroke="#999999"/>`;
  if (p.series.length === 0) {
    out.push(frame);
    out.push(`<text x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2}" text-anchor="middle" fill="#888888">${p.empty}</text>`, '</g>');
    return out.join('\n');
  }
  const values = p.series.flatMap((s) => s.points.map((q) => q[1]));
  const yAxis = p.log ? logAxis(values) : linearAxis(values);
  for (const t of yAxis.ticks) {
    const y = fmt(project(yAxis, t, y1, y0));
    out.push(`<line x1="${x0}" y1="${y}" x2="${x1}" y2="${y}" stroke="#eeeeee"/>`);
    out.push(`<text x="${x0 - 6}" y="${y}" dy="0.35em" text-anchor="end">${formatTick(t)}</text>`);
  }
  out.push(frame); // over the grid lines that fall on its edges
  for (const s of p.series) {
    const pts = downsample(s.points, maxPoints).map(([x, y]) => [fmt(project(xAxis, x, x0, x1)), fmt(project(yAxis, y, y1, y0))] as const);
    const style = s.faint ? ' stroke-opacity="0.3"' : ' stroke-width="1.5"';
    out.push(`<polyline class="series" data-label="${escapeXml(s.label)}" fill="none" stroke="${s.color}"${style} points="${pts.map((q) => q.join(',')).join(' ')}"/>`);
    // A one-point polyline draws nothing, so a lone point always gets a marker.
    if ((s.markers && pts.length <= 300) || pts.length === 1) for (const [cx, cy] of pts) out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${s.color}"/>`);
  }
  // Legend right-aligned in the header row; text width estimated at 6.5 px per character.
  let legendX = x1;
  for (const s of [...p.series].reverse()) {
    legendX -= s.label.length * 6.5 + 4;
    out.push(`<text x="${fmt(legendX)}" y="${y0 - 7}">${escapeXml(s.label)}</text>`);
    legendX -= 16;
    out.push(`<line x1="${fmt(legendX)}" y1="${y0 - 11}" x2="${fmt(legendX + 12)}" y2="${y0 - 11}" stroke="${s.color}" stroke-width="2"${s.faint ? ' stroke-opacity="0.3"' : ''}/>`);
    legendX -= 10;
  }
  out.push('</g>');
  return out.join('\n');
}
