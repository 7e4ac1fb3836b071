import type {CaptureRecord} from '../capture/record.js'
import {dstAddrString, endpointString, ipv4ToString, macToString, srcAddrString} from '../decode/format.js'
import {ETHERTYPE_ARP, IPPROTO_TCP, type Packet, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN} from '../decode/packet.js'
import {AppConnections, type AppContext, Dir, MYSQL_PORTS, POSTGRES_PORTS} from '../decode/app/stream.js'
import {TCP_A_ANY_RETRANSMISSION} from '../flow/tcp-analysis.js'
import type {AppRequest} from './app-replay.js'
import {FrameClass} from './dr-pairs.js'
import type {MacRegistry} from './macs.js'
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
  /** The client's FIN of this connection (its first; forwarded when this capture saw the copy), if it sent one. */
  clientFin: ClientPacket | null
  /** The server had sent FIN on this flow before the event (its side was closed). */
  serverClosed: boolean
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
/**
 * Resets and stalls kept with their context, per capture; later ones are only counted (`eventsDropped`). Each
 * costs about 1.3 KB with its context (measured: 100,000 resets took 130 MB of heap), and a capture of millions
 * of health checks is one RST per connection: 20,000 keeps `analyze` of such a capture within 512 MiB.
 */
export const MAX_RESETS = 20_000
const STALL_RETRANSMISSIONS = 3
/** Packet registers per flow slot (see `reg`); register 4 holds the client's FIN. */
const REGS = 5
const R_FIN = 4

// A flow slot's record, in 32-bit words: Float64 fields at SF_* (index within the slot's f64 run), then
// Int32 fields at SI_* (word within the slot).
const S_WORDS = 16
const SF_FLOW_ID = 0
/** Client packets seen (originals). */
const SF_COUNT = 1
/** Client packets since the last one this capture saw forwarded. */
const SF_SINCE_FWD = 2
const SF_LONGEST_GAP = 3
const SF_SERVER_PACKETS = 4
/** Frame of the connection's SYN (-1 none), so a forwarded copy is matched to it without touching the object. */
const SF_SYN_FRAME = 5
/** MAC ids of the real server and director of the last forwarded copy, and of the last client frame's destination. */
const SI_RS = 12
const SI_DIRECTOR = 13
const SI_LAST_DST_MAC = 14
const SI_BITS = 15
// SI_BITS: orientation, a stall reported, how the connection is closing, and from APP_SHIFT up the number of
// its protocol tracker's record + 1 (0: none).
const B_CLIENT_IS_ORIG = 1
const B_STALLED = 2
const B_CLIENT_FIN = 16
const B_SERVER_FIN = 32
const B_RST = 64
const APP_SHIFT = 8

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

  // Per flow slot: identity, orientation, counters, as one 64-byte record (S_* layout). Slots are the flow
  // table's, recycled as flows end.
  private slots = 0
  private f64 = new Float64Array(0)
  private i32 = new Int32Array(0)
  private names: (readonly [string, string] | null)[] = []
  /** Protocol trackers of the database connections (null when their snapshots are left to replayApps). */
  private readonly apps: AppConnections | null
  /** Per slot, the frame that started its flow: where a replay opens the flow's tracker. */
  private firstFrame = new Float64Array(0)
  /** Snapshots for replayApps to take (when the trackers do not run here). */
  readonly appRequests: AppRequest[] = []
  /** Packet objects only for retransmission runs (rare): the evidence of a stall. */
  private rtx: (ClientPacket[] | null)[] = []
  private lastSyn: (ConnectionStart | null)[] = []
  /** Per slot: last client packet, the one before, the last forwarded one, the first of a retransmission run, the client's FIN. */
  private readonly reg = new PacketRegisters(REGS)

  /**
   * `macs` names the MAC ids the pairer hands out (and the ledger asks it for destination MACs). With
   * `replayApps`, the protocol trackers do not run here: each snapshot a reset or stall takes becomes an entry
   * of `appRequests`, for replayApps to fill in after the pass.
   */
  constructor(
    private readonly macs: MacRegistry,
    opts: {replayApps?: boolean} = {},
  ) {
    this.apps = opts.replayApps ? null : new AppConnections()
  }

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
    if (slot >= this.slots) this.ensure(slot)
    const f = slot * (S_WORDS / 2)
    if (this.f64[f + SF_FLOW_ID] !== flowId) this.startFlow(slot, flowId, rec, pkt, isOrig)
    const bits = this.i32[slot * S_WORDS + SI_BITS]
    const fromClient = ((bits & B_CLIENT_IS_ORIG) !== 0) === isOrig

    if (cls === FrameClass.DrCopy) {
      if (fromClient) this.noteForwarded(slot, pairFrame, pairRs, pairDirector)
      return
    }
    if (cls === FrameClass.SpanDuplicate) return

    const app = (bits >>> APP_SHIFT) - 1
    const apps = this.apps
    if (app >= 0 && apps !== null) {
      // replayApps feeds its trackers the same way.
      const dir = fromClient ? Dir.ClientToServer : Dir.ServerToClient
      if (pkt.tcpFlags & TCP_SYN) apps.syn(app, dir, pkt.seq)
      if (pkt.payloadCaptured > 0) apps.segment(app, dir, pkt.data, pkt.payloadOff, pkt.payloadCaptured, pkt.seq, rec.frame, rec.tsSec + rec.tsNsec / 1e9)
    }
    if (fromClient) this.noteClientPacket(slot, rec, pkt, genuineFlags)
    else this.f64[f + SF_SERVER_PACKETS]++
    if (pkt.tcpFlags & TCP_RST) this.noteReset(slot, rec, pkt, fromClient)
    if (pkt.tcpFlags & (TCP_FIN | TCP_RST)) this.noteClosing(slot, pkt.tcpFlags, fromClient)
  }

  /** Grow the per-slot arrays to hold `slot` (slots are recycled by the flow table, so this follows concurrency). */
  private ensure(slot: number): void {
    const n = Math.max(1024, (slot + 1) * 2)
    const buf = new ArrayBuffer(n * S_WORDS * 4)
    const f64 = new Float64Array(buf)
    f64.set(this.f64)
    // A slot never used holds no flow (flow ids are ≥ 0).
    for (let k = this.slots; k < n; k++) f64[k * (S_WORDS / 2) + SF_FLOW_ID] = -1
    this.f64 = f64
    this.i32 = new Int32Array(buf)
    if (this.apps === null) {
      const ff = new Float64Array(n)
      ff.set(this.firstFrame)
      this.firstFrame = ff
    }
    this.slots = n
    for (const arr of [this.names, this.rtx, this.lastSyn] as unknown[][]) {
      while (arr.length < n) arr.push(null)
    }
    this.reg.ensureSlots(n)
  }

  private startFlow(slot: number, flowId: number, rec: CaptureRecord, pkt: Packet, isOrig: boolean): void {
    const f = pkt.tcpFlags
    // Who is the client: the SYN's sender, the SYN/ACK's receiver, otherwise the ephemeral (higher) port.
    let senderIsClient: boolean
    if ((f & (TCP_SYN | TCP_ACK)) === TCP_SYN) senderIsClient = true
    else if ((f & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) senderIsClient = false
    else senderIsClient = pkt.sport > pkt.dport
    const src = endpointString(srcAddrString(pkt), pkt.sport)
    const dst = endpointString(dstAddrString(pkt), pkt.dport)
    this.names[slot] = senderIsClient ? [src, dst] : [dst, src]
    const o = slot * (S_WORDS / 2)
    this.f64[o + SF_FLOW_ID] = flowId
    this.f64[o + SF_COUNT] = 0
    this.f64[o + SF_SINCE_FWD] = 0
    this.f64[o + SF_LONGEST_GAP] = 0
    this.f64[o + SF_SERVER_PACKETS] = 0
    this.f64[o + SF_SYN_FRAME] = -1
    const w = slot * S_WORDS
    this.i32[w + SI_RS] = -1
    this.i32[w + SI_DIRECTOR] = -1
    this.i32[w + SI_LAST_DST_MAC] = -1
    this.rtx[slot] = null
    this.lastSyn[slot] = null
    const r = slot * REGS
    for (let i = 0; i < REGS; i++) this.reg.clear(r + i)
    // Database services get a protocol tracker (bounded state; the port is only a hint, content decides).
    const servicePort = senderIsClient ? pkt.dport : pkt.sport
    const db = MYSQL_PORTS.includes(servicePort) || POSTGRES_PORTS.includes(servicePort)
    // One tracker per flow slot, reset when the slot takes a new flow: allocation follows concurrency.
    // The slot's previous flow may have ended without a close the ledger saw.
    const old = (this.i32[w + SI_BITS] >>> APP_SHIFT) - 1
    const apps = this.apps
    if (old >= 0 && apps !== null) apps.close(old)
    // Without trackers here, 0 only marks a database connection.
    const app = !db ? -1 : apps !== null ? apps.open(servicePort) : 0
    if (apps === null) this.firstFrame[slot] = rec.frame
    this.i32[w + SI_BITS] = (senderIsClient === isOrig ? B_CLIENT_IS_ORIG : 0) | ((app + 1) << APP_SHIFT)
  }

  private noteClientPacket(slot: number, rec: CaptureRecord, pkt: Packet, genuineFlags: number): void {
    const L = slot * REGS
    this.reg.copy(L + 1, L)
    this.reg.set(L, rec, pkt)
    const o = slot * (S_WORDS / 2)
    this.f64[o + SF_COUNT]++
    this.f64[o + SF_SINCE_FWD]++
    const dmac = this.macs.id(pkt.data, pkt.macDstOff)
    if (dmac !== this.i32[slot * S_WORDS + SI_LAST_DST_MAC]) {
      this.i32[slot * S_WORDS + SI_LAST_DST_MAC] = dmac
      if (this.vipOwnerChanges.length < MAX_EVENTS) {
        const [client, service] = this.names[slot] ?? ['', '']
        this.vipOwnerChanges.push({flowId: this.f64[o + SF_FLOW_ID], client, service, ref: {frame: rec.frame, sec: rec.tsSec, nsec: rec.tsNsec}, dstMac: dmac < 0 ? null : this.macs.name(dmac)})
      }
    }
    if (pkt.tcpFlags & TCP_FIN && !this.reg.has(L + R_FIN)) this.reg.copy(L + R_FIN, L)
    if ((pkt.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      // A new connection on the 4-tuple has not closed yet.
      if (this.reg.has(L + R_FIN) && this.reg.seqOf(L + R_FIN) !== pkt.seq) this.reg.clear(L + R_FIN)
      // A retransmitted SYN of the same connection is not a new connection.
      const prevSyn = this.lastSyn[slot]
      if ((prevSyn === null || prevSyn.syn.seq !== pkt.seq) && this.connections.length < MAX_EVENTS) {
        const [client, service] = this.names[slot] ?? ['', '']
        const c: ConnectionStart = {flowId: this.f64[o + SF_FLOW_ID], client, clientIp: srcAddrString(pkt), service, syn: this.reg.get(L) as ClientPacket, realServer: null, director: null}
        this.connections.push(c)
        this.lastSyn[slot] = c
        this.f64[o + SF_SYN_FRAME] = rec.frame
      }
    }
    this.trackRetransmissions(slot, rec.frame, pkt, genuineFlags)
  }

  /** A client that keeps retransmitting the same segment gets no answer: a stall, once it reaches 3. */
  private trackRetransmissions(slot: number, frame: number, pkt: Packet, genuineFlags: number): void {
    const carries = pkt.payloadLen > 0 || (pkt.tcpFlags & (TCP_SYN | TCP_FIN)) !== 0
    if (!carries) return
    const L = slot * REGS
    const R = L + 3
    if (genuineFlags & TCP_A_ANY_RETRANSMISSION && this.reg.has(R) && pkt.seq === this.reg.seqOf(R)) {
      let list = this.rtx[slot]
      if (list === null) {
        list = []
        this.rtx[slot] = list
      }
      if (list.length < 64) list.push(this.reg.get(L) as ClientPacket)
      const w = slot * S_WORDS
      if (list.length === STALL_RETRANSMISSIONS && (this.i32[w + SI_BITS] & B_STALLED) === 0) {
        this.i32[w + SI_BITS] |= B_STALLED
        if (this.stalls.length < MAX_RESETS) {
          this.stalls.push({
            flowId: this.f64[slot * (S_WORDS / 2) + SF_FLOW_ID],
            first: this.reg.get(R) as ClientPacket,
            retransmissions: list,
            context: this.context(slot, frame, pkt, true),
          })
        }
      }
      return
    }
    // A new segment: it becomes the candidate original of a retransmission run.
    this.reg.copy(R, L)
    this.rtx[slot] = null
    this.i32[slot * S_WORDS + SI_BITS] &= ~B_STALLED
  }

  private noteForwarded(slot: number, pairFrame: number, pairRs: number, pairDirector: number): void {
    const L = slot * REGS
    const F = L + 2
    let src = -1
    if (this.reg.frameOf(L) === pairFrame) src = L
    else if (this.reg.frameOf(L + 1) === pairFrame) src = L + 1
    if (this.reg.frameOf(L + 3) === pairFrame) this.reg.markForwarded(L + 3)
    if (this.reg.frameOf(L + R_FIN) === pairFrame) this.reg.markForwarded(L + R_FIN)
    // Retransmission-run evidence objects learn their fate too.
    const run = this.rtx[slot]
    if (run !== null) for (const p of run) if (p.ref.frame === pairFrame) p.forwarded = true
    if (src < 0) return
    this.reg.markForwarded(src)
    if (this.reg.has(F)) {
      const gap = this.reg.gap(F, src)
      const g = slot * (S_WORDS / 2) + SF_LONGEST_GAP
      if (gap > this.f64[g]) this.f64[g] = gap
      // Only ESTABLISHED gaps bound the tcp timeout; SYN_RECV/FIN_WAIT/CLOSE have their own.
      const established = (this.reg.flagsOf(F) & (TCP_SYN | TCP_FIN | TCP_RST)) === 0
      if (established && (this.longestSurvived === null || gap > this.longestSurvived.gap)) {
        this.longestSurvived = {gap, after: this.reg.get(F) as ClientPacket, next: this.reg.get(src) as ClientPacket}
      }
    }
    this.reg.copy(F, src)
    this.f64[slot * (S_WORDS / 2) + SF_SINCE_FWD] = 0
    this.i32[slot * S_WORDS + SI_RS] = pairRs
    this.i32[slot * S_WORDS + SI_DIRECTOR] = pairDirector
    const syn = this.f64[slot * (S_WORDS / 2) + SF_SYN_FRAME] === pairFrame ? this.lastSyn[slot] : null
    if (syn !== null) {
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
    const w = slot * S_WORDS
    const bits = this.i32[w + SI_BITS] | (flags & TCP_RST ? B_RST : fromClient ? B_CLIENT_FIN : B_SERVER_FIN)
    this.i32[w + SI_BITS] = bits
    const c = bits & (B_CLIENT_FIN | B_SERVER_FIN | B_RST)
    const app = (bits >>> APP_SHIFT) - 1
    // A DR director never sees the server's side: there the client's FIN is the end.
    const oneSided = this.f64[slot * (S_WORDS / 2) + SF_SERVER_PACKETS] === 0
    if (app >= 0 && (c & B_RST || c === (B_CLIENT_FIN | B_SERVER_FIN) || (c === B_CLIENT_FIN && oneSided))) {
      this.i32[w + SI_BITS] = bits & ((1 << APP_SHIFT) - 1)
      this.apps?.close(app)
    }
  }

  private noteReset(slot: number, rec: CaptureRecord, pkt: Packet, fromClient: boolean): void {
    if (this.resets.length >= MAX_RESETS) {
      this.eventsDropped++
      return
    }
    const names = this.names[slot]
    this.resets.push({
      ref: {frame: rec.frame, sec: rec.tsSec, nsec: rec.tsNsec},
      flowId: this.f64[slot * (S_WORDS / 2) + SF_FLOW_ID],
      // The flow's own endpoint strings and one string per MAC: a capture's resets share them.
      src: names !== null ? names[fromClient ? 0 : 1] : endpointString(srcAddrString(pkt), pkt.sport),
      dst: names !== null ? names[fromClient ? 1 : 0] : endpointString(dstAddrString(pkt), pkt.dport),
      srcMac: pkt.macSrcOff >= 0 ? this.macString(pkt.data, pkt.macSrcOff) : null,
      dstMac: pkt.macDstOff >= 0 ? this.macString(pkt.data, pkt.macDstOff) : null,
      outgoing: pkt.sllPktType < 0 ? null : pkt.sllPktType === 4,
      ipId: pkt.ipId,
      df: pkt.df,
      ttl: pkt.ttl,
      flags: pkt.tcpFlags,
      seq: pkt.seq,
      ack: pkt.ack,
      fromClient,
      context: this.context(slot, rec.frame, pkt, fromClient),
    })
  }

  /** What the ledger knows of the flow in `slot` at `frame` (`pkt`, sent by the client or not). */
  private context(slot: number, frame: number, pkt: Packet, fromClient: boolean): FlowContext {
    const [client, service] = this.names[slot] ?? ['', '']
    const o = slot * (S_WORDS / 2)
    const w = slot * S_WORDS
    const rs = this.i32[w + SI_RS]
    const d = this.i32[w + SI_DIRECTOR]
    const L = slot * REGS
    const ctx: FlowContext = {
      client,
      service,
      clientPackets: this.f64[o + SF_COUNT],
      lastClient: this.reg.get(L),
      prevClient: this.reg.get(L + 1),
      lastForwarded: this.reg.get(L + 2),
      sinceForwarded: this.f64[o + SF_SINCE_FWD],
      clientFin: this.reg.get(L + R_FIN),
      serverClosed: (this.i32[w + SI_BITS] & B_SERVER_FIN) !== 0,
      realServer: rs < 0 ? null : this.macs.name(rs),
      director: d < 0 ? null : this.macs.name(d),
      longestForwardedGap: this.f64[o + SF_LONGEST_GAP],
      app: null,
    }
    const app = (this.i32[w + SI_BITS] >>> APP_SHIFT) - 1
    if (app < 0) return ctx
    if (this.apps !== null) ctx.app = this.apps.snapshot(app)
    else this.appRequests.push(appRequest(this.firstFrame[slot], frame, pkt, fromClient, ctx))
    return ctx
  }

  private readonly macStrings = new Map<string, string>()

  private macString(data: Uint8Array, off: number): string {
    const s = macToString(data, off)
    const known = this.macStrings.get(s)
    if (known !== undefined) return known
    if (this.macStrings.size < 4096) this.macStrings.set(s, s)
    return s
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

/** The snapshot request for `ctx`: the flow of `pkt` (sent by the client or not), started at `firstFrame`. */
function appRequest(firstFrame: number, frame: number, pkt: Packet, fromClient: boolean, ctx: FlowContext): AppRequest {
  const src = pkt.ipVersion === 4 ? [pkt.v4Src >>> 0, 0, 0, 0] : Array.from(pkt.v6Src)
  const dst = pkt.ipVersion === 4 ? [pkt.v4Dst >>> 0, 0, 0, 0] : Array.from(pkt.v6Dst)
  return {
    firstFrame,
    frame,
    ipVersion: pkt.ipVersion,
    client: fromClient ? src : dst,
    server: fromClient ? dst : src,
    clientPort: fromClient ? pkt.sport : pkt.dport,
    serverPort: fromClient ? pkt.dport : pkt.sport,
    target: ctx,
  }
}

/**
 * The ledgers of one capture's flow shards as one: each list back in capture order (by the frame that
 * recorded each entry; a frame belongs to one shard), capped as one ledger would be, flow ids made unique as
 * mergeScans makes them (shard s's id i becomes i × shards + s).
 */
export function mergeLedgers(parts: readonly LedgerData[]): LedgerData {
  if (parts.length === 1) return parts[0]
  const n = parts.length
  const merge = <T>(lists: T[][], frameOf: (x: T) => number, cap = MAX_EVENTS): T[] =>
    lists
      .flat()
      .sort((a, b) => frameOf(a) - frameOf(b))
      .slice(0, cap)
  // In place: the parts are not used again, and a copy of every event would double the merge's memory.
  const renumber = <T extends {flowId: number}>(pick: (l: LedgerData) => T[]): T[][] =>
    parts.map((l, s) =>
      pick(l).map((x) => {
        x.flowId = x.flowId * n + s
        return x
      }),
    )
  const allResets = renumber((l) => l.resets)
  const resetCount = allResets.reduce((k, r) => k + r.length, 0)
  let longestSurvived: LedgerData['longestSurvived'] = null
  for (const l of parts) {
    const c = l.longestSurvived
    if (c === null) continue
    // The first strictly longer one, as one ledger keeps it.
    if (longestSurvived === null || c.gap > longestSurvived.gap || (c.gap === longestSurvived.gap && c.next.ref.frame < longestSurvived.next.ref.frame)) longestSurvived = c
  }
  return {
    resets: merge(allResets, (r) => r.ref.frame, MAX_RESETS),
    stalls: merge(renumber((l) => l.stalls), (s) => s.retransmissions[STALL_RETRANSMISSIONS - 1].ref.frame, MAX_RESETS),
    connections: merge(renumber((l) => l.connections), (c) => c.syn.ref.frame),
    arps: merge(parts.map((l) => l.arps), (a) => a.ref.frame),
    vipOwnerChanges: merge(renumber((l) => l.vipOwnerChanges), (o) => o.ref.frame),
    longestSurvived,
    eventsDropped: parts.reduce((k, l) => k + l.eventsDropped, 0) + Math.max(0, resetCount - MAX_RESETS),
  }
}
