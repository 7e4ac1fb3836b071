/**
 * Builds the captures of a synthetic LVS incident inside the test: a director (every client→VIP frame
 * inbound and, when forwarded, outbound with TTL−1 and the real server's MAC), a real server (the
 * forwarded frames after a small transit, replies from the VIP, its own clock: offset + drift), and
 * optionally the client. Each client packet is given a fate, so the test knows the truth.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {LINKTYPE} from '../../../src/decode/linktypes.js'
import {buildPcap} from '../../helpers/capture-writer.js'
import {TCP, concat, ethernet, ipv4, ipv6, sll2, tcp, tcpOpt} from '../../helpers/frames.js'

export type TruthFate = 'delivered' | 'lost' | 'not-forwarded' | 'only-rs'

export interface ScenarioOpts {
  flows?: number
  perFlow?: number
  /** Seconds between a flow's packets, and between flows' starts. */
  spacing?: number
  rsOffset?: number
  rsDriftPpm?: number
  clientOffset?: number
  ipv6?: boolean
  /** NAT: the director rewrites the destination to the real server's address and port. */
  nat?: boolean
  directorLink?: 'ether' | 'sll2'
  rsLink?: 'ether' | 'sll2'
  /** Fate by global packet index (default delivered). */
  fates?: Map<number, TruthFate>
  /** Packet indices whose data is merged with the next packet's at the real server (GRO). */
  gro?: Set<number>
  /** Packet indices forwarded as one frame but split in two at the real server (TSO downstream). */
  split?: Set<number>
  /** Write a client capture; replies with these indices never reach it. */
  client?: boolean
  replyLost?: Set<number>
  /** Omit the TCP timestamp option (IPv6: identical retransmissions then share a fingerprint). */
  noTimestamps?: boolean
  /** Packet indices the client sends again (same bytes, new IP ID on IPv4) 0.2 s later. */
  retransmit?: Set<number>
}

export interface Frame {
  t: number
  data: Uint8Array
  /** Set after sorting: 1-based frame number in its file. */
  no: number
}

export interface Truth {
  counts: Record<TruthFate, number>
  /** Per client packet: the director frame that proves its fate (outbound if any, else inbound). */
  directorFrame: Frame[]
  rsFrame: (Frame | null)[]
  fate: TruthFate[]
  flowOf: number[]
  replies: number
  repliesLost: number
}

export interface Scenario {
  dir: string
  director: string
  rs: string
  client: string | null
  truth: Truth
  clientEndpoint(flow: number): string
}

const T0 = 1_700_000_000
const DIR_MAC = '02:00:00:00:00:d1'
const RS_MAC = '02:00:00:00:00:b1'
const ROUTER_MAC = '02:00:00:00:00:01'
const CLIENT_MAC = '02:00:00:00:00:0c'

export function buildScenario(o: ScenarioOpts = {}): Scenario {
  const flows = o.flows ?? 4
  const perFlow = o.perFlow ?? 20
  const spacing = o.spacing ?? 0.01
  const rsOffset = o.rsOffset ?? 0
  const drift = (o.rsDriftPpm ?? 0) * 1e-6
  const v6 = o.ipv6 === true
  const vip = v6 ? '2001:db8::100' : '10.1.0.100'
  const rsIp = v6 ? '2001:db8::11' : '10.1.0.11'
  const rsPort = o.nat === true ? 8306 : 3306
  const fates = o.fates ?? new Map<number, TruthFate>()
  const dirFrames: Frame[] = []
  const rsFrames: Frame[] = []
  const cliFrames: Frame[] = []
  const rsClock = (t: number): number => t * (1 + drift) + rsOffset
  const cliClock = (t: number): number => t + (o.clientOffset ?? 0)
  const truth: Truth = {
    counts: {delivered: 0, lost: 0, 'not-forwarded': 0, 'only-rs': 0},
    directorFrame: [],
    rsFrame: [],
    fate: [],
    flowOf: [],
    replies: 0,
    repliesLost: 0,
  }
  const clientIp = (f: number): string => (v6 ? `2001:db8:1::${(f + 1).toString(16)}` : `10.9.${f >> 8}.${(f & 255) + 1}`)
  const sport = (f: number): number => 40000 + f

  const ip = (src: string, dst: string, ttl: number, id: number, payload: Uint8Array): Uint8Array =>
    v6 ? ipv6({src, dst, proto: 6, hopLimit: ttl}, payload) : ipv4({src, dst, proto: 6, ttl, id, df: true}, payload)
  const l2 = (link: 'ether' | 'sll2', src: string, dst: string, outgoing: boolean, l3: Uint8Array): Uint8Array => {
    const type = v6 ? 0x86dd : 0x0800
    return link === 'ether' ? ethernet({src, dst, type}, l3) : sll2({proto: type, pktType: outgoing ? 4 : 0, addr: src}, l3)
  }
  const dirLink = o.directorLink ?? 'ether'
  const rsLink = o.rsLink ?? 'ether'

  let g = 0
  for (let f = 0; f < flows; f++) {
    const cseq = 1000 + f * 100_000
    const sseq = 5000 + f * 100_000
    let seq = cseq
    let pendingGro: {seq: number; data: Uint8Array; id: number; t: number} | null = null
    for (let i = 0; i < perFlow; i++, g++) {
      const t = 1 + f * 0.0013 + i * spacing
      const syn = i === 0
      const data = syn ? new Uint8Array(0) : payload(f, i, 60 + ((i * 37 + f * 11) % 400))
      const flags = syn ? TCP.SYN : TCP.ACK | TCP.PSH
      const id = (f * 1000 + i * 7 + 1) & 0xffff
      const opts = o.noTimestamps === true ? [] : [...tcpOpt.nop(), ...tcpOpt.nop(), ...tcpOpt.ts(100_000 + g, syn ? 0 : 200_000 + g)]
      const seg = (s: number, d: Uint8Array, dport: number): Uint8Array =>
        tcp({sport: sport(f), dport, seq: s, ack: syn ? 0 : sseq + i, flags, options: opts}, d)
      const fate = fates.get(g) ?? 'delivered'
      truth.fate.push(fate)
      truth.flowOf.push(f)
      truth.counts[fate]++
      const sends = o.retransmit?.has(g) === true ? [0, 0.2] : [0]
      for (const dt of sends) {
        const tt = t + dt
        const ipId = dt === 0 ? id : (id + 0x4000) & 0xffff
        const inbound = l2(dirLink, ROUTER_MAC, DIR_MAC, false, ip(clientIp(f), vip, 63, ipId, seg(seq, data, 3306)))
        if (o.client === true) cliFrames.push({t: cliClock(tt - 0.0003), data: ethernet({src: CLIENT_MAC, dst: ROUTER_MAC, type: v6 ? 0x86dd : 0x0800}, ip(clientIp(f), vip, 64, ipId, seg(seq, data, 3306))), no: 0})
        let dFrame: Frame | null = null
        if (fate !== 'only-rs') {
          dFrame = {t: tt, data: inbound, no: 0}
          dirFrames.push(dFrame)
        }
        const dst = o.nat === true ? rsIp : vip
        const dport = o.nat === true ? rsPort : 3306
        if (fate === 'delivered' || fate === 'lost') {
          dFrame = {t: tt + 0.00001, data: l2(dirLink, DIR_MAC, RS_MAC, true, ip(clientIp(f), dst, 62, ipId, seg(seq, data, dport))), no: 0}
          dirFrames.push(dFrame)
        }
        if (dt === 0) truth.directorFrame.push(dFrame as Frame)
        let rsF: Frame | null = null
        if (fate === 'delivered' || fate === 'only-rs') {
          const tr = tt + 0.00001 + 0.00006 + ((g * 7919) % 80) * 1e-6
          const mk = (s: number, d: Uint8Array, pid: number): Frame => ({
            t: rsClock(tr),
            data: l2(rsLink, DIR_MAC, RS_MAC, false, ip(clientIp(f), dst, 62, pid, seg(s, d, dport))),
            no: 0,
          })
          if (o.gro?.has(g) === true) pendingGro = {seq, data, id: ipId, t: tr}
          else if (pendingGro !== null) {
            rsF = mk(pendingGro.seq, concat(pendingGro.data, data), pendingGro.id)
            rsFrames.push(rsF)
            pendingGro = null
          } else if (o.split?.has(g) === true) {
            const half = data.length >> 1
            rsF = mk(seq, data.subarray(0, half), ipId)
            rsFrames.push(rsF, mk(seq + half, data.subarray(half), (ipId + 1) & 0xffff))
          } else {
            rsF = mk(seq, data, ipId)
            rsFrames.push(rsF)
          }
          // The real server's reply from the VIP (its own MAC), which also reaches the client.
          if (dt === 0) {
            const rep = ip(dst, clientIp(f), 64, (g * 13) & 0xffff, tcp({sport: dport, dport: sport(f), seq: sseq + i, ack: seq + data.length + (syn ? 1 : 0), flags: syn ? TCP.SYN | TCP.ACK : TCP.ACK, options: opts}))
            rsFrames.push({t: rsClock(tr + 0.0001), data: l2(rsLink, RS_MAC, '02:00:00:00:00:02', true, rep), no: 0})
            truth.replies++
            if (o.client === true && o.replyLost?.has(g) !== true) {
              cliFrames.push({t: cliClock(tr + 0.0003), data: ethernet({src: ROUTER_MAC, dst: CLIENT_MAC, type: v6 ? 0x86dd : 0x0800}, rep), no: 0})
            } else if (o.client === true) truth.repliesLost++
          }
        }
        if (dt === 0) truth.rsFrame.push(rsF)
      }
      seq += syn ? 1 : data.length
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'lvscope-corr-'))
  made.push(dir)
  const write = (name: string, frames: Frame[], link: 'ether' | 'sll2'): string => {
    frames.sort((a, b) => a.t - b.t)
    frames.forEach((fr, i) => (fr.no = i + 1))
    const recs = frames.map((fr) => {
      // Whole and fractional seconds apart, so the file keeps exact nanoseconds.
      const whole = Math.floor(fr.t)
      let ns = Math.round((fr.t - whole) * 1e9)
      let sec = T0 + whole
      if (ns >= 1e9) {
        ns -= 1e9
        sec++
      }
      return {sec, frac: ns, data: fr.data}
    })
    const p = join(dir, name)
    writeFileSync(p, buildPcap({nano: true, linktype: link === 'ether' ? LINKTYPE.ETHERNET : LINKTYPE.LINUX_SLL2}, recs))
    return p
  }
  const director = write('director.pcap', dirFrames, dirLink)
  const rs = write('rs.pcap', rsFrames, rsLink)
  const client = o.client === true ? write('client.pcap', cliFrames, 'ether') : null
  return {dir, director, rs, client, truth, clientEndpoint: (f) => (v6 ? `[${clientIp(f)}]:${sport(f)}` : `${clientIp(f)}:${sport(f)}`)}
}

function payload(f: number, i: number, n: number): Uint8Array {
  const b = new Uint8Array(n)
  let x = (f * 2654435761 + i * 40503 + 1) >>> 0
  for (let k = 0; k < n; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    b[k] = 0x20 + ((x >>> 16) % 95)
  }
  return b
}

const made: string[] = []

/** Remove every directory buildScenario wrote (call from afterAll). */
export function cleanupScenarios(): void {
  for (const d of made.splice(0)) rmSync(d, {recursive: true, force: true})
}

export {T0}
