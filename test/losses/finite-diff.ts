// Central finite differences and a max-error assertion, shared by the loss tests' gradient checks.
import assert from 'node:assert/strict';

/** ∂f/∂z by central differences of a float64 reference, step h. */
export function numericGrad(f: (z: Float64Array) => number, z: Float64Array, h = 1e-6): Float64Array {
  return Float64Array.from(z, (_, i) => {
    const p = z.slice();
    const m = z.slice();
    p[i]! += h;
    m[i]! -= h;
    return (f(p) - f(m)) / (2 * h);
  });
}

/** Asserts equal lengths and max |got − want| ≤ tol, naming the worst error. */
export function assertNear(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  assert.ok(worst <= tol, `${what}: max error ${worst} > ${tol}`);
}
