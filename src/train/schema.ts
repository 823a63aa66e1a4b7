/**
 * A small declarative schema for JSON configs: each field's type, bounds, choices and doc, checked
 * with errors that name the dotted path, the value found and what is valid. Unknown keys are errors
 * (a typo must not silently fall back to a default), with the nearest valid key suggested.
 */

export type Schema =
  | { type: 'number' | 'integer'; min?: number; max?: number; exclusiveMin?: boolean; doc?: string; optional?: boolean }
  | { type: 'string'; choices?: readonly string[]; doc?: string; optional?: boolean }
  | { type: 'boolean'; doc?: string; optional?: boolean }
  | { type: 'array'; items: Schema; minItems?: number; doc?: string; optional?: boolean }
  | { type: 'object'; fields: Record<string, Schema>; doc?: string; optional?: boolean }
  /** Free-form JSON (a record of options, transform specs): checked by whoever consumes it. */
  | { type: 'any'; doc?: string; optional?: boolean };

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v));

/** Edit distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** Returns every problem of `value` against `schema` (empty when valid). */
export function validate(value: unknown, schema: Schema, path = ''): string[] {
  const at = path || '(config)';
  // null stands for "not given" in an optional field, so `--set train.epochs=null` removes a value.
  if (value === undefined || (value === null && schema.optional && schema.type !== 'any')) return schema.optional ? [] : [`${at}: required${schema.doc ? ` (${schema.doc})` : ''}`];
  switch (schema.type) {
    case 'any':
      return [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected true or false, got ${show(value)}`];
    case 'string':
      if (typeof value !== 'string') return [`${at}: expected a string, got ${show(value)}`];
      if (schema.choices && !schema.choices.includes(value)) return [`${at}: ${show(value)} is not one of ${schema.choices.map((c) => `'${c}'`).join(', ')}`];
      return [];
    case 'number':
    case 'integer': {
      const what = schema.type === 'integer' ? 'an integer' : 'a number';
      if (typeof value !== 'number' || !Number.isFinite(value) || (schema.type === 'integer' && !Number.isInteger(value))) return [`${at}: expected ${what}, got ${show(value)}`];
      const { min, max, exclusiveMin } = schema;
      if (min !== undefined && (exclusiveMin ? value <= min : value < min)) return [`${at}: expected ${what} ${exclusiveMin ? '>' : '≥'} ${min}, got ${value}`];
      if (max !== undefined && value > max) return [`${at}: expected ${what} ≤ ${max}, got ${value}`];
      return [];
    }
    case 'array':
      if (!Array.isArray(value)) return [`${at}: expected an array, got ${show(value)}`];
      if (schema.minItems !== undefined && value.length < schema.minItems) return [`${at}: expected at least ${schema.minItems} items, got ${value.length}`];
      return value.flatMap((v, i) => validate(v, schema.items, `${path}[${i}]`));
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: expected an object, got ${show(value)}`];
      const keys = Object.keys(schema.fields);
      const errors: string[] = [];
      for (const k of Object.keys(value)) {
        if (keys.includes(k)) continue;
        const near = keys.filter((v) => distance(k, v) <= 2);
        errors.push(`${path ? `${path}.` : ''}${k}: unknown key${near.length ? ` (did you mean '${near[0]}'?)` : ''}; valid keys here: ${keys.join(', ')}`);
      }
      for (const k of keys) errors.push(...validate((value as Record<string, unknown>)[k], schema.fields[k]!, path ? `${path}.${k}` : k));
      return errors;
    }
  }
}

/**
 * Applies `key.path=value` overrides (mmseg's `--cfg-options`, segkit's `--set`) to a plain JSON
 * object, in place. The value is parsed as JSON when it parses (numbers, booleans, arrays, objects,
 * null) and is a string otherwise; intermediate objects are created as needed. Array elements are
 * addressed by index (`terms.0.weight`).
 */
export function applyOverrides(obj: Record<string, unknown>, overrides: readonly string[]): void {
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new Error(`--set ${o}: expected key.path=value`);
    const keys = o.slice(0, eq).split('.');
    const raw = o.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    let cur: Record<string, unknown> = obj;
    keys.slice(0, -1).forEach((k, i) => {
      const next = cur[k];
      if (next === undefined) cur[k] = {};
      else if (typeof next !== 'object' || next === null) throw new Error(`--set ${o}: '${keys.slice(0, i + 1).join('.')}' is ${show(next)}, not an object`);
      cur = cur[k] as Record<string, unknown>;
    });
    cur[keys.at(-1)!] = value;
  }
}
