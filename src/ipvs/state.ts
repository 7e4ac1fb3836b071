/**
 * IPVS TCP/UDP connection-entry states, the kernel's transition tables and the per-state timeouts
 * (ipvs-model.md §1, M1). Pure data and lookups: no time, no tables of entries.
 */
import {TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN} from '../decode/packet.js'

/** Kernel TCP states in `tcp_state_name_table` order (the order the tables are indexed by). */
export const TCP_STATES = ['NONE', 'ES', 'SS', 'SR', 'FW', 'TW', 'CL', 'CW', 'LA', 'LI', 'SA'] as const
export type TcpState = (typeof TCP_STATES)[number]
/** UDP has one state, named "UDP" by the kernel. */
export type EntryState = TcpState | 'UDP'

/** Names as ipvsadm -Lnc and /proc print them. */
export const STATE_NAMES: Readonly<Record<EntryState, string>> = {
  NONE: 'NONE',
  ES: 'ESTABLISHED',
  SS: 'SYN_SENT',
  SR: 'SYN_RECV',
  FW: 'FIN_WAIT',
  TW: 'TIME_WAIT',
  CL: 'CLOSE',
  CW: 'CLOSE_WAIT',
  LA: 'LAST_ACK',
  LI: 'LISTEN',
  SA: 'SYNACK',
  UDP: 'UDP',
}

/** "ESTABLISHED" → "ES"; undefined for template states (NONE is ambiguous and maps to NONE) and junk. */
export function stateFromName(name: string): EntryState | undefined {
  const upper = name.trim().toUpperCase()
  for (const s of Object.keys(STATE_NAMES) as EntryState[]) if (STATE_NAMES[s] === upper) return s
  return undefined
}

/** Which table a packet uses: client→server on NAT, server→client on NAT, or client→server on DR/TUN. */
export type TableDir = 'input' | 'output' | 'input-only'
/** Row selector from `tcp_state_idx`; 'none' is idx −1 (no SYN/FIN/ACK/RST), which leaves CLOSE. */
export type FlagClass = 'syn' | 'fin' | 'ack' | 'rst' | 'none'

/** Priority RST > SYN > FIN > ACK, as in `tcp_state_idx`: FIN+ACK is fin, SYN+ACK is syn. */
export function flagClass(tcpFlags: number): FlagClass {
  if (tcpFlags & TCP_RST) return 'rst'
  if (tcpFlags & TCP_SYN) return 'syn'
  if (tcpFlags & TCP_FIN) return 'fin'
  if (tcpFlags & TCP_ACK) return 'ack'
  return 'none'
}

type Row = readonly [TcpState, TcpState, TcpState, TcpState, TcpState, TcpState, TcpState, TcpState, TcpState, TcpState, TcpState]
type Table = Readonly<Record<'syn' | 'fin' | 'ack' | 'rst', Row>>

// Rows copied cell by cell from K ip_vs_proto_tcp.c tcp_states[] (columns NONE ES SS SR FW TW CL CW LA LI SA).
const INPUT: Table = {
  syn: ['SR', 'ES', 'ES', 'SR', 'SR', 'SR', 'SR', 'SR', 'SR', 'SR', 'SR'],
  fin: ['CL', 'CW', 'SS', 'TW', 'TW', 'TW', 'CL', 'CW', 'LA', 'LI', 'TW'],
  ack: ['ES', 'ES', 'SS', 'ES', 'FW', 'TW', 'CL', 'CW', 'CL', 'LI', 'ES'],
  rst: ['CL', 'CL', 'CL', 'SR', 'CL', 'CL', 'CL', 'CL', 'LA', 'LI', 'SR'],
}
const OUTPUT: Table = {
  syn: ['SS', 'ES', 'SS', 'SR', 'SS', 'SS', 'SS', 'SS', 'SS', 'LI', 'SR'],
  fin: ['TW', 'FW', 'SS', 'TW', 'FW', 'TW', 'CL', 'TW', 'LA', 'LI', 'TW'],
  ack: ['ES', 'ES', 'SS', 'ES', 'FW', 'TW', 'CL', 'CW', 'LA', 'ES', 'ES'],
  rst: ['CL', 'CL', 'SS', 'CL', 'CL', 'TW', 'CL', 'CL', 'CL', 'CL', 'CL'],
}
const INPUT_ONLY: Table = {
  syn: ['SR', 'ES', 'ES', 'SR', 'SR', 'SR', 'SR', 'SR', 'SR', 'SR', 'SR'],
  fin: ['CL', 'FW', 'SS', 'TW', 'FW', 'TW', 'CL', 'CW', 'LA', 'LI', 'TW'],
  ack: ['ES', 'ES', 'SS', 'ES', 'FW', 'TW', 'CL', 'CW', 'CL', 'LI', 'ES'],
  rst: ['CL', 'CL', 'CL', 'SR', 'CL', 'CL', 'CL', 'CL', 'LA', 'LI', 'CL'],
}

export interface TransitionOptions {
  /** Kernels ≤ 3.10 have CL (not ES) in the ack/NONE cell of INPUT and INPUT-ONLY. */
  ackNoneIsClose?: boolean
}

/** next-state[current] for one packet, exactly as `set_tcp_state` computes it (secure_tcp=0). */
export function nextTcpState(cur: TcpState, cls: FlagClass, dir: TableDir, opts: TransitionOptions = {}): TcpState {
  if (cls === 'none') return 'CL'
  if (cls === 'ack' && cur === 'NONE' && dir !== 'output' && opts.ackNoneIsClose) return 'CL'
  const table = dir === 'input' ? INPUT : dir === 'output' ? OUTPUT : INPUT_ONLY
  return table[cls][TCP_STATES.indexOf(cur)]
}

/** Forwarding methods; DR and TUN set NOOUTPUT, so their entries use the INPUT-ONLY table. */
export type FwdMethod = 'DR' | 'TUN' | 'NAT' | 'LOCAL'

export function usesInputOnly(method: FwdMethod): boolean {
  return method !== 'NAT'
}

/** Per-state timeouts in seconds (one per netns in the kernel). */
export type TcpTimeoutTable = Readonly<Record<TcpState, number>>

export const DEFAULT_TCP_TIMEOUTS: TcpTimeoutTable = {
  NONE: 2,
  ES: 900,
  SS: 120,
  SR: 60,
  FW: 120,
  TW: 120,
  CL: 10,
  CW: 60,
  LA: 30,
  LI: 120,
  SA: 120,
}
export const DEFAULT_UDP_TIMEOUT = 300
/** ipvsadm / keepalived default when `-p` / `persistence_timeout` has no value (IPVS_SVC_PERSISTENT_TIMEOUT). */
export const DEFAULT_PERSISTENCE = 360
/** Re-arm interval of a template that still controls connections (`expire_later`). */
export const TEMPLATE_RECHECK = 60

export interface StateTimeouts {
  tcp: TcpTimeoutTable
  udp: number
}

export function defaultStateTimeouts(): StateTimeouts {
  return {tcp: DEFAULT_TCP_TIMEOUTS, udp: DEFAULT_UDP_TIMEOUT}
}

/** The three cells `ipvsadm --set` / keepalived `lvs_timeouts` write; 0 means "leave as is". */
export interface SetTimeouts {
  tcp: number
  tcpfin: number
  udp: number
}

/** `ip_vs_set_timeout`: tcp → ESTABLISHED only, tcpfin → FIN_WAIT only, udp → UDP; 0 keeps the current value. */
export function applySet(base: StateTimeouts, set: SetTimeouts): StateTimeouts {
  return {
    tcp: {...base.tcp, ES: set.tcp > 0 ? set.tcp : base.tcp.ES, FW: set.tcpfin > 0 ? set.tcpfin : base.tcp.FW},
    udp: set.udp > 0 ? set.udp : base.udp,
  }
}

export function timeoutFor(t: StateTimeouts, state: EntryState): number {
  return state === 'UDP' ? t.udp : t.tcp[state]
}
