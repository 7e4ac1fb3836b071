/**
 * The report contract (`lvscope/report@1`): one object that every renderer (terminal, JSON, Markdown, …)
 * draws from. Field names here are the public JSON API; add fields, never rename them.
 */

export type Role = 'director' | 'real-server' | 'client' | 'unknown'
export type FindingKind = 'reset' | 'stall' | 'reschedule' | 'failover'
export type Sender = 'director' | 'real-server' | 'client' | 'unknown'
export type Cause =
  | 'ipvs-idle-timeout'
  | 'ipvs-fin-timeout'
  | 'failover-unsynced'
  | 'stale-arp'
  | 'persistence-expired'
  | 'real-server-removed'
  | 'real-server-abort'
  | 'real-server-no-socket'
  | 'client-abort'
  | 'genuine-loss'
  | 'vip-moved'
  | 'unknown'
export type Confidence = 'high' | 'medium' | 'low'

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

export type TimelineEventKind =
  | 'client-packet' // a client frame seen at the director (forwarded or not: see `forwarded`)
  | 'forwarded-copy' // the director's DR/TUN copy toward a real server
  | 'server-packet' // a real server's reply (seen at the real server or the client)
  | 'entry-created'
  | 'entry-state'
  | 'entry-expired' // the IPVS connection entry (state, timer)
  | 'template-created'
  | 'template-expired' // the persistence template
  | 'failover'
  | 'real-server-removed'
  | 'real-server-weight-0'
  | 'rst' // the reset(s) the finding explains

export interface TimelineEvent {
  kind: TimelineEventKind
  /** Reference-clock seconds, rounded to the µs. */
  epoch: number
  /** Capture and frame that show it, when a frame does (null for computed instants such as an expiry). */
  capture: string | null
  frame: number | null
  /** Lane endpoints for frames: 'client' | 'director' | 'real-server' host labels, e.g. "10.77.0.10". */
  from?: string
  to?: string
  /** TCP flags as Wireshark shows them, e.g. "[R.]", "[P.]". */
  flags?: string
  /** TCP payload length. */
  length?: number
  /** For client-packet at a director: did it leave again. */
  forwarded?: boolean
  /** Entry state (ESTABLISHED, FIN_WAIT, ...) for entry-* events. */
  state?: string
  /** The timer (s) armed at this event, for entry-* and template-* events. */
  timeout?: number
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
}
