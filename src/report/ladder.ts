/**
 * The ladder diagram of one finding as data: lanes (hosts), rows in time order, bars for the IPVS entry and the
 * persistence template, failover lines, idle gaps. The HTML renderer only places it. Its single input is
 * `Finding.events`, through `ladderOf`, so the source of the events can change without touching the drawing.
 */
import {basename, directorLabels} from './events.js'
import type {Finding, Report, TimelineEvent} from './report.js'

export type LaneRole = 'client' | 'director' | 'real-server'

export interface Lane {
  label: string
  role: LaneRole
}

export interface LadderRow {
  event: TimelineEvent
  /** Seconds since the first row. */
  t: number
  /** Index of the sending and receiving lane for frame events; -1 when the event is not a frame. */
  from: number
  to: number
  /** The frame went no further than `to` (not forwarded by the director). */
  dropped: boolean
  rst: boolean
  /** Id of the finding's evidence row for this frame, when it is one. */
  evidence: number | null
  /** The event is not in the finding: the ladder computed it (the template's expiry from its timeout). */
  computed: boolean
  /** Idle time before this row, and the timer it is measured against (idle > timeout: the entry expired). */
  idle: {seconds: number; timeout: number | null; timer: string} | null
}

export interface LadderBar {
  kind: 'entry' | 'template'
  lane: number
  from: number
  /** Row where the bar ends (the computed expiry), or null: open-ended, to the last row. */
  to: number | null
  label: string
}

export interface Ladder {
  lanes: Lane[]
  rows: LadderRow[]
  bars: LadderBar[]
}

const FRAME_KINDS = new Set(['client-packet', 'forwarded-copy', 'server-packet', 'rst'])
/** Gaps shorter than this are not labelled. */
const IDLE_LABEL_S = 1

function laneRole(r: Report, label: string): LaneRole {
  if (r.topology.realServers.some((s) => s.ip === label || `real server ${s.mac}` === label)) return 'real-server'
  if ([...directorLabels(r).values()].includes(label)) return 'director'
  // A lane named after its capture (a host the topology does not know by MAC) has that capture's role.
  const cap = r.captures.find((c) => basename(c.file) === label)
  return cap?.role === 'director' || cap?.role === 'real-server' ? cap.role : 'client'
}

/**
 * The events, with the persistence template's expiry added where the diagnosis gave its creation but not its
 * end: creation + its timeout (the event's, else the report's `timeouts.persistence`), marked computed.
 */
function withTemplateExpiry(r: Report, events: TimelineEvent[]): {events: TimelineEvent[]; computed: TimelineEvent | null} {
  // The creation as the events name it: where events.ts derives it, the last SYN that re-armed the template.
  const created = events.find((e) => e.kind === 'template-created')
  if (!created || events.some((e) => e.kind === 'template-expired')) return {events, computed: null}
  const timeout = created.timeout ?? r.timeouts.persistence
  if (timeout === null) return {events, computed: null}
  const epoch = Math.round((created.epoch + timeout) * 1e6) / 1e6
  const end: TimelineEvent = {kind: 'template-expired', epoch, capture: null, frame: null, timeout, ...(created.from === undefined ? {} : {from: created.from})}
  const at = events.findIndex((e) => e.epoch > epoch)
  return {events: at < 0 ? [...events, end] : [...events.slice(0, at), end, ...events.slice(at)], computed: end}
}

export function ladderOf(r: Report, f: Finding): Ladder | null {
  const {events, computed} = withTemplateExpiry(r, f.events ?? [])
  if (events.length === 0) return null
  const order: Record<LaneRole, number> = {client: 0, director: 1, 'real-server': 2}
  const labels = new Set<string>()
  for (const e of events) {
    if (e.from !== undefined) labels.add(e.from)
    if (e.to !== undefined) labels.add(e.to)
  }
  // A failover concerns every director: show them all, old and new.
  if (events.some((e) => e.kind === 'failover')) for (const d of directorLabels(r).values()) labels.add(d)
  const lanes = [...labels].map((label) => ({label, role: laneRole(r, label)})).sort((a, b) => order[a.role] - order[b.role])
  const lane = (l: string | undefined): number => (l === undefined ? -1 : lanes.findIndex((x) => x.label === l))
  const t0 = events[0].epoch
  const rows: LadderRow[] = []
  let armed: {epoch: number; timeout: number; state: string; lane: string | undefined} | null = null
  let prev: number | null = null
  for (const e of events) {
    const frame = FRAME_KINDS.has(e.kind)
    const ev = e.frame !== null ? f.evidence.findIndex((x) => x.file === e.capture && x.frame === e.frame) : -1
    let idle: LadderRow['idle'] = null
    if (frame && prev !== null && e.epoch - prev >= IDLE_LABEL_S) {
      // Measured against the entry's timer only at the director that holds the entry.
      const entry = e.kind === 'client-packet' && armed && armed.lane === e.to ? armed : null
      idle = {seconds: entry ? e.epoch - entry.epoch : e.epoch - prev, timeout: entry ? entry.timeout : null, timer: entry?.state === 'FIN_WAIT' ? 'tcpfin' : 'tcp'}
    }
    rows.push({
      event: e,
      t: e.epoch - t0,
      from: frame ? lane(e.from) : -1,
      to: frame ? lane(e.to) : -1,
      dropped: e.kind === 'client-packet' && e.forwarded === false,
      rst: e.kind === 'rst',
      computed: e === computed,
      evidence: ev >= 0 ? ev : null,
      idle,
    })
    if (frame) prev = e.epoch
    if (e.kind === 'entry-state' && e.timeout !== undefined) armed = {epoch: e.epoch, timeout: e.timeout, state: e.state ?? '', lane: e.from}
  }
  const bars: LadderBar[] = []
  const start = rows.findIndex((x) => x.event.kind === 'entry-state')
  if (start >= 0) {
    const s = rows[start].event
    const end = rows.findIndex((x) => x.event.kind === 'entry-expired')
    bars.push({kind: 'entry', lane: Math.max(0, lane(s.from)), from: start, to: end >= 0 ? end : null, label: `IPVS entry ${s.state ?? ''}, ${s.timeout ?? '?'} s timer`})
  }
  const tpl = rows.findIndex((x) => x.event.kind === 'template-created')
  if (tpl >= 0) {
    const s = rows[tpl].event
    const end = rows.findIndex((x) => x.event.kind === 'template-expired')
    const timeout = s.timeout ?? r.timeouts.persistence
    const expiry = end >= 0 ? ` to its ${rows[end].computed ? 'computed ' : ''}expiry at +${rows[end].t.toFixed(6)} s` : ''
    bars.push({kind: 'template', lane: Math.max(0, lane(s.from)), from: tpl, to: end >= 0 ? end : null, label: `persistence template${timeout === null ? '' : `, ${timeout} s`}${expiry}`})
  }
  return {lanes, rows, bars}
}
