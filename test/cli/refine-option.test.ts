// `--refine` of segkit eval and predict: RADIUS,EPS, on, off, or a usage error naming the value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRefine } from '../../src/cli/refine-option.js';

describe('--refine', () => {
  it('reads RADIUS,EPS, on and off; absent leaves the model default', () => {
    assert.deepEqual(parseRefine('8,1e-3'), { radius: 8, eps: 0.001 });
    assert.deepEqual(parseRefine('12,0.0001'), { radius: 12, eps: 0.0001 });
    assert.equal(parseRefine('on'), true);
    assert.equal(parseRefine('off'), false);
    assert.equal(parseRefine(undefined), undefined);
  });
  it('names the bad value and the accepted forms', () => {
    for (const v of ['10', '0,1e-3', '8,0', '8,-1', 'yes', '2.5,1e-3']) {
      assert.throws(() => parseRefine(v), new RegExp(`--refine must be RADIUS,EPS .* 'on' or 'off'; got '${v.replace('.', '\\.')}'`));
    }
  });
});
