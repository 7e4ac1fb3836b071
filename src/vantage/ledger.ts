import type {CaptureRecord} from '../capture/record.js'
import {dstAddrString, endpointString, ipv4ToString, macToString, srcAddrString} from '../decode/format.js'
import {ETHERTYPE_ARP, IPPROTO_TCP, type Packet, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN} from '../decode/packet.js'
import {AppStream, type AppContext, Dir, MYSQL_PORTS, POSTGRES_PORTS} from '../decode/app/stream.js'
import {TCP_A_ANY_RETRANSMISSION} from '../flow/tcp-analysis.js'
import {FrameClass} from './dr-pairs.js'
import type {MacRegistry} from './macs.js'
import {grown} from '../util/columns.js'
import {PacketRegisters} from './registers.js'

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

/** What a capture's ledger hands on: plain data (it crosses worker threads by structured clone). */
export interface LedgerData {
  resets: ResetEvent[]
  stalls: StallEvent[]
  connections: ConnectionStart[]
  arps: ArpEvent[]
  vipOwnerChanges: ClientFrameObservation[]
  longestSurvived: {gap: number; after: ClientPacket; next: ClientPacket} | null
  eventsDropped: number
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

  // Per flow slot: identity, orientation, counters. Slots are the flow table's, recycled as flows end.
  private flowId = new Float64Array(0)
  private clientIsOrig = new Uint8Array(0)
  private names: (readonly [string, string] | null)[] = []
  private count = new Float64Array(0)
  private sinceFwd = new Float64Array(0)
  private rs = new Int32Array(0)
  private dir = new Int32Array(0)
  private longestGap = new Float64Array(0)
  private lastDstMac = new Int32Array(0)
  private rtxCount = new Int32Array(0)
  private stalled = new Uint8Array(0)
  private isDb = new Uint8Array(0)
  /** Bit 1: client FIN seen, bit 2: server FIN seen, bit 4: RST seen. */
  private closing = new Uint8Array(0)
  private serverPackets = new Float64Array(0)
  /** Protocol trackers of finished connections, for the next flows (the table keeps closed flows for a while). */
  private readonly spareApps: AppStream[] = []
  /** Packet objects only for retransmission runs (rare): the evidence of a stall. */
  private rtx: (ClientPacket[] | null)[] = []
  private lastSyn: (ConnectionStart | null)[] = []
  private app: (AppStream | null)[] = []
  /** Per slot: last client packet, the one before, the last forwarded one, the first of a retransmission run. */
  private readonly reg = new PacketRegisters(4)

  /** `macs` names the MAC ids the pairer hands out (and the ledger asks it for destination MACs). */
  constructor(private readonly macs: MacRegistry) {}

  /**
   * Account one frame. `cls`/`pairFrame`/`pairRs`/`pairDirector` (MAC ids) come from the DR pairer, `flowId`/`slot`/
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
    if (slot >= this.flowId.length) this.ensure(slot)
    if (this.flowId[slot] !== flowId) this.startFlow(slot, flowId, pkt, isOrig)
    const fromClient = (this.clientIsOrig[slot] === 1) === isOrig

    if (cls === FrameClass.DrCopy) {
      if (fromClient) this.noteForwarded(slot, pairFrame, pairRs, pairDirector)
      return
    }
    if (cls === FrameClass.SpanDuplicate) return

    const app = this.isDb[slot] === 1 ? this.app[slot] : null
    if (app !== null) {
      const dir = fromClient ? Dir.ClientToServer : Dir.ServerToClient
      if (pkt.tcpFlags & TCP_SYN) app.syn(dir, pkt.seq)
      if (pkt.payloadCaptured > 0) app.segment(dir, pkt.data, pkt.payloadOff, pkt.payloadCaptured, pkt.seq, rec.frame, rec.tsSec + rec.tsNsec / 1e9)
    }
    if (fromClient) this.noteClientPacket(slot, rec, pkt, genuineFlags)
    else this.serverPackets[slot]++
    if (pkt.tcpFlags & TCP_RST) this.noteReset(slot, rec, pkt, fromClient)
    if (pkt.tcpFlags & (TCP_FIN | TCP_RST)) this.noteClosing(slot, pkt.tcpFlags, fromClient)
  }

  /** Grow the per-slot arrays to hold `slot` (slots are recycled by the flow table, so this follows concurrency). */
  private ensure(slot: number): void {
    const n = Math.max(1024, (slot + 1) * 2)
    this.flowId = grown(this.flowId, n, -1)
    this.clientIsOrig = grown(this.clientIsOrig, n)
    this.count = grown(this.count, n)
    this.sinceFwd = grown(this.sinceFwd, n)
    this.rs = grown(this.rs, n, -1)
    this.dir = grown(this.dir, n, -1)
    this.longestGap = grown(this.longestGap, n)
    this.lastDstMac = grown(this.lastDstMac, n, -1)
    this.rtxCount = grown(this.rtxCount, n)
    this.stalled = grown(this.stalled, n)
    this.isDb = grown(this.isDb, n)
    this.closing = grown(this.closing, n)
    this.serverPackets = grown(this.serverPackets, n)
    for (const arr of [this.names, this.rtx, this.lastSyn, this.app] as unknown[][]) {
      while (arr.length < n) arr.push(null)
    }
    this.reg.ensureSlots(n)
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
    this.sinceFwd[slot] = 0
    this.rs[slot] = -1
    this.dir[slot] = -1
    this.longestGap[slot] = 0
    this.lastDstMac[slot] = -1
    this.rtxCount[slot] = -1
    this.rtx[slot] = null
    this.stalled[slot] = 0
    this.lastSyn[slot] = null
    const r = slot * 4
    for (let i = 0; i < 4; i++) this.reg.clear(r + i)
    // Database services get a protocol tracker (bounded state; the port is only a hint, content decides).
    const servicePort = senderIsClient ? pkt.dport : pkt.sport
    const db = MYSQL_PORTS.includes(servicePort) || POSTGRES_PORTS.includes(servicePort)
    // One tracker per flow slot, reset when the slot takes a new flow: allocation follows concurrency.
    this.isDb[slot] = db ? 1 : 0
    this.closing[slot] = 0
    this.serverPackets[slot] = 0
    if (db) {
      const existing = this.app[slot] ?? this.spareApps.pop() ?? null
      if (existing) existing.reset(servicePort)
      this.app[slot] = existing ?? new AppStream(servicePort)
    }
  }

  private noteClientPacket(slot: number, rec: CaptureRecord, pkt: Packet, genuineFlags: number): void {
    const L = slot * 4
    this.reg.copy(L + 1, L)
    this.reg.set(L, rec, pkt)
    this.count[slot]++
    this.sinceFwd[slot]++
    const dmac = this.macs.id(pkt.data, pkt.macDstOff)
    if (dmac !== this.lastDstMac[slot]) {
      this.lastDstMac[slot] = dmac
      if (this.vipOwnerChanges.length < MAX_EVENTS) {
        const [client, service] = this.names[slot] ?? ['', '']
        this.vipOwnerChanges.push({flowId: this.flowId[slot], client, service, ref: {frame: rec.frame, sec: rec.tsSec, nsec: rec.tsNsec}, dstMac: dmac < 0 ? null : this.macs.name(dmac)})
      }
    }
    if ((pkt.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      // A retransmitted SYN of the same connection is not a new connection.
      const prevSyn = this.lastSyn[slot]
      if ((prevSyn === null || prevSyn.syn.seq !== pkt.seq) && this.connections.length < MAX_EVENTS) {
        const [client, service] = this.names[slot] ?? ['', '']
        const c: ConnectionStart = {flowId: this.flowId[slot], client, clientIp: srcAddrString(pkt), service, syn: this.reg.get(L) as ClientPacket, realServer: null, director: null}
        this.connections.push(c)
        this.lastSyn[slot] = c
      }
    }
    this.trackRetransmissions(slot, pkt, genuineFlags)
  }

  /** A client that keeps retransmitting the same segment gets no answer: a stall, once it reaches 3. */
  private trackRetransmissions(slot: number, pkt: Packet, genuineFlags: number): void {
    const carries = pkt.payloadLen > 0 || (pkt.tcpFlags & (TCP_SYN | TCP_FIN)) !== 0
    if (!carries) return
    const L = slot * 4
    const R = L + 3
    if (genuineFlags & TCP_A_ANY_RETRANSMISSION && this.reg.has(R) && pkt.seq === this.reg.seqOf(R)) {
      let list = this.rtx[slot]
      if (list === null) {
        list = []
        this.rtx[slot] = list
      }
      if (list.length < 64) list.push(this.reg.get(L) as ClientPacket)
      if (list.length === STALL_RETRANSMISSIONS && this.stalled[slot] === 0) {
        this.stalled[slot] = 1
        if (this.stalls.length < MAX_EVENTS) {
          this.stalls.push({flowId: this.flowId[slot], first: this.reg.get(R) as ClientPacket, retransmissions: list, context: this.context(slot)})
        }
      }
      return
    }
    // A new segment: it becomes the candidate original of a retransmission run.
    this.reg.copy(R, L)
    this.rtx[slot] = null
    this.stalled[slot] = 0
  }

  private noteForwarded(slot: number, pairFrame: number, pairRs: number, pairDirector: number): void {
    const L = slot * 4
    const F = L + 2
    let src = -1
    if (this.reg.frameOf(L) === pairFrame) src = L
    else if (this.reg.frameOf(L + 1) === pairFrame) src = L + 1
    if (this.reg.frameOf(L + 3) === pairFrame) this.reg.markForwarded(L + 3)
    // Retransmission-run evidence objects learn their fate too.
    const run = this.rtx[slot]
    if (run !== null) for (const p of run) if (p.ref.frame === pairFrame) p.forwarded = true
    if (src < 0) return
    this.reg.markForwarded(src)
    if (this.reg.has(F)) {
      const gap = this.reg.gap(F, src)
      if (gap > this.longestGap[slot]) this.longestGap[slot] = gap
      // Only ESTABLISHED gaps bound the tcp timeout; SYN_RECV/FIN_WAIT/CLOSE have their own.
      const established = (this.reg.flagsOf(F) & (TCP_SYN | TCP_FIN | TCP_RST)) === 0
      if (established && (this.longestSurvived === null || gap > this.longestSurvived.gap)) {
        this.longestSurvived = {gap, after: this.reg.get(F) as ClientPacket, next: this.reg.get(src) as ClientPacket}
      }
    }
    this.reg.copy(F, src)
    this.sinceFwd[slot] = 0
    this.rs[slot] = pairRs
    this.dir[slot] = pairDirector
    const syn = this.lastSyn[slot]
    if (syn !== null && syn.syn.ref.frame === pairFrame) {
      syn.syn.forwarded = true
      syn.realServer = pairRs < 0 ? null : this.macs.name(pairRs)
      syn.director = pairDirector < 0 ? null : this.macs.name(pairDirector)
    }
  }

  /**
   * A connection closed both ways or reset needs no protocol tracking any more: its tracker goes back to the
   * pool at once, so memory follows open connections even while the flow table still holds closed ones.
   */
  private noteClosing(slot: number, flags: number, fromClient: boolean): void {
    const c = this.closing[slot] | (flags & TCP_RST ? 4 : fromClient ? 1 : 2)
    this.closing[slot] = c
    const app = this.app[slot]
    // A DR director never sees the server's side: there the client's FIN is the end.
    const oneSided = this.serverPackets[slot] === 0
    if (this.isDb[slot] === 1 && app && (c & 4 || c === 3 || (c === 1 && oneSided))) {
      this.isDb[slot] = 0
      this.app[slot] = null
      this.spareApps.push(app)
    }
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
    const L = slot * 4
    return {
      client,
      service,
      clientPackets: this.count[slot],
      lastClient: this.reg.get(L),
      prevClient: this.reg.get(L + 1),
      lastForwarded: this.reg.get(L + 2),
      sinceForwarded: this.sinceFwd[slot],
      realServer: rs < 0 ? null : this.macs.name(rs),
      director: d < 0 ? null : this.macs.name(d),
      longestForwardedGap: this.longestGap[slot],
      app: this.isDb[slot] === 1 ? (this.app[slot]?.snapshot() ?? null) : null,
    }
  }

  /** The notable events, without the per-slot working state. */
  data(): LedgerData {
    const {resets, stalls, connections, arps, vipOwnerChanges, longestSurvived, eventsDropped} = this
    return {resets, stalls, connections, arps, vipOwnerChanges, longestSurvived, eventsDropped}
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
