/** `--refine`: the guided-filter edge refinement of two-class models (Segmenter's `refine`). */
import type { SegmenterOptions } from '../segmenter/segmenter.js';
import { UsageError } from './command.js';

/** The Segmenter's `refine` from the flag's value; undefined leaves the checkpoint's default. */
export function parseRefine(v: string | undefined): SegmenterOptions['refine'] {
  if (v === undefined) return undefined;
  if (v === 'on') return true;
  if (v === 'off') return false;
  const m = /^(\d+),([0-9.eE+-]+)$/.exec(v);
  const [radius, eps] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(radius >= 1 && eps > 0)) throw new UsageError(`--refine must be RADIUS,EPS (a positive integer and a positive number, e.g. 8,1e-3), 'on' or 'off'; got '${v}'`);
  return { radius, eps };
}
