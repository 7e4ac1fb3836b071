/**
 * The few frames a report names, read again by frame number: enough for a ladder diagram (addresses, MACs,
 * flags, length) without keeping per-frame data through the scan. Reading stops at the last wanted frame, and
 * only wanted frames are decoded, so the cost is a record walk over the capture's first part.
 */
import {readCapture} from '../capture/reader.js'
import {decodeRecord} from '../decode/decode.js'
import {dstAddrString, macToString, srcAddrString} from '../decode/format.js'
import {IPPROTO_TCP, Packet, Stop} from '../decode/packet.js'
import {epochNumber} from '../util/time.js'

export interface FrameFacts {
  frame: number
  /** The capture's own clock (no offset applied), seconds. */
  epoch: number
  srcMac: string | null
  dstMac: string | null
  /** Addresses as text (ARP: sender and target), '' when there are none; ports 0 unless TCP. */
  src: string
  dst: string
  sport: number
  dport: number
  tcp: boolean
  flags: number
  seq: number
  ipId: number
  /** TCP payload length (as the IP header sizes it). */
  length: number
}

/** Read `frames` (1-based frame numbers) of one capture; frames the file does not have are simply absent. */
export async function readFramesByNumber(file: string, frames: Iterable<number>): Promise<Map<number, FrameFacts>> {
  const wanted = new Set(frames)
  const out = new Map<number, FrameFacts>()
  if (wanted.size === 0) return out
  // A loop, not Math.max(...wanted): a report of many findings wants more frames than a call has arguments.
  let last = 0
  for (const n of wanted) if (n > last) last = n
  const pkt = new Packet()
  const stop = new AbortController()
  try {
    await readCapture(
      file,
      (rec) => {
        if (rec.frame >= last) stop.abort()
        if (!wanted.has(rec.frame)) return
        decodeRecord(rec, pkt)
        const tcp = pkt.ipVersion !== 0 && pkt.proto === IPPROTO_TCP && pkt.stop === Stop.Ok
        out.set(rec.frame, {
          frame: rec.frame,
          epoch: epochNumber(rec.tsSec, rec.tsNsec),
          srcMac: pkt.macSrcOff >= 0 ? macToString(pkt.data, pkt.macSrcOff) : null,
          dstMac: pkt.macDstOff >= 0 ? macToString(pkt.data, pkt.macDstOff) : null,
          src: srcAddrString(pkt),
          dst: dstAddrString(pkt),
          sport: tcp ? pkt.sport : 0,
          dport: tcp ? pkt.dport : 0,
          tcp,
          flags: tcp ? pkt.tcpFlags : 0,
          seq: tcp ? pkt.seq : 0,
          ipId: pkt.ipId,
          length: tcp ? pkt.payloadLen : 0,
        })
      },
      {signal: stop.signal},
    )
  } catch (err) {
    // The abort is how the read ends early; anything else (the file changed since the scan) leaves fewer frames.
    if (!stop.signal.aborted) return out
  }
  return out
}
