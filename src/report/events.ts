/**
 * The events a ladder draws. Frames come from each finding's evidence, read again by number
 * (src/vantage/evidence-frames.ts), with the director's copy right after a client frame, so every arrow has its
 * lanes, flags and length. What no frame shows — the IPVS entry's state and timer, its expiry, the persistence
 * template — is the IPVS model's, as the diagnosis gave it in `Finding.events`: the report never restates a timer.
 */
import {flagText} from '../diagnose/incident.js'
import {type FrameFacts, readFramesByNumber} from '../vantage/evidence-frames.js'
import type {Finding, Report, TimelineEvent} from './report.js'

/** A DR/TUN copy leaves right after its original: look this many frames ahead. */
const COPY_WINDOW = 4
const TCP_RST = 0x04

export type FramesByCapture = Map<string, Map<number, FrameFacts>>

/** The frames to read: every evidence frame, and the few after each, where a director's copy would be. */
export function framesWanted(r: Report): Map<string, Set<number>> {
  const want = new Map<string, Set<number>>()
  for (const f of r.findings) {
    for (const ev of f.evidence) {
      let s = want.get(ev.file)
      if (!s) want.set(ev.file, (s = new Set()))
      for (let k = 0; k <= COPY_WINDOW; k++) s.add(ev.frame + k)
    }
  }
  return want
}

/** Read the frames and give every finding its drawable events: frames from the captures, the rest from the model. */
export async function addTimelineEvents(r: Report): Promise<Report> {
  const frames: FramesByCapture = new Map()
  for (const [file, nums] of framesWanted(r)) frames.set(file, await readFramesByNumber(file, nums))
  return {...r, findings: r.findings.map((f) => ({...f, events: eventsOf(r, f, frames)}))}
}

/** The model's events: what the director's table held, which no frame shows. */
const MODEL_KINDS = new Set<TimelineEvent['kind']>(['entry-created', 'entry-state', 'entry-expired', 'template-created', 'template-expired', 'real-server-removed', 'real-server-weight-0'])

const micro = (x: number): number => Math.round(x * 1e6) / 1e6
/** A capture's host label: its file name without folder and capture extensions. */
export const basename = (p: string): string => (p.split('/').pop() ?? p).replace(/(\.pcapng|\.pcap|\.cap)?(\.gz)?$/, '')

/**
 * Directors' lane labels by MAC: the name of the director capture taken on it — the first of its captures with
 * the director role that an earlier director has not claimed (a director's MAC shows in the others' captures
 * too, after a failover) — else "director MAC".
 */
export function directorLabels(r: Report): Map<string, string> {
  const role = new Map(r.captures.map((c) => [c.file, c.role]))
  const used = new Set<string>()
  const out = new Map<string, string>()
  for (const d of r.topology.directors) {
    const file = d.captures.find((c) => role.get(c) === 'director' && !used.has(c))
    if (file) used.add(file)
    out.set(d.mac, file ? basename(file) : `director ${d.mac}`)
  }
  return out
}

/** Lane labels: a director by its capture's name (or MAC), a real server by its IP, a client by its IP. */
function hosts(r: Report): {director(mac: string | null): string | null; realServer(mac: string | null): string | null} {
  const dirs = directorLabels(r)
  const rss = new Map(r.topology.realServers.map((s) => [s.mac, s.ip || `real server ${s.mac}`]))
  return {director: (m) => (m === null ? null : (dirs.get(m) ?? null)), realServer: (m) => (m === null ? null : (rss.get(m) ?? null))}
}

export function eventsOf(r: Report, f: Finding, frames: FramesByCapture): TimelineEvent[] {
  const h = hosts(r)
  const vips = new Set(r.topology.vips)
  const offset = new Map(r.captures.map((c) => [c.file, c.clockOffsetSeconds]))
  const role = new Map(r.captures.map((c) => [c.file, c.role]))
  const out: TimelineEvent[] = []
  const seen = new Set<string>()
  const at = (file: string, x: FrameFacts): number => micro(x.epoch - (offset.get(file) ?? 0))
  const push = (e: TimelineEvent): void => {
    const k = `${e.kind} ${e.capture} ${e.frame} ${e.epoch}`
    if (!seen.has(k)) out.push(e), seen.add(k)
  }
  const tcpFields = (x: FrameFacts): Pick<TimelineEvent, 'flags' | 'length'> => ({flags: `[${flagText(x.flags)}]`, length: x.length})

  for (const ev of f.evidence) {
    const x = frames.get(ev.file)?.get(ev.frame)
    if (!x) continue
    const base = {epoch: micro(ev.epoch), capture: ev.file, frame: ev.frame}
    if (!x.tcp) {
      // A gratuitous ARP for a VIP from a director: the failover instant.
      const d = h.director(x.srcMac)
      if (d && vips.has(x.src)) push({kind: 'failover', ...base, from: d})
      continue
    }
    const rst = (x.flags & TCP_RST) !== 0
    if (vips.has(x.dst)) {
      const copyFrom = h.director(x.srcMac)
      if (copyFrom) {
        push({kind: 'forwarded-copy', ...base, from: copyFrom, to: h.realServer(x.dstMac) ?? x.dstMac ?? 'real server', ...tcpFields(x)})
        continue
      }
      const atDirector = role.get(ev.file) === 'director'
      const to = (atDirector ? h.director(x.dstMac) : h.realServer(x.dstMac)) ?? basename(ev.file)
      const copy = atDirector ? copyOf(x, frames.get(ev.file), h) : null
      push({kind: rst ? 'rst' : 'client-packet', ...base, from: x.src, to, ...tcpFields(x), ...(atDirector ? {forwarded: copy !== null} : {})})
      if (copy) push({kind: 'forwarded-copy', epoch: at(ev.file, copy), capture: ev.file, frame: copy.frame, from: to, to: h.realServer(copy.dstMac) ?? copy.dstMac ?? 'real server', ...tcpFields(copy)})
    } else if (vips.has(x.src)) {
      const from = h.director(x.srcMac) ?? h.realServer(x.srcMac) ?? basename(ev.file)
      push({kind: rst ? 'rst' : 'server-packet', ...base, from, to: x.dst, ...tcpFields(x)})
    }
  }
  out.sort((a, b) => a.epoch - b.epoch || (a.frame ?? 0) - (b.frame ?? 0))
  addModelEvents(f, out)
  if (f.kind === 'failover' && !out.some((e) => e.kind === 'failover')) {
    out.push({kind: 'failover', epoch: micro(f.epoch), capture: f.evidence[0]?.file ?? null, frame: f.evidence[0]?.frame ?? null})
  }
  return out.sort((a, b) => a.epoch - b.epoch || (a.frame ?? 0) - (b.frame ?? 0))
}

/** The director's copy of `x`: within the next frames, same source, sequence and IP ID, sent by a director's MAC. */
function copyOf(x: FrameFacts, capture: Map<number, FrameFacts> | undefined, h: ReturnType<typeof hosts>): FrameFacts | null {
  for (let k = 1; k <= COPY_WINDOW; k++) {
    const y = capture?.get(x.frame + k)
    if (y && y.tcp && y.src === x.src && y.sport === x.sport && y.seq === x.seq && y.ipId === x.ipId && y.flags === x.flags && y.srcMac !== x.srcMac && h.director(y.srcMac)) return y
  }
  return null
}

/**
 * The diagnosis's model events, on the lane of the director that held the entry or template: the director the
 * last client frame before the event reached (else the first one the finding shows).
 */
function addModelEvents(f: Finding, out: TimelineEvent[]): void {
  const atDirector = out.filter((e) => e.kind === 'client-packet' && e.forwarded !== undefined)
  for (const e of f.events ?? []) {
    if (!MODEL_KINDS.has(e.kind)) continue
    const before = [...atDirector].reverse().find((c) => c.epoch <= e.epoch) ?? atDirector[0]
    out.push(before?.to === undefined ? {...e} : {...e, from: before.to})
  }
}
