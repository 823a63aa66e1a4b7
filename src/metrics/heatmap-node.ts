/**
 * Writes the confusion-matrix heatmap as a PNG (Node only: sharp rasterises the SVG with librsvg).
 * Kept apart from `heatmap.ts` so the metrics core stays free of Node-only imports.
 */
import sharp from 'sharp';
import { writeFileAtomic } from '../io/atomic-file.js';
import { confusionHeatmapSvg, type HeatmapOptions } from './heatmap.js';

/**
 * Renders {@link confusionHeatmapSvg} to PNG at one image pixel per SVG pixel and writes it to `path`
 * atomically (an interrupted write leaves the previous file, never a truncated one).
 */
export async function writeConfusionHeatmap(path: string, normalized: ArrayLike<number>, classNames: readonly string[], options: HeatmapOptions = {}): Promise<void> {
  const svg = confusionHeatmapSvg(normalized, classNames, options);
  const png = await sharp(Buffer.from(svg)).png({ compressionLevel: 6 }).toBuffer();
  await writeFileAtomic(path, png);
}
