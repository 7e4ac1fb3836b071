import type {CaptureSummary} from '../capture/reader.js'
import {decodeCapture} from '../decode/stream.js'
import {FlowTracker} from '../flow/tracker.js'
import {DrPairer, FrameClass, macNumberToString} from './dr-pairs.js'

export type Keep = 'inbound' | 'outbound'

/** Which frames of a capture to drop, and (for splitting) which real server each kept frame belongs to. */
export interface DedupePlan {
  summary: CaptureSummary
  /** Bit per frame number (1-based): set = drop. */
  drop: Uint8Array
  dropped: number
  /** Flow id → real server it was forwarded to (MAC in DR, IPv4 as number in NAT/TUN). */
  flowRealServer: Map<number, string>
}

function setBit(bits: Uint8Array, n: number): Uint8Array {
  let b = bits
  const byte = n >>> 3
  if (byte >= b.length) {
    const grown = new Uint8Array(Math.max(byte + 1, b.length * 2))
    grown.set(b)
    b = grown
  }
  b[byte] |= 1 << (n & 7)
  return b
}

export function isSet(bits: Uint8Array, n: number): boolean {
  const byte = n >>> 3
  return byte < bits.length && (bits[byte] & (1 << (n & 7))) !== 0
}

/**
 * First pass: pair the director's copies and decide what goes. Keeping `inbound` drops every forwarded copy
 * (what arrived stays, including packets the director answered itself); keeping `outbound` drops the inbound
 * frame of every pair instead. Mirror duplicates go either way. One bit per frame: 1 GB ≈ 5 M frames ≈ 600 KB.
 */
export async function planDedupe(file: string, keep: Keep): Promise<DedupePlan> {
  const pairer = new DrPairer()
  const flows = new FlowTracker({idleTimeoutSec: 0})
  let drop: Uint8Array = new Uint8Array(1 << 16)
  let dropped = 0
  const flowRealServer = new Map<number, string>()
  const {summary} = await decodeCapture(file, (rec, pkt) => {
    const flow = flows.observe(rec, pkt)
    if (pkt.ipVersion === 0) return
    const cls = pairer.observeRecord(rec, pkt)
    if (cls === FrameClass.Original) return
    if (cls === FrameClass.DrCopy && flow >= 0 && pairer.pairRealServer >= 0 && !flowRealServer.has(flow)) {
      flowRealServer.set(flow, macNumberToString(pairer.pairRealServer))
    }
    const victim = cls === FrameClass.DrCopy && keep === 'outbound' ? pairer.pairFrame : rec.frame
    drop = setBit(drop, victim)
    dropped++
  })
  return {summary, drop, dropped, flowRealServer}
}
