/** The dataset interface every layout implements. */
import type { LabelSet } from '../labels/types.js';
import type { Sample } from '../sample.js';

/** One image/label pair on disk. */
export interface DatasetEntry {
  /** Unique within the dataset, usually the image file stem. */
  id: string;
  image: string;
  label: string;
}

/** Options every dataset accepts. Everything here must be JSON-serialisable (workers rebuild datasets). */
export interface DatasetOptions {
  /** Dataset folder. */
  root: string;
  /** Split name; each layout documents which it knows. Default 'train'. */
  split?: string;
  [key: string]: unknown;
}

/** What a worker thread needs to rebuild a dataset: its registry name and options. */
export interface DatasetSpec {
  name: string;
  options: DatasetOptions;
}

export interface SegDataset {
  /** Registry name ('camvid', 'cityscapes', ...). */
  readonly name: string;
  readonly root: string;
  readonly split: string;
  /** The label convention samples are mapped to (train ids, ignore = labels.ignoreIndex). */
  readonly labels: LabelSet;
  readonly entries: readonly DatasetEntry[];
  readonly length: number;
  /** Serialisable recipe to rebuild this dataset (in a worker). */
  readonly spec: DatasetSpec;
  /**
   * Decodes sample `i`: RGB uint8 image and train-id label, validated (files exist and decode,
   * sizes match, every label value belongs to the label set). Throws {@link DataError}s naming the file.
   */
  load(i: number): Promise<Sample>;
  /** Decodes and validates only the label of sample `i` (statistics). */
  loadLabel(i: number): Promise<{ label: Uint8Array; width: number; height: number; entry: DatasetEntry }>;
}
