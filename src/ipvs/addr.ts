/** Small address helpers for template keys and config parsing (strings only at flow/config level). */

export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim())
  if (!m) return undefined
  const o = [m[1], m[2], m[3], m[4]].map(Number)
  if (o.some((x) => x > 255)) return undefined
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0
}

export function formatIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
}

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
  const text = s.trim().replace(/^\[|\]$/g, '')
  if (!text.includes(':')) return undefined
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const part = (p: string): number[] | undefined => {
    if (p === '') return []
    const out: number[] = []
    for (const g of p.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined
      out.push(Number.parseInt(g, 16))
    }
    return out
  }
  const a = part(halves[0])
  const b = halves.length === 2 ? part(halves[1]) : []
  if (!a || !b) return undefined
  if (halves.length === 1) return a.length === 8 ? a : undefined
  const fill = 8 - a.length - b.length
  if (fill < 1) return undefined
  return [...a, ...new Array<number>(fill).fill(0), ...b]
}

export function formatIpv6(g: readonly number[]): string {
  // Compress the longest run of zero groups (RFC 5952) so keys read like ipvsadm's output.
  let best = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen && j - i > 1) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  const hex = g.map((x) => x.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
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
