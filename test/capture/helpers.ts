/** Shared by the capture tests: turn views into comparable values, and run the push parser. */
import type {CaptureRecord} from '../../src/capture/record.js'
import type {CaptureSummary} from '../../src/capture/reader.js'
import {CaptureParser} from '../../src/capture/reader.js'

/** A record's numbers plus its bytes as hex: everything but the shared-buffer view. */
export type Snap = Omit<CaptureRecord, 'data' | 'offset'> & {hex: string}

/** Copy a record view into a plain value (the view is only valid inside the callback). */
export function snap(r: CaptureRecord): Snap {
  const {data, offset, ...numbers} = r
  return {...numbers, hex: Buffer.from(data.subarray(offset, offset + r.caplen)).toString('hex')}
}

export interface Parsed {
  recs: Snap[]
  summary: CaptureSummary | null
  error: string | null
}

/** Parse `bytes` fed in pieces whose sizes come from `sizes` (cycled); [] = all at once. */
export function parseChunked(bytes: Uint8Array, sizes: number[] = [], name = 'mem'): Parsed {
  const recs: Snap[] = []
  const p = new CaptureParser(name, (r) => recs.push(snap(r)))
  if (sizes.length === 0) p.push(bytes)
  else {
    let i = 0
    for (let pos = 0; pos < bytes.length; i++) {
      const n = Math.max(1, sizes[i % sizes.length])
      p.push(bytes.subarray(pos, pos + n))
      pos += n
    }
  }
  try {
    return {recs, summary: p.end(), error: null}
  } catch (e) {
    return {recs, summary: null, error: (e as Error).message}
  }
}
