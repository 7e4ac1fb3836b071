// Each committed sample's expected.json (written by samples/lab/record.sh from what the lab did and
// counted) is checked against its own captures, read with the project's reader and decoder: every
// file exists in the stated format and link type, every named frame is there with the stated MACs,
// endpoints and flags, epochs equal the frame time minus the capture's clock offset, the DR-copy
// counts from nft equal the outbound copies in the director captures, and sizes stay small.
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {hasTshark, tshark} from '../helpers/cli.js'
import type {CaptureRecord} from '../../src/capture/record.js'
import {readCapture} from '../../src/capture/reader.js'
import {decodeRecord} from '../../src/decode/decode.js'
import {dstAddrString, endpointString, macToString, parseIPv4, srcAddrString} from '../../src/decode/format.js'
import {linktypeName} from '../../src/decode/linktypes.js'
import {ETHERTYPE_ARP, IPPROTO_TCP, Packet, Stop} from '../../src/decode/packet.js'

const SAMPLES = join(import.meta.dirname, '..', '..', 'samples')
const MAX_SAMPLE_BYTES = 500 * 1024
const MAX_FOLDER_BYTES = 15 * 1024 * 1024

const KINDS = ['reset', 'stall', 'reschedule', 'failover']
const SENDERS = ['director', 'real-server', 'client']
const CAUSES = ['ipvs-idle-timeout', 'ipvs-fin-timeout', 'failover-unsynced', 'stale-arp', 'persistence-expired',
  'real-server-removed', 'real-server-abort', 'real-server-no-socket', 'client-abort', 'genuine-loss', 'vip-moved']

interface FrameRef {
  file: string
  frame: number
  srcMac: string | null
  dstMac: string | null
  src: string
  dst: string
  flags: string
}
interface Expected {
  schema: string
  name: string
  story: string
  director: {implementation: string; kernel: string}
  captures: {file: string; host: string; role: string; format: string; linktype: string; clockOffsetSeconds: number}[]
  topology: {
    vip: string
    services: string[]
    client: {ip: string; mac: string}
    directors: {name: string; mac: string; ips: string[]}[]
    realServers: {name: string; mac: string; ip: string}[]
  }
  timeouts: {tcp: number; tcpfin: number; udp: number; persistence: number | null; expireNodestConn: number; sync: boolean}
  analyzeFlags: string[]
  drCopies: Record<string, number>
  genuineRetransmissions: number
  clientPackets: {forwarded: number; notForwarded: number; droppedOnPath: number}
  events: {kind: string; epoch: number; flow: {client: string; service: string} | null; sender: string; cause: string;
    frames: FrameRef[]; note: string}[]
}

/** What a frame looked like, in the vocabulary of expected.json (flags in the order S F R P A U E C). */
interface Seen {
  time: number
  srcMac: string | null
  dstMac: string | null
  src: string
  dst: string
  flags: string
  outboundFrom: string | null
}

function flagsStr(f: number): string {
  let s = ''
  for (const [bit, ch] of [[2, 'S'], [1, 'F'], [4, 'R'], [8, 'P'], [16, 'A'], [32, 'U'], [64, 'E'], [128, 'C']] as const) {
    if (f & bit) s += ch
  }
  return s
}

interface CaptureScan {
  format: string
  linktypes: string[]
  warnings: number
  packets: number
  frames: Map<number, Seen>
  /** Client->VIP TCP frames leaving each director MAC (DR copies), by MAC. */
  outbound: Map<string, number>
}

async function scan(path: string, wanted: Set<number>, exp: Expected): Promise<CaptureScan> {
  const pkt = new Packet()
  const frames = new Map<number, Seen>()
  const outbound = new Map<string, number>()
  const vip = parseIPv4(exp.topology.vip)
  const client = parseIPv4(exp.topology.client.ip)
  const dirMacs = new Set(exp.topology.directors.map((d) => d.mac))
  const summary = await readCapture(path, (rec: CaptureRecord) => {
    decodeRecord(rec, pkt)
    const srcMac = pkt.macSrcOff >= 0 ? macToString(pkt.data, pkt.macSrcOff) : null
    const dstMac = pkt.macDstOff >= 0 ? macToString(pkt.data, pkt.macDstOff) : null
    const isTcp = pkt.stop === Stop.Ok && pkt.ipVersion === 4 && pkt.proto === IPPROTO_TCP
    // A DR copy: client->VIP, source MAC a director's, and (cooked captures) marked outgoing.
    if (isTcp && pkt.v4Src === client && pkt.v4Dst === vip && srcMac !== null && dirMacs.has(srcMac) &&
        (pkt.sllPktType < 0 || pkt.sllPktType === 4)) {
      outbound.set(srcMac, (outbound.get(srcMac) ?? 0) + 1)
    }
    if (!wanted.has(rec.frame)) return
    const arp = pkt.ethertype === ETHERTYPE_ARP
    frames.set(rec.frame, {
      time: rec.tsSec + rec.tsNsec / 1e9,
      srcMac,
      dstMac,
      src: arp ? srcAddrString(pkt) : endpointString(srcAddrString(pkt), pkt.sport),
      dst: arp ? dstAddrString(pkt) : endpointString(dstAddrString(pkt), pkt.dport),
      flags: isTcp ? flagsStr(pkt.tcpFlags) : '',
      outboundFrom: null,
    })
  })
  return {format: summary.format, linktypes: summary.linktypes.map(linktypeName), warnings: summary.warnings.length,
    packets: summary.packets, frames, outbound}
}

function dirSize(dir: string): number {
  let n = 0
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    n += e.isDirectory() ? dirSize(p) : statSync(p).size
  }
  return n
}

const sampleDirs = existsSync(SAMPLES)
  ? readdirSync(SAMPLES).filter((d) => existsSync(join(SAMPLES, d, 'expected.json'))).sort()
  : []

describe('samples folder', () => {
  it('holds recorded samples', () => {
    expect(sampleDirs.length).toBeGreaterThan(0)
  })
  it(`stays under ${MAX_FOLDER_BYTES} bytes`, () => {
    expect(dirSize(SAMPLES)).toBeLessThan(MAX_FOLDER_BYTES)
  })
})

describe.each(sampleDirs)('sample %s', (name) => {
  const dir = join(SAMPLES, name)
  const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected

  it('is small and documented', () => {
    expect(dirSize(dir)).toBeLessThan(MAX_SAMPLE_BYTES)
    expect(readFileSync(join(dir, 'README.md'), 'utf8').trim().length).toBeGreaterThan(0)
    expect(existsSync(join(dir, 'client.txt'))).toBe(true)
  })

  it('follows the lvscope/expected@1 schema and vocabulary', () => {
    expect(exp.schema).toBe('lvscope/expected@1')
    expect(exp.name).toBe(name)
    expect(['ipvs', 'nftables']).toContain(exp.director.implementation)
    expect(exp.director.kernel).toMatch(/^\d+\.\d+/)
    expect(exp.captures.length).toBeGreaterThan(0)
    for (const c of exp.captures) {
      expect(['director', 'real-server', 'client']).toContain(c.role)
      expect(['pcap', 'pcapng']).toContain(c.format)
      expect(Number.isFinite(c.clockOffsetSeconds)).toBe(true)
    }
    expect(exp.analyzeFlags[0]).toBe('--timeouts')
    expect(exp.analyzeFlags[1]).toBe(`${exp.timeouts.tcp},${exp.timeouts.tcpfin},${exp.timeouts.udp}`)
    for (const e of exp.events) {
      expect(KINDS).toContain(e.kind)
      expect(SENDERS).toContain(e.sender)
      expect(CAUSES).toContain(e.cause)
      expect(e.frames.length).toBeGreaterThan(0)
      for (const f of e.frames) expect(exp.captures.map((c) => c.file)).toContain(f.file)
    }
    const fwd = Object.values(exp.drCopies).reduce((a, b) => a + b, 0)
    expect(exp.clientPackets.forwarded).toBe(fwd)
  })

  it('names only frames that are in its captures, as stated', async () => {
    for (const cap of exp.captures) {
      const path = join(dir, cap.file)
      expect(existsSync(path), path).toBe(true)
      const refs = exp.events.flatMap((e) => e.frames.filter((f) => f.file === cap.file).map((f) => ({e, f})))
      const s = await scan(path, new Set(refs.map((r) => r.f.frame)), exp)
      expect(s.warnings, `${cap.file} warnings`).toBe(0)
      expect(s.format).toBe(cap.format)
      expect(s.linktypes).toEqual([cap.linktype])
      // DR copies counted by nft at the director = outbound copies in its capture.
      const host = exp.topology.directors.find((d) => d.name === cap.host)
      if (cap.role === 'director' && host) {
        expect(s.outbound.get(host.mac) ?? 0, `${cap.file} DR copies`).toBe(exp.drCopies[cap.file])
      }
      for (const {e, f} of refs) {
        const seen = s.frames.get(f.frame)
        expect(seen, `${cap.file} frame ${f.frame}`).toBeDefined()
        if (!seen) continue
        expect({srcMac: seen.srcMac, dstMac: seen.dstMac, src: seen.src, dst: seen.dst, flags: seen.flags},
          `${cap.file} frame ${f.frame}`).toEqual({srcMac: f.srcMac, dstMac: f.dstMac, src: f.src, dst: f.dst, flags: f.flags})
        if (f === e.frames[0]) {
          // The event's epoch is its first frame's time on the reference (director) clock.
          expect(Math.abs(seen.time - cap.clockOffsetSeconds - e.epoch), `${cap.file} frame ${f.frame} epoch`)
            .toBeLessThan(1e-6)
        }
      }
    }
  })

  it.runIf(hasTshark())('names frames tshark agrees with (oracle)', () => {
    for (const cap of exp.captures) {
      const refs = exp.events.flatMap((e) => e.frames).filter((f) => f.file === cap.file)
      if (!refs.length) continue
      const fields = ['frame.number', 'eth.src', 'sll.src.eth', 'eth.dst', 'ip.src', 'tcp.srcport', 'ip.dst', 'tcp.dstport',
        'arp.src.proto_ipv4', 'arp.dst.proto_ipv4', 'tcp.flags']
      const out = tshark(['-r', join(dir, cap.file), '-Y', refs.map((f) => `frame.number == ${f.frame}`).join(' || '),
        '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])])
      const rows = new Map(out.split('\n').filter(Boolean).map((l) => {
        const v = l.split('\t')
        return [Number(v[0]), v] as const
      }))
      for (const f of refs) {
        const v = rows.get(f.frame)
        expect(v, `${cap.file} frame ${f.frame} (tshark)`).toBeDefined()
        if (!v) continue
        const arp = v[8] !== ''
        expect({
          srcMac: v[1] || v[2] || null, dstMac: v[3] || null,
          src: arp ? v[8] : `${v[4]}:${v[5]}`, dst: arp ? v[9] : `${v[6]}:${v[7]}`,
          flags: v[10] ? flagsStr(parseInt(v[10], 16)) : '',
        }, `${cap.file} frame ${f.frame} (tshark)`).toEqual({srcMac: f.srcMac, dstMac: f.dstMac, src: f.src, dst: f.dst, flags: f.flags})
      }
    }
  })

  it('tells the client\'s side: a reset shows as the client\'s own error text', () => {
    const text = readFileSync(join(dir, 'client.txt'), 'utf8')
    const broke = /ERROR 2013|server closed the connection unexpectedly|Connection reset by peer/.test(text)
    const clientReset = exp.events.some((e) => e.kind === 'reset')
    // A reset the client never reports is one that met its quit: the story must say so.
    if (clientReset && !broke) expect(exp.story).toMatch(/quit met the director's RST/)
    else expect(broke).toBe(clientReset)
  })
})
