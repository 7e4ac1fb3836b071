/** The batch command's data, stage by stage: walked files → probes → chains → incidents → result lines. */
import type {Report, Role} from '../report/report.js'
import type {CaptureWarning} from '../util/errors.js'

/** A file or directory the walk could not use (unreadable, a symlink loop, not a capture, unreadable capture). */
export interface FileProblem {
  file: string
  /** 'io', 'symlink-loop', 'not-a-capture', 'empty-file', 'truncated', 'corrupt', … */
  code: string
  message: string
  /** Byte offset of the damage in the (decompressed) stream, when the reader knows it. */
  offset: number | null
}

/** A file whose first bytes are a capture's (pcap, pcapng, or either inside gzip). */
export interface WalkedCapture {
  path: string
  size: number
  mtimeMs: number
}

/** A text file recognised by parseConfig (ipvsadm output, keepalived.conf, /proc/net/ip_vs*). */
export interface WalkedConfig {
  path: string
  kinds: string[]
}

export interface Walk {
  captures: WalkedCapture[]
  configs: WalkedConfig[]
  problems: FileProblem[]
}

/** What the cheap first pass learns about one capture file (plain data: it crosses worker threads). */
export interface Probe extends WalkedCapture {
  /** SHA-256 of the first and the last MiB with the size: what a resumed run compares. */
  quickHash: string
  /** First and last record time, epoch seconds; null when no record has one. */
  first: number | null
  last: number | null
  packets: number
  linktypes: number[]
  warnings: CaptureWarning[]
  /** TCP connections seen in the sampled frames, as "a|b" with the endpoints sorted. */
  flows: string[]
  /** TCP services seen in the sampled frames, "ip:port" (what --service matches). */
  services: string[]
  role: Role
  roleReason: string
}

/** One host's rotated files in time order, read as one capture. */
export interface Chain {
  /** The name the analysis reads: the file itself, or a registered chain name. */
  name: string
  host: string
  role: Role
  members: Probe[]
  first: number | null
  last: number | null
}

/** Flags of one incident's analysis (analyze's flags; a manifest may set them per incident). */
export interface IncidentFlags {
  timeouts?: string
  persistence?: number
  persistenceMask?: string
  config?: string[]
  keepalivedVersion?: string
  kernel?: string
}

export interface IncidentPlan {
  /** Stable identity: the manifest name, or the sorted member paths. Sharding hashes it. */
  key: string
  /** Short id from the key, used for file names in --out. */
  id: string
  name: string
  chains: Chain[]
  /** Config files used (the given --config ones, those found beside the hosts' captures, the manifest's). */
  configs: string[]
  /** Configs found beside the captures (also in `configs`), to say so in the report. */
  foundConfigs: string[]
  flags: IncidentFlags
  roles: Record<string, Role>
  offsets: Record<string, number>
}

export interface IncidentFile {
  path: string
  sha256: string
  size: number
  host: string
  role: Role
  /** The member's frames in the numbering of the capture the report names (a chain numbers on across its files). */
  frames: {capture: string; first: number; last: number}
  warnings: CaptureWarning[]
}

/** One NDJSON line per incident: the report and the files it came from. */
export interface IncidentLine {
  schema: 'lvscope/batch-incident@1'
  incident: string
  name: string
  key: string
  hosts: number
  first: string | null
  last: string | null
  files: IncidentFile[]
  configs: string[]
  foundConfigs: string[]
  error: string | null
  report: Report | null
}

/** One NDJSON line per file that no incident could use. */
export interface ProblemLine extends FileProblem {
  schema: 'lvscope/batch-file@1'
}

export type BatchLine = IncidentLine | ProblemLine
