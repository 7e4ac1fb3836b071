/**
 * The two bounded passes over the first frames of each capture, before the streaming pass:
 *  A. find the services (VIP:port) — from DR copies (a director forwarding them), SYN destinations
 *     seen in several captures — and who claims the VIP by ARP;
 *  B. with the services known, gather each capture's role evidence and keep the fingerprints and
 *     times of its first client↔service packets for a coarse clock offset.
 */
import type {CaptureRecord} from '../../capture/record.js'
import {decodeRecord} from '../../decode/decode.js'
import {ETHERTYPE_ARP, IPPROTO_TCP, Packet, TCP_ACK, TCP_SYN} from '../../decode/packet.js'
import {DrPairer, FrameClass, macNumber} from '../dr-pairs.js'
import {fingerprint, newFingerprint} from '../fingerprint.js'
import {isTransport, kindOfPacket, SLL_OUTGOING} from './classify.js'
import {EndpointTable} from './endpoints.js'
import {KIND_REQUEST} from './points.js'
import {MacCounter, RoleEvidence} from './roles.js'
import {CaptureSource} from './source.js'

/** Endpoint table with a count per entry. */
export class CountedEndpoints {
  readonly table = new EndpointTable()
  counts = new Float64Array(64)

  addPacket(pkt: Packet, which: 0 | 1): void {
    const i = this.table.addPacket(pkt, which)
    if (i >= this.counts.length) {
      const c = new Float64Array(this.counts.length * 2)
      c.set(this.counts)
      this.counts = c
    }
    this.counts[i]++
  }
}

/** Read at most `maxFrames` records of a capture; `onRecord` sees each. Returns the frames read. */
export async function readPrefix(file: string, maxFrames: number, onRecord: (rec: CaptureRecord) => void): Promise<number> {
  let n = 0
  const src = new CaptureSource(file, (rec) => {
    if (n >= maxFrames) return
    n++
    onRecord(rec)
  })
  try {
    while (n < maxFrames) {
      const p = src.pump()
      const more = typeof p === 'boolean' ? p : await p
      if (!more) break
    }
    // Unreadable files throw here, with the reader's message.
    if (src.ended) src.finish()
  } finally {
    src.close()
  }
  return n
}

export interface PassA {
  frames: number
  /** First timestamp (seconds, whole + fraction), NaN when none. */
  firstSec: number
  firstNsec: number
  copyDst: CountedEndpoints
  /** NAT: the original (VIP) destination of SYNs forwarded with a new destination. */
  natVip: CountedEndpoints
  synDst: CountedEndpoints
  drCopies: number
  drFromMac: MacCounter
  /** ARP replies and gratuitous ARP: [sender IPv4, sender MAC] pairs (bounded). */
  arpClaims: Array<[number, number]>
}

const SYN_RING = 1024

export async function passA(file: string, maxFrames: number): Promise<PassA> {
  const pkt = new Packet()
  const pairer = new DrPairer(1)
  const out: PassA = {
    frames: 0,
    firstSec: NaN,
    firstNsec: 0,
    copyDst: new CountedEndpoints(),
    natVip: new CountedEndpoints(),
    synDst: new CountedEndpoints(),
    drCopies: 0,
    drFromMac: new MacCounter(),
    arpClaims: [],
  }
  // Recent pure SYNs: frame → destination, to learn NAT's VIP when the forwarded copy's destination differs.
  const synFrame = new Float64Array(SYN_RING).fill(-1)
  const synDst = new EndpointTable()
  const synIdx = new Int32Array(SYN_RING)
  let synHead = 0
  out.frames = await readPrefix(file, maxFrames, (rec) => {
    if (Number.isNaN(out.firstSec) && rec.hasTs) {
      out.firstSec = rec.tsSec
      out.firstNsec = rec.tsNsec
    }
    decodeRecord(rec, pkt)
    if (pkt.ethertype === ETHERTYPE_ARP && pkt.arpSenderMacOff >= 0) {
      const claim = pkt.arpOp === 2 || pkt.arpSenderIp === pkt.arpTargetIp
      if (claim && out.arpClaims.length < 64) out.arpClaims.push([pkt.arpSenderIp, macNumber(pkt.data, pkt.arpSenderMacOff)])
      return
    }
    if (!isTransport(pkt)) return
    const pureSyn = pkt.proto === IPPROTO_TCP && (pkt.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN
    const cls = pairer.observe(rec.frame, rec.tsSec, rec.tsNsec, pkt)
    if (cls === FrameClass.DrCopy) {
      out.drCopies++
      out.drFromMac.add(pairer.pairDirectorMac)
      out.copyDst.addPacket(pkt, 1)
      if (pureSyn) {
        for (let i = 0; i < SYN_RING; i++) {
          if (synFrame[i] !== pairer.pairFrame) continue
          const e = synIdx[i]
          const w = synDst.wordsOf(e)
          const d = pkt.ipVersion === 4 ? pkt.v4Dst !== w[3] || pkt.dport !== synDst.portOf(e) : pkt.dport !== synDst.portOf(e)
          if (d) {
            const j = out.natVip.table.add(synDst.versionOf(e), w, synDst.portOf(e), synDst.protoOf(e))
            if (j >= out.natVip.counts.length) {
              const c = new Float64Array(out.natVip.counts.length * 2)
              c.set(out.natVip.counts)
              out.natVip.counts = c
            }
            out.natVip.counts[j]++
          }
          break
        }
      }
    } else if (pureSyn) {
      out.synDst.addPacket(pkt, 1)
      synFrame[synHead] = rec.frame
      synIdx[synHead] = synDst.addPacket(pkt, 1)
      synHead = (synHead + 1) % SYN_RING
    }
  })
  return out
}

export interface Services {
  table: EndpointTable
  /** IPv4 VIP addresses (ARP claims are IPv4). */
  vip4: Set<number>
}

/**
 * Services to follow: destinations of DR copies (and NAT's original VIP), plus SYN destinations seen
 * in two or more captures. With neither, the SYN destinations of any capture (single-capture runs).
 */
export function decideServices(as: PassA[]): Services {
  const table = new EndpointTable()
  const addFrom = (c: CountedEndpoints, min: number): void => {
    for (let i = 0; i < c.table.size; i++) {
      if (c.counts[i] >= min) table.add(c.table.versionOf(i), c.table.wordsOf(i), c.table.portOf(i), c.table.protoOf(i))
    }
  }
  for (const a of as) {
    addFrom(a.copyDst, 2)
    addFrom(a.natVip, 1)
  }
  // SYN destinations shared by captures.
  const seen = new EndpointTable()
  const inCaptures: number[] = []
  for (const a of as) {
    for (let i = 0; i < a.synDst.table.size; i++) {
      const j = seen.add(a.synDst.table.versionOf(i), a.synDst.table.wordsOf(i), a.synDst.table.portOf(i), a.synDst.table.protoOf(i))
      inCaptures[j] = (inCaptures[j] ?? 0) + 1
    }
  }
  for (let j = 0; j < seen.size; j++) if (inCaptures[j] >= 2) table.add(seen.versionOf(j), seen.wordsOf(j), seen.portOf(j), seen.protoOf(j))
  // Nothing else known (e.g. one capture alone): every SYN destination is a candidate service.
  if (table.size === 0) for (const a of as) addFrom(a.synDst, 1)
  const vip4 = new Set<number>()
  for (let i = 0; i < table.size; i++) if (table.versionOf(i) === 4) vip4.add(table.wordsOf(i)[3])
  return {table, vip4}
}

/** The first client↔service packets of a capture, as numbers (bounded by the prefix size). */
export class PrefixEvents {
  n = 0
  readonly fpA: Uint32Array
  readonly fpB: Uint32Array
  readonly t: Float64Array
  readonly kind: Uint8Array
  readonly srcMac: Float64Array
  readonly pktType: Int8Array
  /** Filled after roles are known. */
  readonly point: Int8Array

  constructor(readonly cap: number) {
    this.fpA = new Uint32Array(cap)
    this.fpB = new Uint32Array(cap)
    this.t = new Float64Array(cap)
    this.kind = new Uint8Array(cap)
    this.srcMac = new Float64Array(cap)
    this.pktType = new Int8Array(cap)
    this.point = new Int8Array(cap)
  }
}

export interface PassB {
  evidence: RoleEvidence
  events: PrefixEvents
}

/** `baseSec`: whole seconds subtracted from every timestamp so differences keep ns precision. */
export async function passB(file: string, maxFrames: number, services: Services, drFrom: PassA, baseSec: number, maxEvents: number): Promise<PassB> {
  const pkt = new Packet()
  const fp = newFingerprint()
  const ev = new RoleEvidence()
  ev.drCopies = drFrom.drCopies
  for (const m of drFrom.drFromMac.list()) for (let i = drFrom.drFromMac.count(m); i > 0; i--) ev.drFromMac.add(m)
  const events = new PrefixEvents(maxEvents)
  ev.frames = await readPrefix(file, maxFrames, (rec) => {
    decodeRecord(rec, pkt)
    if (pkt.macSrcOff >= 0 || pkt.sllPktType >= 0) ev.hasLinkInfo = true
    if (pkt.ethertype === ETHERTYPE_ARP && pkt.arpSenderMacOff >= 0) {
      const claim = pkt.arpOp === 2 || pkt.arpSenderIp === pkt.arpTargetIp
      if (claim && services.vip4.has(pkt.arpSenderIp)) ev.arpVipFrom.add(macNumber(pkt.data, pkt.arpSenderMacOff))
      return
    }
    if (!isTransport(pkt)) return
    const kind = kindOfPacket(services.table, pkt)
    if (kind < 0) return
    const src = macNumber(pkt.data, pkt.macSrcOff)
    const dst = macNumber(pkt.data, pkt.macDstOff)
    const outgoing = pkt.sllPktType === SLL_OUTGOING
    if (kind === KIND_REQUEST) {
      ev.requests++
      if (pkt.proto === IPPROTO_TCP && (pkt.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN) ev.synRequests++
      ev.reqSrcMac.add(src)
      ev.reqDstMac.add(dst)
      if (pkt.sllPktType >= 0) {
        if (outgoing) ev.reqOutgoing++
        else ev.reqIncoming++
      }
      if (pkt.ttl === 64 || pkt.ttl === 128 || pkt.ttl === 255) ev.reqInitialTtl++
    } else {
      ev.replies++
      ev.repSrcMac.add(src)
      ev.repDstMac.add(dst)
      if (pkt.sllPktType >= 0) {
        if (outgoing) ev.repOutgoing++
        else ev.repIncoming++
      }
    }
    if (events.n < events.cap && rec.hasTs) {
      fingerprint(pkt, fp)
      const i = events.n++
      events.fpA[i] = fp.a
      events.fpB[i] = fp.b
      events.t[i] = rec.tsSec - baseSec + rec.tsNsec * 1e-9
      events.kind[i] = kind
      events.srcMac[i] = src
      events.pktType[i] = pkt.sllPktType
    }
  })
  return {evidence: ev, events}
}
