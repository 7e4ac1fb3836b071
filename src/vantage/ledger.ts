import type {CaptureRecord} from '../capture/record.js'
import {dstAddrString, endpointString, ipv4ToString, macToString, srcAddrString} from '../decode/format.js'
import {ETHERTYPE_ARP, IPPROTO_TCP, type Packet, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN} from '../decode/packet.js'
import {AppStream, type AppContext, Dir, MYSQL_PORTS, POSTGRES_PORTS} from '../decode/app/stream.js'
import {TCP_A_ANY_RETRANSMISSION} from '../flow/tcp-analysis.js'
import {FrameClass, macNumber, macNumberToString} from './dr-pairs.js'

/** A frame a finding can cite: capture frame number and exact capture time. */
export interface FrameRef {
  frame: number
  sec: number
  nsec: number
}

/** A client packet as the ledger remembers it. */
export interface ClientPacket {
  ref: FrameRef
  flags: number
  seq: number
  ack: number
  len: number
  ipId: number
  /** True when this capture saw the director forward it (a DR copy); null when the capture cannot tell. */
  forwarded: boolean | null
}

/** What the capture knew of a flow when something notable happened on it. */
export interface FlowContext {
  client: string
  service: string
  /** Client packets seen so far (originals, not copies). */
  clientPackets: number
  /** The client packet just before the event (the trigger of a reset), if any. */
  lastClient: ClientPacket | null
  /** The client packet before that one: lastClient's idle gap is measured from it. */
  prevClient: ClientPacket | null
  /** The last client packet this capture saw forwarded, if any. */
  lastForwarded: ClientPacket | null
  /** Client packets since the last forwarded one (a black-hole run when > 0 on a director). */
  sinceForwarded: number
  /** Real server the flow was last forwarded to (MAC in DR), director MAC that forwarded it. */
  realServer: string | null
  director: string | null
  /** Longest client silence after which the next client packet was still forwarded (s). */
  longestForwardedGap: number
  /** MySQL/PostgreSQL context (last command, server error) when the service speaks one of them. */
  app: AppContext | null
}

export interface ResetEvent {
  ref: FrameRef
  flowId: number
  src: string
  dst: string
  srcMac: string | null
  dstMac: string | null
  /** SLL packet type 4 (sent by the capturing host); null when the link layer does not say. */
  outgoing: boolean | null
  ipId: number
  df: boolean
  ttl: number
  flags: number
  seq: number
  ack: number
  /** True when the client sent it (towards the service). */
  fromClient: boolean
  context: FlowContext
}

export interface StallEvent {
  flowId: number
  /** The first transmission of the segment the client kept retransmitting. */
  first: ClientPacket
  retransmissions: ClientPacket[]
  context: FlowContext
}

export interface ConnectionStart {
  flowId: number
  client: string
  clientIp: string
  service: string
  syn: ClientPacket
  realServer: string | null
  director: string | null
}

export interface ArpEvent {
  ref: FrameRef
  op: number
  senderIp: string
  senderMac: string
  targetIp: string
  gratuitous: boolean
}

export interface ClientFrameObservation {
  flowId: number
  client: string
  service: string
  ref: FrameRef
  dstMac: string | null
}

const MAX_EVENTS = 100_000
const STALL_RETRANSMISSIONS = 3

/**
 * Per capture, per flow, what the client side did and what became of it at this vantage point — kept as a
 * few numbers per live flow, with snapshots taken only when something notable happens (a reset, a stall, a
 * new connection, an ARP claim). Memory follows concurrent flows and notable events, not packets.
 */
export class CaptureLedger {
  readonly resets: ResetEvent[] = []
  readonly stalls: StallEvent[] = []
  readonly connections: ConnectionStart[] = []
  readonly arps: ArpEvent[] = []
  /** Client→service frames addressed to each link-layer destination (who the sender believed owned the VIP). */
  readonly vipOwnerChanges: ClientFrameObservation[] = []
  eventsDropped = 0
  /** The longest client silence after which the next client packet was still forwarded (an entry survived it). */
  longestSurvived: {gap: number; after: ClientPacket; next: ClientPacket} | null = null

  // Per flow slot: identity, orientation and the last few client packets.
  private flowId = new Float64Array(0)
  private clientIsOrig = new Uint8Array(0)
  private names: (readonly [string, string] | null)[] = []
  private count = new Float64Array(0)
  private last: (ClientPacket | null)[] = []
  private prev: (ClientPacket | null)[] = []
  private lastFwd: (ClientPacket | null)[] = []
  private sinceFwd = new Float64Array(0)
  private rs = new Float64Array(0)
  private dir = new Float64Array(0)
  private longestGap = new Float64Array(0)
  private lastDstMac = new Float64Array(0)
  private rtxSeq = new Float64Array(0)
  private rtx: (ClientPacket[] | null)[] = []
  private rtxFirst: (ClientPacket | null)[] = []
  private stalled = new Uint8Array(0)
  private lastSyn: (ConnectionStart | null)[] = []
  private app: (AppStream | null)[] = []

  /**
   * Account one frame. `cls`/`pairFrame`/`pairRs`/`pairDirector` come from the DR pairer, `flowId`/`slot`/
   * `isOrig` from the flow tracker, `genuineFlags` from the copy-free Wireshark analysis.
   */
  observe(
    rec: CaptureRecord,
    pkt: Packet,
    cls: FrameClass,
    pairFrame: number,
    pairRs: number,
    pairDirector: number,
    flowId: number,
    slot: number,
    isOrig: boolean,
    genuineFlags: number,
  ): void {
    if (pkt.ethertype === ETHERTYPE_ARP && pkt.arpOp > 0) {
      this.noteArp(rec, pkt)
      return
    }
    if (flowId < 0 || pkt.proto !== IPPROTO_TCP) return
    this.ensure(slot)
    if (this.flowId[slot] !== flowId) this.startFlow(slot, flowId, pkt, isOrig)
    const fromClient = (this.clientIsOrig[slot] === 1) === isOrig

    if (cls === FrameClass.DrCopy) {
      if (fromClient) this.noteForwarded(slot, rec, pkt, pairFrame, pairRs, pairDirector)
      return
    }
    if (cls === FrameClass.SpanDuplicate) return

    const app = this.app[slot]
    if (app !== null) {
      const dir = fromClient ? Dir.ClientToServer : Dir.ServerToClient
      if (pkt.tcpFlags & TCP_SYN) app.syn(dir, pkt.seq)
      if (pkt.payloadCaptured > 0) app.segment(dir, pkt.data, pkt.payloadOff, pkt.payloadCaptured, pkt.seq, rec.frame, rec.tsSec + rec.tsNsec / 1e9)
    }
    if (fromClient) this.noteClientPacket(slot, rec, pkt, genuineFlags)
    if (pkt.tcpFlags & TCP_RST) this.noteReset(slot, rec, pkt, fromClient)
  }

  /** Grow the per-slot arrays to hold `slot` (slots are recycled by the flow table, so this follows concurrency). */
  private ensure(slot: number): void {
    if (slot < this.flowId.length) return
    const n = Math.max(1024, (slot + 1) * 2)
    const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T, fill = 0): T => {
      const b = make(n)
      if (fill !== 0) b.fill(fill)
      b.set(a)
      return b
    }
    this.flowId = grow(this.flowId, (k) => new Float64Array(k), -1)
    this.clientIsOrig = grow(this.clientIsOrig, (k) => new Uint8Array(k))
    this.count = grow(this.count, (k) => new Float64Array(k))
    this.sinceFwd = grow(this.sinceFwd, (k) => new Float64Array(k))
    this.rs = grow(this.rs, (k) => new Float64Array(k), -1)
    this.dir = grow(this.dir, (k) => new Float64Array(k), -1)
    this.longestGap = grow(this.longestGap, (k) => new Float64Array(k))
    this.lastDstMac = grow(this.lastDstMac, (k) => new Float64Array(k), -1)
    this.rtxSeq = grow(this.rtxSeq, (k) => new Float64Array(k), -1)
    this.stalled = grow(this.stalled, (k) => new Uint8Array(k))
    for (const arr of [this.names, this.last, this.prev, this.lastFwd, this.rtx, this.rtxFirst, this.lastSyn, this.app] as unknown[][]) {
      while (arr.length < n) arr.push(null)
    }
  }

  private startFlow(slot: number, flowId: number, pkt: Packet, isOrig: boolean): void {
    this.flowId[slot] = flowId
    const f = pkt.tcpFlags
    // Who is the client: the SYN's sender, the SYN/ACK's receiver, otherwise the ephemeral (higher) port.
    let senderIsClient: boolean
    if ((f & (TCP_SYN | TCP_ACK)) === TCP_SYN) senderIsClient = true
    else if ((f & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) senderIsClient = false
    else senderIsClient = pkt.sport > pkt.dport
    this.clientIsOrig[slot] = senderIsClient === isOrig ? 1 : 0
    const src = endpointString(srcAddrString(pkt), pkt.sport)
    const dst = endpointString(dstAddrString(pkt), pkt.dport)
    this.names[slot] = senderIsClient ? [src, dst] : [dst, src]
    this.count[slot] = 0
    this.last[slot] = null
    this.prev[slot] = null
    this.lastFwd[slot] = null
    this.sinceFwd[slot] = 0
    this.rs[slot] = -1
    this.dir[slot] = -1
    this.longestGap[slot] = 0
    this.lastDstMac[slot] = -1
    this.rtxSeq[slot] = -1
    this.rtx[slot] = null
    this.rtxFirst[slot] = null
    this.stalled[slot] = 0
    this.lastSyn[slot] = null
    // Database services get a protocol tracker (bounded state; the port is only a hint, content decides).
    const servicePort = senderIsClient ? pkt.dport : pkt.sport
    this.app[slot] = MYSQL_PORTS.includes(servicePort) || POSTGRES_PORTS.includes(servicePort) ? new AppStream(servicePort) : null
  }

  private noteClientPacket(slot: number, rec: CaptureRecord, pkt: Packet, genuineFlags: number): void {
    // One small object per client packet, reused as `last` until the next one: the price of being able to
    // snapshot the trigger of a reset. Kept to client→service originals (about half a director's frames).
    const p: ClientPacket = {
      ref: {frame: rec.frame, sec: rec.tsSec, nsec: rec.tsNsec},
      flags: pkt.tcpFlags,
      seq: pkt.seq,
      ack: pkt.ack,
      len: pkt.payloadLen,
      ipId: pkt.ipId,
      forwarded: null,
    }
    this.prev[slot] = this.last[slot]
    this.last[slot] = p
    this.count[slot]++
    this.sinceFwd[slot]++
    const dmac = macNumber(pkt.data, pkt.macDstOff)
    if (dmac !== this.lastDstMac[slot]) {
      this.lastDstMac[slot] = dmac
      if (this.vipOwnerChanges.length < MAX_EVENTS) {
        const [client, service] = this.names[slot] ?? ['', '']
        this.vipOwnerChanges.push({flowId: this.flowId[slot], client, service, ref: p.ref, dstMac: dmac < 0 ? null : macNumberToString(dmac)})
      }
    }
    if ((pkt.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN && this.connections.length < MAX_EVENTS) {
      const [client, service] = this.names[slot] ?? ['', '']
      const c: ConnectionStart = {
        flowId: this.flowId[slot],
        client,
        clientIp: srcAddrString(pkt),
        service,
        syn: p,
        realServer: null,
        director: null,
      }
      // A retransmitted SYN of the same connection is not a new connection.
      if (this.lastSyn[slot] === null || this.lastSyn[slot]?.syn.seq !== pkt.seq) {
        this.connections.push(c)
        this.lastSyn[slot] = c
      }
    }
    this.trackRetransmissions(slot, p, genuineFlags)
  }

  /** A client that keeps retransmitting the same segment gets no answer: a stall, once it reaches 3. */
  private trackRetransmissions(slot: number, p: ClientPacket, genuineFlags: number): void {
    const carries = p.len > 0 || (p.flags & (TCP_SYN | TCP_FIN)) !== 0
    if (!carries) return
    if (genuineFlags & TCP_A_ANY_RETRANSMISSION && p.seq === this.rtxSeq[slot]) {
      const list = this.rtx[slot]
      if (list !== null && list.length < 64) list.push(p)
      if (list !== null && list.length === STALL_RETRANSMISSIONS && this.stalled[slot] === 0) {
        this.stalled[slot] = 1
        const first = this.rtxFirst[slot]
        if (first !== null && this.stalls.length < MAX_EVENTS) {
          this.stalls.push({flowId: this.flowId[slot], first, retransmissions: list, context: this.context(slot)})
        }
      }
      return
    }
    // A new segment: it becomes the candidate original of a retransmission run.
    this.rtxSeq[slot] = p.seq
    this.rtxFirst[slot] = p
    this.rtx[slot] = []
    this.stalled[slot] = 0
  }

  private noteForwarded(slot: number, rec: CaptureRecord, pkt: Packet, pairFrame: number, pairRs: number, pairDirector: number): void {
    const last = this.last[slot]
    const orig = last !== null && last.ref.frame === pairFrame ? last : this.findRecent(slot, pairFrame)
    if (orig === null) return
    orig.forwarded = true
    const before = this.lastFwd[slot]
    if (before !== null) {
      const gap = orig.ref.sec - before.ref.sec + (orig.ref.nsec - before.ref.nsec) / 1e9
      if (gap > this.longestGap[slot]) this.longestGap[slot] = gap
      // Only ESTABLISHED gaps bound the tcp timeout; SYN_RECV/FIN_WAIT/CLOSE have their own.
      const established = (before.flags & (TCP_SYN | TCP_FIN | TCP_RST)) === 0
      if (established && (this.longestSurvived === null || gap > this.longestSurvived.gap)) this.longestSurvived = {gap, after: before, next: orig}
    }
    this.lastFwd[slot] = orig
    this.sinceFwd[slot] = 0
    this.rs[slot] = pairRs
    this.dir[slot] = pairDirector
    const syn = this.lastSyn[slot]
    if (syn !== null && syn.syn === orig) {
      syn.realServer = pairRs < 0 ? null : macNumberToString(pairRs)
      syn.director = pairDirector < 0 ? null : macNumberToString(pairDirector)
    }
    void rec
    void pkt
  }

  private findRecent(slot: number, frame: number): ClientPacket | null {
    const prev = this.prev[slot]
    if (prev !== null && prev.ref.frame === frame) return prev
    const first = this.rtxFirst[slot]
    if (first !== null && first.ref.frame === frame) return first
    for (const p of this.rtx[slot] ?? []) if (p.ref.frame === frame) return p
    return null
  }

  private noteReset(slot: number, rec: CaptureRecord, pkt: Packet, fromClient: boolean): void {
    if (this.resets.length >= MAX_EVENTS) {
      this.eventsDropped++
      return
    }
    this.resets.push({
      ref: {frame: rec.frame, sec: rec.tsSec, nsec: rec.tsNsec},
      flowId: this.flowId[slot],
      src: endpointString(srcAddrString(pkt), pkt.sport),
      dst: endpointString(dstAddrString(pkt), pkt.dport),
      srcMac: pkt.macSrcOff >= 0 ? macToString(pkt.data, pkt.macSrcOff) : null,
      dstMac: pkt.macDstOff >= 0 ? macToString(pkt.data, pkt.macDstOff) : null,
      outgoing: pkt.sllPktType < 0 ? null : pkt.sllPktType === 4,
      ipId: pkt.ipId,
      df: pkt.df,
      ttl: pkt.ttl,
      flags: pkt.tcpFlags,
      seq: pkt.seq,
      ack: pkt.ack,
      fromClient,
      context: this.context(slot),
    })
  }

  private context(slot: number): FlowContext {
    const [client, service] = this.names[slot] ?? ['', '']
    const rs = this.rs[slot]
    const d = this.dir[slot]
    return {
      client,
      service,
      clientPackets: this.count[slot],
      lastClient: this.last[slot] ? {...(this.last[slot] as ClientPacket)} : null,
      prevClient: this.prev[slot] ? {...(this.prev[slot] as ClientPacket)} : null,
      lastForwarded: this.lastFwd[slot] ? {...(this.lastFwd[slot] as ClientPacket)} : null,
      sinceForwarded: this.sinceFwd[slot],
      realServer: rs < 0 ? null : macNumberToString(rs),
      director: d < 0 ? null : macNumberToString(d),
      longestForwardedGap: this.longestGap[slot],
      app: this.app[slot]?.snapshot() ?? null,
    }
  }

  private noteArp(rec: CaptureRecord, pkt: Packet): void {
    if (this.arps.length >= MAX_EVENTS || pkt.arpSenderMacOff < 0) return
    this.arps.push({
      ref: {frame: rec.frame, sec: rec.tsSec, nsec: rec.tsNsec},
      op: pkt.arpOp,
      senderIp: ipv4ToString(pkt.arpSenderIp),
      senderMac: macToString(pkt.data, pkt.arpSenderMacOff),
      targetIp: ipv4ToString(pkt.arpTargetIp),
      gratuitous: pkt.arpSenderIp === pkt.arpTargetIp,
    })
  }
}
