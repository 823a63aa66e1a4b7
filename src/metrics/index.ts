export { ConfusionMatrix } from './confusion.js';
export { computeMetrics, formatMetricsTable, METRIC_CONVENTION, type ClassScores, type SegmentationMetrics } from './segmentation-metrics.js';
export {
  CityscapesEvaluator,
  formatCityscapesResult,
  CITYSCAPES_AVG_CLASS_SIZE,
  CITYSCAPES_CONVENTION,
  type CityscapesCounts,
  type CityscapesClassScore,
  type CityscapesCategoryScore,
  type CityscapesResult,
  type CityscapesEvaluatorOptions,
} from './cityscapes.js';
export { confusionHeatmapSvg, viridis, type HeatmapOptions } from './heatmap.js';
export { bootstrapMIoU, type BootstrapInterval, type BootstrapOptions } from './bootstrap.js';
