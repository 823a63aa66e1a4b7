/**
 * A row-normalised confusion matrix drawn as an SVG heatmap: rows are ground truth, columns are
 * predictions, colour is the share of the row's pixels (viridis, a perceptually uniform sequential
 * colormap readable in greyscale and by colour-blind readers). Pure string building (Node and browser);
 * `heatmap-node.ts` rasterises it to PNG.
 */

/** viridis (matplotlib, CC0) sampled at 0, 0.1, …, 1; colours between are interpolated linearly in sRGB. */
export const VIRIDIS_STOPS: readonly string[] = [
  '#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725',
];

/** Options of {@link confusionHeatmapSvg}. */
export interface HeatmapOptions {
  /** Cell edge in pixels (default: the matrix about 640 px wide, clamped to 14–48). */
  cellSize?: number;
  /** Title above the matrix. */
  title?: string;
  /** Write each cell's percentage (default: when cells are at least 24 px). */
  showValues?: boolean;
}

const MAX_NAME = 24;
const CHAR_W = 6.6; // estimated width of an 11 px sans-serif character
const COLORBAR_W = 14;

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const hex = (c: number[]) => `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;

/** The viridis colour of t ∈ [0, 1] as '#rrggbb'. */
export function viridis(t: number): string {
  if (!(t >= 0 && t <= 1)) throw new Error(`viridis: t must be in [0, 1], got ${t}`);
  const pos = t * (VIRIDIS_STOPS.length - 1);
  const i = Math.min(Math.floor(pos), VIRIDIS_STOPS.length - 2);
  const a = rgb(VIRIDIS_STOPS[i]!);
  const b = rgb(VIRIDIS_STOPS[i + 1]!);
  return hex(a.map((v, k) => v + (pos - i) * (b[k]! - v)));
}

/** Escapes text for SVG element content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const shorten = (s: string) => (s.length > MAX_NAME ? `${s.slice(0, MAX_NAME - 1)}…` : s);
const r1 = (v: number) => String(Math.round(v * 10) / 10);

function check(normalized: ArrayLike<number>, classNames: readonly string[]): void {
  if (!Array.isArray(classNames) || classNames.length === 0) throw new Error('confusionHeatmapSvg: classNames must be a non-empty array of strings');
  classNames.forEach((n, i) => {
    if (typeof n !== 'string') throw new Error(`confusionHeatmapSvg: classNames[${i}] is ${JSON.stringify(n)}, expected a string`);
  });
  const k = classNames.length;
  if (normalized.length !== k * k) throw new Error(`confusionHeatmapSvg: ${k} class names need ${k}×${k} = ${k * k} values, got ${normalized.length}`);
  for (let i = 0; i < normalized.length; i++) {
    const v = normalized[i]!;
    // A little slack above 1: a row-normalised value can exceed 1 by rounding.
    if (!(v >= 0 && v <= 1 + 1e-9)) throw new Error(`confusionHeatmapSvg: value ${v} at row ${Math.floor(i / k)}, column ${i % k} is outside [0, 1]; pass ConfusionMatrix.normalized()`);
  }
}

/**
 * Renders a K×K row-normalised confusion matrix (row-major, e.g. `ConfusionMatrix.normalized()`) as an
 * SVG document with class names on both axes (column names at 45°), percentages in the cells when they
 * fit, and a colour bar.
 */
export function confusionHeatmapSvg(normalized: ArrayLike<number>, classNames: readonly string[], options: HeatmapOptions = {}): string {
  check(normalized, classNames);
  const k = classNames.length;
  const cell = options.cellSize ?? Math.max(14, Math.min(48, Math.floor(640 / k)));
  if (!(cell >= 4 && Number.isFinite(cell))) throw new Error(`confusionHeatmapSvg: cellSize must be at least 4 px, got ${cell}`);
  const showValues = options.showValues ?? cell >= 24;
  const title = options.title ?? 'Confusion matrix (row-normalised, %)';
  const names = classNames.map(shorten);
  const labelW = Math.max(...names.map((n) => n.length)) * CHAR_W;
  const x0 = Math.ceil(30 + labelW);
  const y0 = 40;
  const side = k * cell;
  // Column names hang down-left at 45°: their height is labelW·sin 45°.
  const height = Math.ceil(y0 + side + 10 + labelW * Math.SQRT1_2 + 36);
  const width = Math.ceil(Math.max(x0 + side + 20 + COLORBAR_W + 44, title.length * 9 + 20));
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  const fontSize = r1(Math.min(11, cell * 0.36));
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const v = Math.min(1, normalized[i * k + j]!);
      const fill = viridis(v);
      const [x, y] = [x0 + j * cell, y0 + i * cell];
      out.push(`<rect class="cell" data-row="${i}" data-col="${j}" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}"/>`);
      if (showValues) {
        const [r, g, b] = rgb(fill) as [number, number, number];
        const ink = 0.299 * r + 0.587 * g + 0.114 * b > 140 ? '#000000' : '#ffffff'; // readable on light and dark cells
        out.push(`<text x="${r1(x + cell / 2)}" y="${r1(y + cell / 2)}" dy="0.35em" text-anchor="middle" font-size="${fontSize}" fill="${ink}">${Math.round(v * 100)}</text>`);
      }
    }
  }
  names.forEach((n, i) => {
    const cy = r1(y0 + (i + 0.5) * cell);
    out.push(`<text class="row-name" x="${x0 - 6}" y="${cy}" dy="0.35em" text-anchor="end">${escapeXml(n)}</text>`);
    const cx = r1(x0 + (i + 0.5) * cell);
    const ty = y0 + side + 8;
    out.push(`<text class="col-name" x="${cx}" y="${ty}" dy="0.35em" text-anchor="end" transform="rotate(-45 ${cx} ${ty})">${escapeXml(n)}</text>`);
  });
  out.push(
    `<text x="12" y="${r1(y0 + side / 2)}" text-anchor="middle" font-weight="bold" transform="rotate(-90 12 ${r1(y0 + side / 2)})">Ground truth</text>`,
    `<text x="${r1(x0 + side / 2)}" y="${height - 10}" text-anchor="middle" font-weight="bold">Prediction</text>`,
  );
  // Colour bar: bottom (0%) to top (100%).
  const cbx = x0 + side + 20;
  const stops = VIRIDIS_STOPS.map((c, i) => `<stop offset="${i / (VIRIDIS_STOPS.length - 1)}" stop-color="${c}"/>`).join('');
  out.push(
    `<defs><linearGradient id="viridis" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>`,
    `<rect x="${cbx}" y="${y0}" width="${COLORBAR_W}" height="${side}" fill="url(#viridis)"/>`,
  );
  for (const p of [0, 50, 100]) out.push(`<text x="${cbx + COLORBAR_W + 4}" y="${r1(y0 + side * (1 - p / 100))}" dy="0.35em">${p}%</text>`);
  out.push('</svg>');
  return out.join('\n');
}
