// JSON has no NaN or infinities: JSON.stringify writes them as null, which cannot
// be told from a missing value. Every JSON cawire writes (print --json, the
// reports' --json) writes them as the strings "NaN", "Infinity" and "-Infinity"
// instead; CSV writes the same words.

/** A number as cawire's JSON holds it: itself when finite, else "NaN", "Infinity" or "-Infinity". */
export function jsonNumber(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

/** Whether an array holds a NaN or an infinity (x - x is 0 for every finite number, NaN otherwise). */
export function hasNonFinite(values: readonly unknown[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (typeof x === 'number' && x - x !== 0) return true;
  }
  return false;
}

/** A value with its non-finite numbers (itself, or an array's items) as jsonNumber writes them; the value itself when it has none. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === 'number') return jsonNumber(v);
  if (Array.isArray(v) && hasNonFinite(v)) return v.map(jsonSafe);
  return v;
}
