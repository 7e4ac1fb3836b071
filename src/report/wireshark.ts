/**
 * Wireshark display filters for a finding: one `frame.number in {…}` per capture for its evidence frames, and
 * one for its flow (both directions; a DR copy shares its original's 4-tuple, so the copies show too).
 */
import type {EvidenceFrame, Finding} from './report.js'

export interface WiresharkFilters {
  /** The flow's frames in any capture; null for a finding of the whole service (a failover). */
  flow: string | null
  /** Per capture, in order of first mention: the finding's evidence frames. */
  frames: {file: string; filter: string}[]
}

function endpoint(s: string): {addr: string; port: string; v6: boolean} | null {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(s) ?? /^([0-9.]+):(\d+)$/.exec(s)
  return m ? {addr: m[1], port: m[2], v6: s.startsWith('[')} : null
}

export function flowFilter(flow: Finding['flow']): string | null {
  if (!flow) return null
  const c = endpoint(flow.client)
  const s = endpoint(flow.service)
  if (!c || !s) return null
  const ip = c.v6 ? 'ipv6' : 'ip'
  const one = (a: typeof c, b: typeof c): string => `(${ip}.src == ${a.addr} && tcp.srcport == ${a.port} && ${ip}.dst == ${b.addr} && tcp.dstport == ${b.port})`
  return `${one(c, s)} || ${one(s, c)}`
}

export function wiresharkFilters(f: {flow: Finding['flow']; evidence: EvidenceFrame[]}): WiresharkFilters {
  const byFile = new Map<string, Set<number>>()
  for (const ev of f.evidence) {
    let s = byFile.get(ev.file)
    if (!s) byFile.set(ev.file, (s = new Set()))
    s.add(ev.frame)
  }
  return {
    flow: flowFilter(f.flow),
    frames: [...byFile].map(([file, s]) => ({file, filter: `frame.number in {${[...s].sort((a, b) => a - b).join(', ')}}`})),
  }
}
