/**
 * Text forms of addresses. These allocate strings, so they are for flows and findings — call them
 * once per flow or finding, never per packet.
 */
import {UsageError} from '../util/errors.js'
import type {Packet} from './packet.js'
import {ETHERTYPE_ARP} from './packet.js'

export function ipv4ToString(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`
}

/**
 * RFC 5952 text: lowercase hex, no leading zeros, the longest run (≥ 2) of zero groups as "::"
 * (the first one on a tie), and IPv4-mapped addresses as ::ffff:a.b.c.d.
 */
export function ipv6ToString(words: Uint32Array): string {
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return `::ffff:${ipv4ToString(words[3])}`
  const g = new Array<number>(8)
  for (let i = 0; i < 4; i++) {
    g[2 * i] = words[i] >>> 16
    g[2 * i + 1] = words[i] & 0xffff
  }
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (i: number): string => g[i].toString(16)
  if (bestStart < 0) return g.map((_, i) => hex(i)).join(':')
  const head: string[] = []
  for (let i = 0; i < bestStart; i++) head.push(hex(i))
  const tail: string[] = []
  for (let i = bestStart + bestLen; i < 8; i++) tail.push(hex(i))
  return `${head.join(':')}::${tail.join(':')}`
}

export function macToString(data: Uint8Array, off: number): string {
  let s = ''
  for (let i = 0; i < 6; i++) {
    if (i > 0) s += ':'
    s += data[off + i].toString(16).padStart(2, '0')
  }
  return s
}

/** Source address of the (innermost) IP header; the ARP sender for ARP; '' when there is none. */
export function srcAddrString(pkt: Packet): string {
  if (pkt.ipVersion === 4) return ipv4ToString(pkt.v4Src)
  if (pkt.ipVersion === 6) return ipv6ToString(pkt.v6Src)
  if (pkt.ethertype === ETHERTYPE_ARP && pkt.arpSenderMacOff >= 0) return ipv4ToString(pkt.arpSenderIp)
  return ''
}

/** Destination address of the (innermost) IP header; the ARP target for ARP; '' when there is none. */
export function dstAddrString(pkt: Packet): string {
  if (pkt.ipVersion === 4) return ipv4ToString(pkt.v4Dst)
  if (pkt.ipVersion === 6) return ipv6ToString(pkt.v6Dst)
  if (pkt.ethertype === ETHERTYPE_ARP && pkt.arpTargetMacOff >= 0) return ipv4ToString(pkt.arpTargetIp)
  return ''
}

/** "1.2.3.4:80", "[::1]:80" (brackets whenever the address contains a colon). */
export function endpointString(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`
}

const V4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** Dotted quad → unsigned 32-bit number. Throws UsageError for anything else. */
export function parseIPv4(s: string): number {
  const m = V4_RE.exec(s.trim())
  if (m === null) throw new UsageError(`not an IPv4 address: "${s}"`)
  let n = 0
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i])
    if (b > 255) throw new UsageError(`not an IPv4 address: "${s}"`)
    n = n * 256 + b
  }
  return n
}

/**
 * IPv6 text (with optional "::" and trailing dotted quad) → four big-endian uint32 words.
 * Throws UsageError for anything else. For flags and tests, not for packets.
 */
export function parseIPv6(s: string, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  const bad = (): never => {
    throw new UsageError(`not an IPv6 address: "${s}"`)
  }
  let text = s.trim()
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1)
  const groups: number[] = []
  const parseSide = (side: string, allowV4: boolean): number[] => {
    if (side === '') return []
    const parts = side.split(':')
    const res: number[] = []
    parts.forEach((p, i) => {
      if (allowV4 && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p)
        res.push(v4 >>> 16, v4 & 0xffff)
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        res.push(parseInt(p, 16))
      } else {
        bad()
      }
    })
    return res
  }
  const halves = text.split('::')
  if (halves.length > 2) bad()
  if (halves.length === 2) {
    const head = parseSide(halves[0], false)
    const tail = parseSide(halves[1], true)
    if (head.length + tail.length > 7) bad()
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail)
  } else {
    groups.push(...parseSide(text, true))
    if (groups.length !== 8) bad()
  }
  for (let i = 0; i < 4; i++) out[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0
  return out
}
