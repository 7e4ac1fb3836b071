import type {CaptureRecord} from '../capture/record.js'
import {ipv4ToString} from '../decode/format.js'
import {IPPROTO_TCP, type Packet, Stop} from '../decode/packet.js'
import {TCP_A_ANY_RETRANSMISSION, TCP_ANALYSIS_FLAG_NAMES, tsharkFlags} from '../flow/tcp-analysis.js'
import {FlowTracker} from '../flow/tracker.js'
import {DrPairer, Forwarding, FrameClass, macNumberToString} from './dr-pairs.js'
import {FlowDigest} from './flow-digest.js'

/** Frames whose IP packet is longer than this were merged (GRO) or not yet split (TSO) by the capturing host. */
const ETHERNET_MTU = 1500

export type ArtifactClass = 'dr-copy' | 'span-duplicate' | 'offload'

/** Wireshark flag counts by tshark filter name (retransmission includes fast and spurious, as tshark counts). */
export type FlagCounts = Record<string, number>

export interface ArtifactSummary {
  frames: number
  ipFrames: number
  drCopies: number
  spanDuplicates: number
  /** Frames larger than the MTU (GRO/TSO), which Wireshark analyses as one giant segment. */
  offloadFrames: number
  forwarding: 'DR' | 'TUN' | 'NAT' | 'unknown'
  ttl: 'decremented' | 'equal' | 'mixed' | 'unknown'
  /** VIP:port services the director forwarded to, with forwarded copies each. */
  services: {service: string; copies: number}[]
  directorMacs: string[]
  /** Forwarded copies per real server (MAC in DR, address in NAT/TUN). */
  realServers: {realServer: string; copies: number}[]
  /** Every Wireshark flag as the user sees it on this capture. */
  wireshark: FlagCounts
  /** The same flags with the artifacts removed: what a capture without copies shows. */
  genuine: FlagCounts
  /** Flags explained by each artifact class. */
  byClass: Record<ArtifactClass, FlagCounts>
  genuineRetransmissions: number
  /** Fingerprints of the genuine retransmissions, so captures of one incident count each once. */
  retransmissionKeys: Set<string>
  /** DR pairs by forwarding method (DR, TUN, NAT) and by TTL change: what `forwarding` and `ttl` are judged from. */
  pairs: {byMethod: number[]; ttlEqual: number; ttlDecremented: number}
}

function forwardingOf(byMethod: readonly number[]): ArtifactSummary['forwarding'] {
  const pairs = byMethod[0] + byMethod[1] + byMethod[2]
  if (pairs === 0) return 'unknown'
  return byMethod[Forwarding.TUN] > pairs / 2 ? 'TUN' : byMethod[Forwarding.NAT] > pairs / 2 ? 'NAT' : 'DR'
}

function ttlOf(equal: number, decremented: number): ArtifactSummary['ttl'] {
  if (equal + decremented === 0) return 'unknown'
  return equal === 0 ? 'decremented' : decremented === 0 ? 'equal' : 'mixed'
}

function sumCounts(parts: readonly FlagCounts[]): FlagCounts {
  const out: FlagCounts = {}
  for (const c of parts) for (const k in c) out[k] = (out[k] ?? 0) + c[k]
  return out
}

/** Copies per name over several lists, most first. */
function sumCopies<T extends {copies: number}>(lists: readonly T[][], name: (x: T) => string): [string, number][] {
  const m = new Map<string, number>()
  for (const list of lists) for (const x of list) m.set(name(x), (m.get(name(x)) ?? 0) + x.copies)
  return [...m].sort((a, b) => b[1] - a[1])
}

/**
 * One summary from the summaries of disjoint parts of a capture (flows sharded across workers): every frame,
 * pair and flag was counted in exactly one part, so counts add up and sets unite.
 */
export function mergeArtifactSummaries(parts: readonly ArtifactSummary[]): ArtifactSummary {
  if (parts.length === 1) return parts[0]
  const sum = (f: (p: ArtifactSummary) => number): number => parts.reduce((n, p) => n + f(p), 0)
  const byMethod = [0, 1, 2].map((m) => sum((p) => p.pairs.byMethod[m]))
  const ttlEqual = sum((p) => p.pairs.ttlEqual)
  const ttlDecremented = sum((p) => p.pairs.ttlDecremented)
  const keys = new Set<string>()
  for (const p of parts) for (const k of p.retransmissionKeys) keys.add(k)
  return {
    frames: sum((p) => p.frames),
    ipFrames: sum((p) => p.ipFrames),
    drCopies: sum((p) => p.drCopies),
    spanDuplicates: sum((p) => p.spanDuplicates),
    offloadFrames: sum((p) => p.offloadFrames),
    forwarding: forwardingOf(byMethod),
    ttl: ttlOf(ttlEqual, ttlDecremented),
    services: sumCopies(parts.map((p) => p.services), (x) => x.service).map(([service, copies]) => ({service, copies})),
    directorMacs: [...new Set(parts.flatMap((p) => p.directorMacs))],
    realServers: sumCopies(parts.map((p) => p.realServers), (x) => x.realServer).map(([realServer, copies]) => ({realServer, copies})),
    wireshark: sumCounts(parts.map((p) => p.wireshark)),
    genuine: sumCounts(parts.map((p) => p.genuine)),
    byClass: {
      'dr-copy': sumCounts(parts.map((p) => p.byClass['dr-copy'])),
      'span-duplicate': sumCounts(parts.map((p) => p.byClass['span-duplicate'])),
      offload: sumCounts(parts.map((p) => p.byClass.offload)),
    },
    genuineRetransmissions: sum((p) => p.genuineRetransmissions),
    retransmissionKeys: keys,
    pairs: {byMethod, ttlEqual, ttlDecremented},
  }
}

/** Flag counts by bit position while scanning; named only in the summary. */
function addBits(counts: Float64Array, bits: number): void {
  while (bits !== 0) {
    const low = bits & -bits
    counts[31 - Math.clz32(low)]++
    bits ^= low
  }
}

function named(counts: Float64Array): FlagCounts {
  const c: FlagCounts = {}
  for (const [bit, name] of TCP_ANALYSIS_FLAG_NAMES) c[name] = counts[31 - Math.clz32(bit)]
  return c
}

/** The little a later stage needs of each flow once it is over. */
export interface FlowRecord {
  id: number
  protocol: 'tcp' | 'udp'
  /** Zeek's originator and responder (the SYN's sender and receiver when the handshake was seen). */
  orig: string
  resp: string
  firstEpoch: number
  lastEpoch: number
  state: string
  history: string
  packets: number
  rstOrig: number
  rstResp: number
  finOrig: number
  finResp: number
}

export interface ArtifactScannerOptions {
  /** How far apart (capture seconds) a frame and its forwarded copy may be. Default 1. */
  windowSeconds?: number
  /** Keep a digest of every finished flow in `digest` (default true). */
  keepFlows?: boolean
}

/**
 * One capture's DR artifacts, in one streaming pass. Wireshark's flags are computed twice: on every frame
 * (what the user sees) and on the frames left after removing the director's forwarded copies and mirror
 * duplicates (what is real). The difference, frame by frame, is the artifact; the second view is genuine.
 * Until the first copy or duplicate the two views are the same, so the second one starts there, forked
 * from the first: real-server and client captures, which have no copies, cost one analysis, not two.
 */
export class ArtifactScanner {
  readonly pairer: DrPairer
  /** The finished flows, compactly (null without `keepFlows`). */
  readonly digest: FlowDigest | null
  private readonly all: FlowTracker
  private frames = 0
  private ipFrames = 0
  private offloadFrames = 0
  private readonly wireshark = new Float64Array(32)
  private readonly genuine = new Float64Array(32)
  private readonly drCopyFlags = new Float64Array(32)
  private readonly spanFlags = new Float64Array(32)
  private readonly offloadFlags = new Float64Array(32)
  private readonly services = new Map<number, number>()
  /** MAC ids of the directors that forwarded copies. */
  private readonly directors = new Set<number>()
  private genuineRetrans = 0
  private readonly retransKeys = new Set<string>()
  /** Class of the last observed frame. */
  lastClass: FrameClass = FrameClass.Original
  /** Flow id (-1 for none), flow slot and direction of the last frame, in the all-frames view. */
  lastFlow = -1
  lastSlot = -1
  lastIsOrig = false
  /** Genuine Wireshark flags (tshark-expanded) of the last frame; 0 for copies and duplicates. */
  lastGenuine = 0

  /** True once a copy or duplicate turned up and the copy-free view runs apart. */
  private cleanView = false

  constructor(opts: ArtifactScannerOptions = {}) {
    this.pairer = new DrPairer(opts.windowSeconds ?? 1)
    const keepFlows = opts.keepFlows ?? true
    const digest = keepFlows ? new FlowDigest() : null
    this.digest = digest
    this.all = new FlowTracker({onEvict: digest !== null ? (f) => digest.add(f) : undefined, history: keepFlows})
  }

  observe(rec: CaptureRecord, pkt: Packet): FrameClass {
    this.frames++
    this.lastClass = FrameClass.Original
    this.lastFlow = -1
    this.lastGenuine = 0
    if (pkt.ipVersion === 0) return FrameClass.Original
    this.ipFrames++
    const cls = pkt.stop === Stop.Ok || pkt.stop === Stop.Truncated ? this.pairer.observeRecord(rec, pkt) : FrameClass.Original
    if (cls !== FrameClass.Original && !this.cleanView) {
      this.all.startCleanView()
      this.cleanView = true
    }
    this.lastClass = cls
    if (cls === FrameClass.DrCopy) this.notePair(pkt)

    const oversize = pkt.ipTotalLen > ETHERNET_MTU
    if (oversize) this.offloadFrames++
    this.lastFlow = this.all.observe(rec, pkt, cls === FrameClass.Original)
    this.lastSlot = this.all.slot
    this.lastIsOrig = this.all.isOrig
    const seen = this.all.result.analysed ? tsharkFlags(this.all.result.flags) : 0
    addBits(this.wireshark, seen)
    if (cls !== FrameClass.Original) {
      addBits(cls === FrameClass.DrCopy ? this.drCopyFlags : this.spanFlags, seen)
      return cls
    }
    let real = seen
    if (this.cleanView) real = this.all.cleanResult.analysed ? tsharkFlags(this.all.cleanResult.flags) : 0
    this.lastGenuine = real
    if (oversize) {
      addBits(this.offloadFlags, seen)
      return cls
    }
    // An original frame flagged only because an earlier copy preceded it is an artifact too.
    addBits(this.drCopyFlags, seen & ~real)
    addBits(this.genuine, real)
    if (real & TCP_A_ANY_RETRANSMISSION && pkt.proto === IPPROTO_TCP) {
      this.genuineRetrans++
      // Rare by definition; bounded all the same.
      if (this.retransKeys.size < 1_000_000) this.retransKeys.add(`${this.pairer.fp[0]}:${this.pairer.fp[1]}`)
    }
    return cls
  }

  private notePair(pkt: Packet): void {
    // A number per service (IPv4 × 65536 + port, exact in a double); named once at the end. IPv6 VIPs share
    // one bucket per port here, which is enough to say "these ports are served".
    const key = (pkt.ipVersion === 4 ? pkt.v4Dst : 0) * 65536 + pkt.dport
    const n = this.services.get(key)
    if (n !== undefined) this.services.set(key, n + 1)
    else if (this.services.size < 256) this.services.set(key, 1)
    const d = this.pairer.pairDirectorId
    if (d >= 0) this.directors.add(d)
  }

  /** End of capture: hand out the flows still live. */
  finish(): void {
    this.all.flush()
  }

  summary(): ArtifactSummary {
    const p = this.pairer
    const method = forwardingOf(p.byMethod)
    const rsName = (k: number): string => (method === 'DR' ? macNumberToString(k) : ipv4ToString(k))
    return {
      frames: this.frames,
      ipFrames: this.ipFrames,
      drCopies: p.drCopies,
      spanDuplicates: p.spanDuplicates,
      offloadFrames: this.offloadFrames,
      forwarding: method,
      ttl: ttlOf(p.ttlEqual, p.ttlDecremented),
      services: [...this.services]
        .map(([k, copies]) => ({service: `${ipv4ToString(Math.floor(k / 65536))}:${k % 65536}`, copies}))
        .sort((a, b) => b.copies - a.copies),
      directorMacs: [...this.directors].map((id) => p.macs.name(id)),
      realServers: [...p.perRealServer]
        .filter(([k]) => k >= 0)
        .map(([k, copies]) => ({realServer: rsName(k), copies}))
        .sort((a, b) => b.copies - a.copies),
      wireshark: named(this.wireshark),
      genuine: named(this.genuine),
      byClass: {
        'dr-copy': named(this.drCopyFlags),
        'span-duplicate': named(this.spanFlags),
        offload: named(this.offloadFlags),
      },
      genuineRetransmissions: this.genuineRetrans,
      retransmissionKeys: this.retransKeys,
      pairs: {byMethod: [...p.byMethod], ttlEqual: p.ttlEqual, ttlDecremented: p.ttlDecremented},
    }
  }
}

/** The four flags the JSON names, from tshark-style counts. */
export function headlineFlags(c: FlagCounts): {retransmission: number; duplicateAck: number; outOfOrder: number; keepAlive: number} {
  return {
    retransmission: c.retransmission ?? 0,
    duplicateAck: c.duplicate_ack ?? 0,
    outOfOrder: c.out_of_order ?? 0,
    keepAlive: c.keep_alive ?? 0,
  }
}

