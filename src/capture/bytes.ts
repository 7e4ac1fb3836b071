/** Unsigned integer reads from a byte array in either byte order (callers bound-check). */

export function u16(b: Uint8Array, p: number, le: boolean): number {
  return le ? b[p] | (b[p + 1] << 8) : (b[p] << 8) | b[p + 1]
}

export function u32(b: Uint8Array, p: number, le: boolean): number {
  return le
    ? (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0
    : ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0
}

export function hex32(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0')
}
