import type {KernelTraits} from '../ipvs/kernel.js'
import type {FlowReplay} from '../ipvs/replay.js'
import type {EffectiveTimeouts} from '../ipvs/timeouts.js'
import type {EvidenceFrame, ReportTopology, Role} from '../report/report.js'
import {isoTime} from '../util/time.js'
import type {ClientPacket, FrameRef} from '../vantage/ledger.js'
import type {CaptureScan} from '../vantage/scan.js'

/** One capture of the incident, placed: its role and its clock against the reference. */
export interface IncidentCapture {
  scan: CaptureScan
  role: Role
  /** Capture time minus reference time for the same packet (seconds). */
  offset: number
  /** The capture host's own MAC addresses (a real server's identity in the topology), when the correlation saw them. */
  macs?: string[]
}

/** The IPVS model's view of the incident: each director capture's flows replayed into entry timelines. */
export interface IncidentModel {
  /** The entry replay of a flow (by the capture's flow id) that has a reset or a stall; null elsewhere. */
  flowAt(cap: IncidentCapture, flowId: number): FlowReplay | null
}

/** Everything the diagnosis reasons over. */
export interface Incident {
  captures: IncidentCapture[]
  topology: ReportTopology
  timeouts: EffectiveTimeouts
  /** True when persistence comes from a flag or configuration rather than inference. */
  persistenceKnown: boolean
  /** What the director's kernel version implies (expire_nodest_conn before/after 5.9 …). */
  kernel: KernelTraits
  model: IncidentModel
}

/** A frame's time in the reference clock, as epoch seconds. */
export function refEpoch(c: IncidentCapture, ref: FrameRef): number {
  return ref.sec - c.offset + ref.nsec / 1e9
}

export function evidence(c: IncidentCapture, ref: FrameRef, what: string): EvidenceFrame {
  const epoch = refEpoch(c, ref)
  return {file: c.scan.file, frame: ref.frame, epoch: round9(epoch), time: isoTimeOf(epoch), what}
}

export function packetEvidence(c: IncidentCapture, p: ClientPacket, what: string): EvidenceFrame {
  return evidence(c, p.ref, what)
}

export function isoTimeOf(epoch: number): string {
  const sec = Math.floor(epoch)
  return isoTime(sec, Math.round((epoch - sec) * 1e6) * 1000, 6)
}

export function round9(x: number): number {
  return Math.round(x * 1e9) / 1e9
}

/** Seconds between two frames of the same capture, exact on the integer parts. */
export function gapSeconds(a: FrameRef, b: FrameRef): number {
  return b.sec - a.sec + (b.nsec - a.nsec) / 1e9
}

export function isDirectorMac(inc: Incident, mac: string | null): boolean {
  return mac !== null && inc.topology.directors.some((d) => d.mac === mac)
}

export function isRealServerMac(inc: Incident, mac: string | null): boolean {
  return mac !== null && inc.topology.realServers.some((r) => r.mac === mac)
}

export {flagText} from '../model/timeline.js'
