/** Shared by the capture tests: turn views into comparable values, and run the push parser. */
import type {CaptureRecord} from '../../src/capture/record.js'
import type {CaptureSummary} from '../../src/capture/reader.js'
import {CaptureParser} from '../../src/capture/reader.js'

export interface Snap {
  frame: number
  caplen: number
  origlen: number
  linktype: number
  fcsLen: number
  interfaceId: number
  tsSec: number
  tsNsec: number
  hasTs: boolean
  tsDigits: number
  epbFlags: number
  hasPacketId: boolean
  packetIdHi: number
  packetIdLo: number
  fileOffset: number
  hex: string
}

/** Copy a record view into a plain value (the view is only valid inside the callback). */
export function snap(r: CaptureRecord): Snap {
  return {
    frame: r.frame,
    caplen: r.caplen,
    origlen: r.origlen,
    linktype: r.linktype,
    fcsLen: r.fcsLen,
    interfaceId: r.interfaceId,
    tsSec: r.tsSec,
    tsNsec: r.tsNsec,
    hasTs: r.hasTs,
    tsDigits: r.tsDigits,
    epbFlags: r.epbFlags,
    hasPacketId: r.hasPacketId,
    packetIdHi: r.packetIdHi,
    packetIdLo: r.packetIdLo,
    fileOffset: r.fileOffset,
    hex: Buffer.from(r.data.subarray(r.offset, r.offset + r.caplen)).toString('hex'),
  }
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
