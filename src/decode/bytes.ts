/**
 * Big-endian reads straight from the shared buffer. Small enough for V8 to inline; callers check
 * bounds first, so these never see an index past the frame.
 */
export function u16(d: Uint8Array, i: number): number {
  return (d[i] << 8) | d[i + 1]
}

export function u32(d: Uint8Array, i: number): number {
  return ((d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3]) >>> 0
}

/** Little-endian uint32 (NULL link type written on little-endian hosts). */
export function u32le(d: Uint8Array, i: number): number {
  return (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) >>> 0
}
