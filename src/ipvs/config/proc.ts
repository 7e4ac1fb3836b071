/** Parsers for /proc/net/ip_vs, /proc/net/ip_vs_conn and /proc/net/ip_vs_conn_sync (hex addresses and ports). */
import {formatIpv6, hexToIpv4, parseIpv6} from '../addr.js'
import type {FwdMethod} from '../state.js'
import {connRow} from './ipvsadm.js'
import {warn, type ConfigFacts, type ConnRowFact, type ServiceFact} from './types.js'

const FORWARD: Readonly<Record<string, FwdMethod>> = {Route: 'DR', Tunnel: 'TUN', Masq: 'NAT', Local: 'LOCAL'}

/** "C0A8010A:0050" or "[2001:db8::1]:0050" → address and port (the port is hex in /proc). */
function hexAddrPort(s: string): {addr: string; port: number} | undefined {
  const v6 = /^\[([^\]]+)\]:([0-9A-Fa-f]{4})$/.exec(s)
  if (v6) return {addr: v6[1], port: Number.parseInt(v6[2], 16)}
  const v4 = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$/.exec(s)
  if (!v4) return undefined
  const addr = hexToIpv4(v4[1])
  return addr === undefined ? undefined : {addr, port: Number.parseInt(v4[2], 16)}
}

/** A /proc/net/ip_vs_conn address: 8 hex digits (IPv4) or the kernel's %pI6 (full, colon-separated). */
function procAddr(s: string): string | undefined {
  const v4 = hexToIpv4(s)
  if (v4 !== undefined) return v4
  const v6 = parseIpv6(s)
  return v6 ? formatIpv6(v6) : undefined
}

/**
 * /proc/net/ip_vs. The "persistent" field is svc->timeout in JIFFIES (seconds × HZ), unlike ipvsadm -Ln:
 * we keep the raw value and convert only when the caller knows HZ.
 */
export function parseProcIpVs(text: string, f: ConfigFacts, hz?: number): void {
  let svc: ServiceFact | undefined
  let sawPersistent = false
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]
    const ln = n + 1
    const s = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line)
    const fwm = s ? undefined : /^FWM\s+([0-9A-Fa-f]{8})\s+(\S+)\s*(.*)$/.exec(line)
    if (s || fwm) {
      let rest: string
      if (s) {
        const ap = hexAddrPort(s[2])
        if (!ap) {
          warn(f, ln, `service address "${s[2]}" is not hex addr:port`)
          svc = undefined
          continue
        }
        svc = {proto: s[1] === 'UDP' ? 'udp' : s[1] === 'SCTP' ? 'sctp' : 'tcp', vip: ap.addr, port: ap.port, scheduler: s[3], dests: [], source: {file: f.file, line: ln}}
        rest = s[4]
      } else {
        const m = fwm as RegExpExecArray
        svc = {proto: 'fwmark', fwmark: Number.parseInt(m[1], 16), scheduler: m[2], dests: [], source: {file: f.file, line: ln}}
        rest = m[3]
      }
      const words = rest.split(/\s+/).filter((w) => w !== '')
      if (words.includes('ops')) svc.onePacket = true
      const pi = words.indexOf('persistent')
      if (pi >= 0 && /^\d+$/.test(words[pi + 1] ?? '')) {
        sawPersistent = true
        svc.persistenceJiffies = Number(words[pi + 1])
        if (hz !== undefined && hz > 0) {
          svc.persistence = svc.persistenceJiffies / hz
          svc.persistenceFrom = 'value'
        }
        const mask = words[pi + 2]
        if (mask !== undefined && /^[0-9A-Fa-f]{8}$/.test(mask)) svc.persistenceMask = hexToIpv4(mask)
        else if (mask !== undefined && /^\d+$/.test(mask)) svc.persistenceMask = mask
      }
      f.services.push(svc)
      continue
    }
    const d = /^\s+->\s+(\S+)\s+(Route|Tunnel|Masq|Local)\s+(-?\d+)\s+(\d+)\s+(\d+)/.exec(line)
    if (d) {
      const ap = hexAddrPort(d[1])
      if (!svc || !ap) {
        warn(f, ln, svc ? `real server "${d[1]}" is not hex addr:port` : 'real server line before any service line')
        continue
      }
      svc.dests.push({addr: ap.addr, port: ap.port, method: FORWARD[d[2]], weight: Number(d[3]), activeConns: Number(d[4]), inactConns: Number(d[5]), source: {file: f.file, line: ln}})
    }
  }
  if (sawPersistent && hz === undefined)
    f.notes.push(`${f.file}: /proc/net/ip_vs "persistent" is in jiffies (seconds × HZ, HZ not in the file); raw value kept in persistenceJiffies — prefer ipvsadm -Ln for seconds`)
}

/** /proc/net/ip_vs_conn, and _sync (extra Origin column LOCAL/SYNC before Expires). */
export function parseProcConn(text: string, f: ConfigFacts): void {
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]
    const w = line.trim().split(/\s+/)
    if (!/^(TCP|UDP|SCTP|IP)$/.test(w[0] ?? '') || w.length < 9) continue
    const ln = n + 1
    const hasOrigin = w[8] === 'LOCAL' || w[8] === 'SYNC'
    const expires = Number(hasOrigin ? w[9] : w[8])
    const c = procAddr(w[1])
    const v = procAddr(w[3])
    const d = procAddr(w[5])
    const ports = [w[2], w[4], w[6]].map((p) => (/^[0-9A-Fa-f]{4}$/.test(p) ? Number.parseInt(p, 16) : NaN))
    if (c === undefined || v === undefined || d === undefined || ports.some(Number.isNaN) || !Number.isFinite(expires)) {
      warn(f, ln, 'unreadable /proc connection row')
      continue
    }
    const proto = w[0] as ConnRowFact['proto']
    f.conns.push(
      connRow(proto, w[7], expires, {addr: c, port: ports[0]}, {addr: v, port: ports[1]}, {addr: d, port: ports[2]}, {file: f.file, line: ln}, hasOrigin ? (w[8] as 'LOCAL' | 'SYNC') : undefined),
    )
  }
}
