/**
 * Differential check of the decoder against tshark, frame by frame. For each frame both sides are
 * turned into per-field value lists in header order (tshark prints one comma-separated value per
 * header of that protocol: tunnel outer, inner, the header quoted by an ICMP error …), and the
 * decoder's list must match tshark's from the start. Values the decoder does not keep for a
 * header (e.g. the TTL of an ICMP-quoted header) are skipped, never invented.
 */
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {readCapture} from '../../src/capture/reader.js'
import type {CaptureRecord} from '../../src/capture/record.js'
import {decodeRecord} from '../../src/decode/decode.js'
import {ipv4ToString, ipv6ToString, parseIPv6} from '../../src/decode/format.js'
import {Link, Packet, Stop} from '../../src/decode/packet.js'

export const TSHARK_FIELDS = [
  'frame.number',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.seq',
  'tcp.ack_raw',
  'tcp.flags',
  'tcp.len',
  'tcp.window_size_value',
  'udp.srcport',
  'udp.dstport',
  'ip.ttl',
  'ip.id',
  'vlan.id',
  'ieee8021ad.id',
  'arp.opcode',
] as const
type Field = Exclude<(typeof TSHARK_FIELDS)[number], 'frame.number'>
const COMPARED: readonly Field[] = TSHARK_FIELDS.slice(1) as Field[]

export {hasTshark as haveTshark} from '../helpers/cli.js'

/**
 * tshark output as rows of per-field value lists. Reassembly is switched off so a fragment's
 * transport header is shown on the frame that carries it, as our decoder does.
 */
const execFileP = promisify(execFile)

export async function tsharkRows(file: string): Promise<Map<number, Map<Field, string[]>>> {
  // tcp.seq is made absolute so the sequence number quoted in an ICMP error (which tshark shows
  // as tcp.seq but not as tcp.seq_raw) can be compared too.
  const args = ['-r', file, '-n', '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.relative_sequence_numbers:FALSE', '-T', 'fields', '-E', 'separator=/t']
  for (const f of TSHARK_FIELDS) args.push('-e', f)
  let out: string
  try {
    out = (await execFileP('tshark', args, {encoding: 'utf8', maxBuffer: 1 << 30})).stdout
  } catch (e) {
    // tshark exits non-zero on damaged files but still prints the frames before the damage.
    out = String((e as {stdout?: string}).stdout ?? '')
  }
  const rows = new Map<number, Map<Field, string[]>>()
  for (const line of out.split('\n')) {
    if (line === '') continue
    const cols = line.split('\t')
    const m = new Map<Field, string[]>()
    COMPARED.forEach((f, i) => {
      const v = cols[i + 1] ?? ''
      m.set(f, v === '' ? [] : v.split(','))
    })
    rows.set(Number(cols[0]), m)
  }
  return rows
}

type Val = string | undefined

/**
 * Our decode of one frame as per-field value lists in header order; undefined = not known.
 * tshark files 802.1ad S-tags (TPID 0x88a8) under ieee8021ad.id and the others under vlan.id, so
 * the TPIDs are read here (test-side) to route the decoder's VIDs to the right list.
 */
function ourLists(p: Packet, frameStart: number): Map<Field, Val[]> {
  const m = new Map<Field, Val[]>(COMPARED.map((f) => [f, []]))
  const push = (f: Field, v: Val) => m.get(f)!.push(v)
  const num = (n: number): Val => String(n)

  let tpidAt = p.link === Link.Ethernet ? frameStart + 12 : p.link === Link.Sll ? frameStart + 14 : frameStart
  for (let i = 0; i < p.vlanCount; i++) {
    const tpid = (p.data[tpidAt] << 8) | p.data[tpidAt + 1]
    const vid = i === 0 ? num(p.vlanOuter) : i === 1 ? num(p.vlanInner) : undefined
    push(tpid === 0x88a8 ? 'ieee8021ad.id' : 'vlan.id', vid)
    tpidAt += 4
  }
  if (p.arpOp !== 0) push('arp.opcode', num(p.arpOp))

  const v4 = (src: number, dst: number, ttl: Val, id: Val) => {
    push('ip.src', ipv4ToString(src))
    push('ip.dst', ipv4ToString(dst))
    push('ip.ttl', ttl)
    push('ip.id', id)
  }
  const v6 = (src: Uint32Array, dst: Uint32Array) => {
    push('ipv6.src', ipv6ToString(src))
    push('ipv6.dst', ipv6ToString(dst))
  }
  if (p.tunnelVersion === 4) v4(p.tunnelV4Src, p.tunnelV4Dst, num(p.tunnelTtl), num(p.tunnelIpId))
  if (p.tunnelVersion === 6) v6(p.tunnelV6Src, p.tunnelV6Dst)
  if (p.ipVersion === 4) v4(p.v4Src, p.v4Dst, num(p.ttl), num(p.ipId))
  if (p.ipVersion === 6) v6(p.v6Src, p.v6Dst)

  if (p.ipVersion !== 0 && p.proto === 6 && p.tcpHdrLen > 0) {
    push('tcp.srcport', num(p.sport))
    push('tcp.dstport', num(p.dport))
    push('tcp.seq_raw', num(p.seq))
    push('tcp.seq', num(p.seq))
    push('tcp.ack_raw', num(p.ack))
    push('tcp.flags', num(p.tcpFlags))
    push('tcp.window_size_value', num(p.window))
    // tshark gives no tcp.len for an IP fragment (the segment length is unknown there).
    push('tcp.len', p.payloadOff >= 0 && !p.fragment ? num(p.payloadLen) : undefined)
  }
  if (p.ipVersion !== 0 && p.proto === 17 && p.l4Off >= 0 && p.stop !== Stop.Truncated) {
    push('udp.srcport', num(p.sport))
    push('udp.dstport', num(p.dport))
  }
  if (p.icmpInnerProto !== -1) {
    if (p.proto === 1) v4(p.icmpInnerV4Src, p.icmpInnerV4Dst, undefined, undefined)
    else v6(p.icmpInnerV6Src, p.icmpInnerV6Dst)
    if (p.icmpInnerSport !== -1) {
      const pre = p.icmpInnerProto === 6 ? 'tcp' : p.icmpInnerProto === 17 ? 'udp' : ''
      if (pre !== '') {
        push(`${pre}.srcport` as Field, num(p.icmpInnerSport))
        push(`${pre}.dstport` as Field, num(p.icmpInnerDport))
      }
      if (pre === 'tcp' && p.icmpInnerSeq !== -1) push('tcp.seq', num(p.icmpInnerSeq))
    }
  }
  return m
}

/** Normalise a tshark value to our text form (hex flags/ids → decimal, IPv6 via words). */
function norm(f: Field, v: string): string {
  if (f === 'ip.id') return String(Number(v))
  // tshark's tcp.flags has 12 bits (3 reserved + AE); Packet.tcpFlags keeps the classic 8.
  if (f === 'tcp.flags') return String(Number(v) & 0xff)
  if (f === 'ipv6.src' || f === 'ipv6.dst') {
    try {
      return ipv6ToString(parseIPv6(v))
    } catch {
      return v
    }
  }
  return v
}

export interface FieldStats {
  compared: number
  agree: number
}

export interface DiffResult {
  file: string
  frames: number
  /** tshark's frame count differs from the records the reader delivered (file then not compared). */
  frameCountMismatch: boolean
  framesTshark: number
  framesDelivered: number
  fields: Record<string, FieldStats>
  /** Frames where tshark shows more headers of a protocol than we decode (GRE, VXLAN, …). */
  tsharkDeeper: number
  /** Frames where every compared value agreed. */
  framesAgree: number
  /**
   * Frames where we report values tshark does not show, on a frame we flagged (pkt.stop !== Ok):
   * e.g. the addresses of an IPv4 header whose total length is bogus. Not counted as agreement.
   */
  oursMoreFlagged: number
  flaggedSamples: string[]
  /** Frames where IPv6 text differed although the address was equal (formatting only). */
  v6FormatDiffs: number
  mismatches: string[]
  deeperSamples: string[]
}

/**
 * Fields whose list length says how many headers of a protocol tshark decoded. (A header quoted
 * by an ICMP error is decoded only partly by us, so its other fields don't count as depth.)
 */
const STRUCTURAL: ReadonlySet<Field> = new Set<Field>(['ip.src', 'ipv6.src', 'tcp.srcport', 'udp.srcport', 'vlan.id', 'ieee8021ad.id', 'arp.opcode'])

export async function diffFile(file: string, maxMismatchSamples = 20): Promise<DiffResult> {
  const rows = await tsharkRows(file)
  const res: DiffResult = {
    file,
    frames: 0,
    frameCountMismatch: false,
    framesTshark: 0,
    framesDelivered: 0,
    fields: Object.fromEntries(COMPARED.map((f) => [f, {compared: 0, agree: 0}])),
    tsharkDeeper: 0,
    oursMoreFlagged: 0,
    flaggedSamples: [],
    framesAgree: 0,
    v6FormatDiffs: 0,
    mismatches: [],
    deeperSamples: [],
  }
  const pkt = new Packet()
  let delivered = 0
  const onRecord = (rec: CaptureRecord) => {
    delivered++
    const row = rows.get(rec.frame)
    if (row === undefined) return
    decodeRecord(rec, pkt)
    res.frames++
    const ours = ourLists(pkt, rec.offset)
    let frameOk = true
    let deeper = false
    let flaggedExtra = false
    for (const f of COMPARED) {
      const theirs = row.get(f)!
      const mine = ours.get(f)!
      const st = res.fields[f]
      for (let i = 0; i < mine.length; i++) {
        const v = mine[i]
        if (v === undefined) continue
        if (i >= theirs.length && pkt.stop !== Stop.Ok) {
          flaggedExtra = true
          if (res.flaggedSamples.length < maxMismatchSamples) res.flaggedSamples.push(`frame ${rec.frame} ${f}[${i}]: ours ${v}, tshark none (stop=${pkt.stop})`)
          continue
        }
        st.compared++
        const t = i < theirs.length ? norm(f, theirs[i]) : '<none>'
        if (t === v) {
          st.agree++
          if ((f === 'ipv6.src' || f === 'ipv6.dst') && theirs[i] !== v) res.v6FormatDiffs++
        } else {
          frameOk = false
          if (res.mismatches.length < maxMismatchSamples) {
            res.mismatches.push(`frame ${rec.frame} ${f}[${i}]: ours ${v} tshark ${t} (stop=${pkt.stop} proto=${pkt.proto})`)
          }
        }
      }
      if (theirs.length > mine.length && STRUCTURAL.has(f)) {
        deeper = true
        if (res.deeperSamples.length < maxMismatchSamples) res.deeperSamples.push(`frame ${rec.frame} ${f}: ours [${mine.join(',')}] tshark [${theirs.join(',')}] (proto=${pkt.proto})`)
      }
    }
    if (deeper) res.tsharkDeeper++
    if (flaggedExtra) res.oursMoreFlagged++
    if (frameOk && !flaggedExtra) res.framesAgree++
  }
  try {
    await readCapture(file, onRecord)
  } catch {
    // A file the reader rejects outright has no frames to compare.
  }
  res.frameCountMismatch = delivered !== rows.size
  if (res.frameCountMismatch) {
    // Frame numbers no longer line up (tshark 4.0 counts pcapng custom blocks as frames, or
    // stops at a block it rejects): per-frame comparison would be noise, so count nothing.
    for (const s of Object.values(res.fields)) s.compared = s.agree = 0
    res.frames = res.framesAgree = res.tsharkDeeper = res.oursMoreFlagged = 0
    res.mismatches = []
  }
  res.framesTshark = rows.size
  res.framesDelivered = delivered
  return res
}
