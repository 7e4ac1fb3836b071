/** Small address helpers for template keys and config parsing (strings only at flow/config level). */
import {ipv4ToString, ipv6ToString, parseIPv4, parseIPv6} from '../decode/format.js'

export function parseIpv4(s: string): number | undefined {
  try {
    return parseIPv4(s.trim())
  } catch {
    return undefined
  }
}

export const formatIpv4 = ipv4ToString

/** "0A000005" (as /proc prints, host order of ntohl) → "10.0.0.5". */
export function hexToIpv4(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined
  return formatIpv4(Number.parseInt(hex, 16) >>> 0)
}

/** Netmask "255.255.255.0" or prefix length (24) → 32-bit mask. */
export function ipv4Mask(mask: string | number): number | undefined {
  if (typeof mask === 'number') {
    if (!Number.isInteger(mask) || mask < 0 || mask > 32) return undefined
    return mask === 0 ? 0 : (0xffffffff << (32 - mask)) >>> 0
  }
  if (/^\d{1,2}$/.test(mask.trim())) return ipv4Mask(Number(mask.trim()))
  return parseIpv4(mask)
}

/** Expand an IPv6 address to eight 16-bit groups; undefined when malformed. */
export function parseIpv6(s: string): number[] | undefined {
  let w: Uint32Array
  try {
    w = parseIPv6(s.trim().replace(/^\[|\]$/g, ''))
  } catch {
    return undefined
  }
  const g: number[] = []
  for (const x of w) g.push(x >>> 16, x & 0xffff)
  return g
}

/** Eight 16-bit groups as RFC 5952 text, so keys read like ipvsadm's output. */
export function formatIpv6(g: readonly number[]): string {
  const w = new Uint32Array(4)
  for (let i = 0; i < 4; i++) w[i] = ((g[2 * i] << 16) | g[2 * i + 1]) >>> 0
  return ipv6ToString(w)
}

/**
 * The client address as a persistence template sees it: `caddr & netmask` (IPv4), or the first `prefix`
 * bits (IPv6, where the service netmask is a prefix length). Unparseable input is returned unchanged.
 */
export function maskAddress(addr: string, mask: string | number | undefined): string {
  if (mask === undefined) return addr
  const v4 = parseIpv4(addr)
  if (v4 !== undefined) {
    const m = ipv4Mask(mask)
    return m === undefined ? addr : formatIpv4((v4 & m) >>> 0)
  }
  const v6 = parseIpv6(addr)
  const prefix = typeof mask === 'number' ? mask : Number(mask)
  if (!v6 || !Number.isInteger(prefix) || prefix < 0 || prefix > 128) return addr
  const out = v6.map((g, i) => {
    const bits = Math.max(0, Math.min(16, prefix - i * 16))
    return bits === 0 ? 0 : g & ((0xffff << (16 - bits)) & 0xffff)
  })
  return formatIpv6(out)
}

/** "ip:port" or "[v6]:port" → parts; undefined when malformed. */
export function splitAddrPort(s: string): {addr: string; port: number} | undefined {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s)
  if (v6) return {addr: v6[1], port: Number(v6[2])}
  const v4 = /^([^:\s]+):(\d+)$/.exec(s)
  if (v4) return {addr: v4[1], port: Number(v4[2])}
  return undefined
}
