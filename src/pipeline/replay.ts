/**
 * The model stage: the client packets each director capture holds for the flows the diagnosis will ask about
 * (those with a reset or a stall), replayed through the IPVS entry model (src/ipvs/replay.ts). Flows are joined
 * by the capture's own numeric flow id, never by text.
 */
import type {Incident, IncidentCapture, IncidentModel} from '../diagnose/incident.js'
import {refEpoch} from '../diagnose/incident.js'
import {FlowReplay, type ReplayPacket} from '../ipvs/replay.js'
import {flagClass} from '../ipvs/state.js'
import {stateTimeoutsOf, type EffectiveTimeouts} from '../ipvs/timeouts.js'
import type {ClientPacket, FlowContext} from '../vantage/ledger.js'

type Placed = Omit<Incident, 'timeouts' | 'model'>

function collect(into: Map<number, ClientPacket>, p: ClientPacket | null): void {
  if (p === null) return
  const had = into.get(p.ref.frame)
  // A register snapshot taken before the copy left says null; a later one knows it was forwarded.
  if (had === undefined || (had.forwarded !== true && p.forwarded === true)) into.set(p.ref.frame, p)
}

function fromContext(into: Map<number, ClientPacket>, c: FlowContext): void {
  collect(into, c.lastForwarded)
  collect(into, c.prevClient)
  collect(into, c.lastClient)
  collect(into, c.clientFin)
}

/** Replay every flow of `cap` that has a reset or a stall. */
function replayCapture(cap: IncidentCapture, timeouts: EffectiveTimeouts, inc: Placed): Map<number, FlowReplay> {
  const l = cap.scan.ledger
  const packets = new Map<number, Map<number, ClientPacket>>()
  const of = (flowId: number): Map<number, ClientPacket> => {
    let m = packets.get(flowId)
    if (m === undefined) packets.set(flowId, (m = new Map()))
    return m
  }
  for (const r of l.resets) fromContext(of(r.flowId), r.context)
  for (const s of l.stalls) {
    const m = of(s.flowId)
    fromContext(m, s.context)
    collect(m, s.first)
    for (const p of s.retransmissions) collect(m, p)
  }
  for (const c of l.connections) {
    const m = packets.get(c.flowId)
    if (m !== undefined) collect(m, c.syn)
  }
  const out = new Map<number, FlowReplay>()
  const tmo = stateTimeoutsOf(timeouts)
  for (const [flowId, m] of packets) {
    const list = [...m.values()]
    // The handshake's last ACK is not among the packets kept: past a forwarded non-SYN, start ESTABLISHED
    // and leave the SYNs out (a SYN followed straight by a FIN would otherwise read as TIME_WAIT).
    const pastHandshake = list.some((p) => p.forwarded === true && flagClass(p.flags) !== 'syn')
    const feed: ReplayPacket[] = []
    for (const p of list) {
      if (pastHandshake && flagClass(p.flags) === 'syn') continue
      feed.push({t: refEpoch(cap, p.ref), flags: p.flags, forwarded: p.forwarded === true, frame: p.ref.frame})
    }
    out.set(flowId, new FlowReplay(feed, {timeouts: tmo, traits: inc.kernel, established: pastHandshake}))
  }
  return out
}

export function replayIncident(inc: Placed, timeouts: EffectiveTimeouts): IncidentModel {
  const flows = new Map<IncidentCapture, Map<number, FlowReplay>>()
  for (const cap of inc.captures) {
    // Only a director's capture shows what was forwarded; elsewhere "forwarded" is unknown.
    if (cap.role !== 'director' || cap.scan.artifacts.drCopies === 0) continue
    flows.set(cap, replayCapture(cap, timeouts, inc))
  }
  return {
    flowAt: (cap, flowId) => flows.get(cap)?.get(flowId) ?? null,
  }
}
