/** Typed-array columns (struct-of-arrays state) that grow with the number of live slots. */
export type Column = Float64Array | Uint32Array | Int32Array | Uint8Array

/** A copy of `a` with room for `n` entries; new entries hold `fill`. */
export function grown<T extends Column>(a: T, n: number, fill = 0): T {
  const b = new (a.constructor as new (length: number) => T)(n)
  b.set(a)
  if (fill !== 0) b.fill(fill, a.length)
  return b
}
