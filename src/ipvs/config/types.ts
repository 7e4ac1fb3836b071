/** Typed facts read from ipvsadm / /proc / keepalived text, each naming the file and line it came from. */
import type {EntryState, FwdMethod} from '../state.js'

export type ConfigKind =
  | 'ipvsadm-list' // ipvsadm -Ln
  | 'ipvsadm-timeout' // ipvsadm -Ln --timeout
  | 'ipvsadm-conns' // ipvsadm -Lnc
  | 'ipvsadm-rules' // ipvsadm -S -n (or a script of ipvsadm commands)
  | 'ipvsadm-daemon' // ipvsadm -L --daemon
  | 'proc-ip_vs' // /proc/net/ip_vs
  | 'proc-ip_vs_conn' // /proc/net/ip_vs_conn
  | 'proc-ip_vs_conn_sync' // /proc/net/ip_vs_conn_sync
  | 'keepalived' // keepalived.conf

export interface SourceRef {
  file: string
  line: number
}

export interface DestFact {
  addr: string
  port: number
  method: FwdMethod
  weight: number
  activeConns?: number
  inactConns?: number
  /** keepalived: on a failed check set weight 0 instead of removing the server. */
  inhibitOnFailure?: boolean
  source: SourceRef
}

export interface ServiceFact {
  proto: 'tcp' | 'udp' | 'sctp' | 'fwmark'
  vip?: string
  port?: number
  fwmark?: number
  scheduler?: string
  /** Persistence timeout in seconds (absent = not persistent). */
  persistence?: number
  /** /proc/net/ip_vs prints svc->timeout in jiffies (seconds × HZ); HZ is not in the file, so the raw value is kept. */
  persistenceJiffies?: number
  /** Netmask (IPv4 dotted quad) or prefix length (IPv6) applied to client addresses for templates. */
  persistenceMask?: string
  /** 'default' when the timeout keyword had no value (360 s, IPVS_SVC_PERSISTENT_TIMEOUT). */
  persistenceFrom?: 'value' | 'default'
  onePacket?: boolean
  pe?: string
  /** keepalived virtual_server_group name, when the service came from a group. */
  group?: string
  dests: DestFact[]
  source: SourceRef
}

export interface ConnRowFact {
  proto: 'TCP' | 'UDP' | 'SCTP' | 'IP'
  /** Persistence template row (state NONE/ASSURED with client port 0, or protocol IP). */
  template: boolean
  /** Invalidated template (ports 65535). */
  invalid: boolean
  caddr: string
  cport: number
  vaddr: string
  vport: number
  daddr: string
  dport: number
  /** State as printed. */
  stateName: string
  /** Model state for connection rows; undefined for templates and unknown names. */
  state?: EntryState
  /** Remaining seconds (truncated by the kernel). */
  expires: number
  origin?: 'LOCAL' | 'SYNC'
  source: SourceRef
}

export interface TimeoutFact {
  /** 0 = not set (keepalived: that keyword absent). */
  tcp: number
  tcpfin: number
  udp: number
  /** 'runtime' = read back from the kernel (ipvsadm --timeout); 'set' = a command/config that sets them. */
  kind: 'runtime' | 'set'
  source: SourceRef
}

export interface SyncDaemonFact {
  role: 'master' | 'backup' | 'both' | 'unknown'
  iface?: string
  vrrpInstance?: string
  syncId?: number
  /** The deprecated per-instance lvs_sync_daemon_interface form. */
  deprecated?: boolean
  source: SourceRef
}

export interface ConfigFacts {
  file: string
  kinds: ConfigKind[]
  services: ServiceFact[]
  conns: ConnRowFact[]
  timeouts: TimeoutFact[]
  syncDaemons: SyncDaemonFact[]
  /** Things worth saying about the input (e.g. an ignored include, a value in jiffies). */
  notes: string[]
  /** Lines that looked like the format but could not be read: "<file>:<line>: ...". */
  warnings: string[]
}

export function emptyFacts(file: string): ConfigFacts {
  return {file, kinds: [], services: [], conns: [], timeouts: [], syncDaemons: [], notes: [], warnings: []}
}

/** Warnings are capped so a huge garbage file cannot grow them without bound. */
export const MAX_WARNINGS = 50

export function warn(f: ConfigFacts, line: number, msg: string): void {
  if (f.warnings.length < MAX_WARNINGS) f.warnings.push(`${f.file}:${line}: ${msg}`)
  else if (f.warnings.length === MAX_WARNINGS) f.warnings.push(`${f.file}: further warnings suppressed`)
}
