/**
 * The report contract (`lvscope/report@1`): one object that every renderer (terminal, JSON, Markdown, …)
 * draws from. Field names here are the public JSON API; add fields, never rename them.
 */

import type {TimelineEvent} from '../model/timeline.js'

// The domain vocabulary lives in src/model/; the contract re-exports it under the same names.
export type {Role, Sender} from '../model/roles.js'
export type {Cause, Confidence, FindingKind} from '../model/finding.js'
export type {TimelineEvent, TimelineEventKind} from '../model/timeline.js'
import type {Role, Sender} from '../model/roles.js'
import type {Cause, Confidence, FindingKind} from '../model/finding.js'

export interface ReportCapture {
  file: string
  role: Role
  /** Why this role was chosen (evidence in words), or 'given' when set by a flag. */
  roleReason: string
  packets: number
  /** Capture time minus reference time for the same packet; the reference has 0. */
  clockOffsetSeconds: number
  /** ± uncertainty of the offset in seconds (0 for the reference and for offsets given by flag). */
  clockOffsetUncertainty: number
  /** Drift in parts per million against the reference, when measurable. */
  clockDriftPpm: number | null
  clockSource: 'reference' | 'estimated' | 'flag' | 'none'
  warnings: {code: string; message: string; offset: number}[]
}

export interface ReportTopology {
  services: string[]
  vips: string[]
  forwarding: 'DR' | 'TUN' | 'NAT' | 'unknown'
  directors: {mac: string; ips: string[]; captures: string[]}[]
  realServers: {mac: string; ip: string}[]
}

export interface ReportTimeouts {
  tcp: number
  tcpfin: number
  udp: number
  persistence: number | null
  /** Where each value came from, e.g. "tcp: flag --timeouts; tcpfin: default". */
  source: string
  bounds: {tcp: {survived: number | null; killed: number | null} | null}
  contradictions: string[]
}

export interface EvidenceFrame {
  file: string
  frame: number
  epoch: number
  time: string
  /** What this frame shows, in words. */
  what: string
}

export interface Finding {
  kind: FindingKind
  epoch: number
  time: string
  /** The connection concerned; null for events of the whole service (a failover). */
  flow: {client: string; service: string} | null
  sender: Sender
  cause: Cause
  confidence: Confidence
  /** One line: what happened. */
  summary: string
  evidence: EvidenceFrame[]
  /** The IPVS timeline that led here, as short lines (last forwarded packet, expiry, idle vs timeout …). */
  timeline: string[]
  /** What the real server still believes (e.g. its socket left ESTABLISHED), when known. */
  realServerView: string | null
  /** Application context (last command, server error, the symptom the user saw), when decoded. */
  application: {protocol: string; lastCommand: string | null; serverError: string | null; symptom: string | null} | null
  recommendation: string
  /** Structured timeline (data, not prose); renderers draw it. Absent when the diagnosis has none. */
  events?: TimelineEvent[]
  /** How many packets of this kind the finding explains together (e.g. every RST of one episode of a flow). */
  count?: number
  /** The rule's evidence, by name (docs/causes.md), each present (true) or missing (false) for this finding. */
  rule?: {name: string; evidence: {name: string; present: boolean}[]; decide: string | null}
  /** Occurrences, when this finding stands for a repeated pattern (diagnose/group.ts): `epoch` is the first. */
  occurrences?: number
  /** Time of the last occurrence of a grouped finding. */
  lastEpoch?: number
  /** Wireshark display filters that show this finding's frames (filled by the report builder). */
  wireshark?: {
    /** Both directions of the flow, in any capture; null for a finding of the whole service. */
    flow: string | null
    /** Per capture, `frame.number in {…}` over its evidence frames. */
    frames: {file: string; filter: string}[]
  }
}

export interface CorrelationFlow {
  client: string
  service: string
  matched: number
  /** Client packets seen outbound at a director but never at a real server. */
  lostOnPath: number
  /** Client packets seen inbound at a director and never forwarded. */
  notForwarded: number
  /** Client packets seen only at a real server (arrived through another director). */
  onlyAtRealServer: number
  /** Reference-clock time of the flow's first and last counted client packet, to the µs (null: none timed). */
  firstEpoch: number | null
  lastEpoch: number | null
}

export interface Report {
  schema: 'lvscope/report@1'
  generatedBy: string
  captures: ReportCapture[]
  topology: ReportTopology
  timeouts: ReportTimeouts
  artifacts: {
    drCopies: number
    spanDuplicates: number
    genuineRetransmissions: number
    /** Wireshark flags raised on the captures, and how many of them are artifacts. */
    wiresharkFlags: {total: number; artifacts: number}
  }
  correlation: {reference: string | null; flows: CorrelationFlow[]}
  findings: Finding[]
  /** One-line verdict, first thing a user reads. */
  verdict: string
  /** Caps hit and ambiguities the inputs leave open (additive; empty when none). */
  warnings?: ReportWarning[]
}

export interface ReportWarning {
  code: string
  message: string
  capture: string | null
  /** What would decide an ambiguity (a flag, another capture). */
  decide?: string
}
