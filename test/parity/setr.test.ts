// SETR against test/parity/models/setr.py (written from architectures.md §4): same weights, same
// input, eval-mode logits within 1e-4 of the output scale. ViT-B/16 with each decoder on a
// non-square input whose 3×5 patch grid differs from the stored 48×48 position-embedding grid
// (imgSize 768), so the in-graph bilinear resize is compared too; ViT-Ti/16 at its stored grid
// covers the no-resize path. ViT-L/16 (1.2 GB of weights) is left to the parameter-count and key
// checks of test/models/setr.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Setr, type SetrOptions } from '../../src/models/setr/model.js';
import { checkParity, parityUnavailable } from './parity.js';

describe('SETR parity with the PyTorch reference', () => {
  const skip = parityUnavailable();
  const cases: [Required<Pick<SetrOptions, 'variant' | 'encoder' | 'imgSize'>>, number[]][] = [
    [{ variant: 'naive', encoder: 'vit-b16', imgSize: 768 }, [1, 3, 48, 80]],
    [{ variant: 'pup', encoder: 'vit-b16', imgSize: 768 }, [1, 3, 48, 80]],
    [{ variant: 'mla', encoder: 'vit-b16', imgSize: 768 }, [1, 3, 48, 80]],
    [{ variant: 'naive', encoder: 'vit-t16', imgSize: 64 }, [2, 3, 64, 64]],
  ];
  for (const [o, shape] of cases) {
    it(`${o.variant} ${o.encoder} (imgSize ${o.imgSize}) on ${shape.join('x')}`, { skip: skip ?? false }, async () => {
      const options = { ...o, numClasses: 7 };
      const r = await checkParity(new Setr(options), { model: 'setr', options, shape });
      assert.ok(r.worst <= 1e-4, JSON.stringify(r.diffs));
    });
  }
});
