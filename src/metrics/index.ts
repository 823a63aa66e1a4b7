export { ConfusionMatrix } from './confusion.js';
export { computeMetrics, formatMetricsTable, METRIC_CONVENTION, type ClassScores, type SegmentationMetrics } from './segmentation-metrics.js';
