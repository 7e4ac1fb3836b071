import type {EffectiveTimeouts} from '../ipvs/timeouts.js'
import {humanDuration} from '../util/time.js'

/** Round a timeout suggestion up to a value an operator would type. */
function niceAbove(seconds: number): number {
  const steps = [60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400]
  for (const s of steps) if (s >= seconds * 1.25) return s
  return Math.ceil((seconds * 1.25) / 3600) * 3600
}

/** A value at or above `seconds` with the same scale: lab captures use seconds, production minutes. */
function suggestTimeout(idle: number): number {
  return idle < 60 ? Math.ceil(idle * 2) : niceAbove(idle)
}

export function idleTimeoutFix(idle: number, t: EffectiveTimeouts): string {
  const next = suggestTimeout(idle)
  const validate = Math.max(1, Math.floor(t.tcp * 0.66))
  return (
    `The client idled ${humanDuration(idle)}; the IPVS entry expired after the tcp timeout of ${t.tcp} s. ` +
    `Raise it above the longest idle time: \`ipvsadm --set ${next} ${t.tcpfin} ${t.udp}\` or keepalived ` +
    `\`lvs_timeouts tcp ${next}\` (on keepalived ≤ 2.1.3 it is applied only with \`lvs_sync_daemon\` configured) — ` +
    `or keep the connection below the timeout: pool validation/eviction of connections idle more than ${validate} s, ` +
    `or TCP keepalive (net.ipv4.tcp_keepalive_time < ${t.tcp}).`
  )
}

export function finTimeoutFix(idle: number, t: EffectiveTimeouts): string {
  return (
    `The client sent FIN and then stayed silent ${humanDuration(idle)}, longer than the tcpfin timeout of ${t.tcpfin} s, ` +
    `so the half-closed entry expired. Raise it with \`ipvsadm --set ${t.tcp} ${suggestTimeout(idle)} ${t.udp}\` ` +
    `(keepalived \`lvs_timeouts tcpfin\`), or make the client finish the close promptly.`
  )
}

export const FAILOVER_FIX =
  'Synchronise connections between directors: keepalived `lvs_sync_daemon <interface> <vrrp_instance>` in ' +
  'global_defs (or `ipvsadm --start-daemon master/backup`). Sync sends an entry at its 3rd packet and every 50th ' +
  'after (sync_threshold 3 50): connections with fewer than 3 client packets, or idle longer than the tcp timeout ' +
  'on the backup, are still lost — set net.ipv4.vs.sync_refresh_period for long idle connections, and let clients ' +
  'reconnect on error.'

export function persistenceFix(gap: number, p: number | null): string {
  const have = p === null ? 'the persistence timeout' : `persistence_timeout ${p} s`
  return (
    `The client came back after ${humanDuration(gap)}, after ${have} had run out, so it was scheduled afresh. ` +
    `Size \`persistence_timeout\` (ipvsadm -p) above the session's idle time (e.g. ${suggestTimeout(gap)} s), ` +
    `or share session state between real servers.`
  )
}

export function blackholeFix(hang: number): string {
  return (
    `The real server was removed while its connection was live and net.ipv4.vs.expire_nodest_conn=0, so the ` +
    `director silently dropped the client's packets for ${humanDuration(hang)}. Set \`sysctl -w ` +
    `net.ipv4.vs.expire_nodest_conn=1\` so clients get an immediate reset and reconnect; prefer weight 0 ` +
    `(keepalived \`inhibit_on_failure\`) to removal for planned maintenance.`
  )
}

export const NODEST_RESET_FIX =
  'Expected with net.ipv4.vs.expire_nodest_conn=1: the real server was removed (health check failure or ' +
  'scale-in) and its connections were expired at once. The client must reconnect and retry; drain servers with ' +
  'weight 0 (keepalived `inhibit_on_failure`) before removing them.'

export const ABORT_FIX =
  'The real server aborted the connection itself (its process exited, was killed or restarted, or closed with ' +
  'unread data): look at the server\'s logs at this time. The load balancer is not involved.'

export const NO_SOCKET_FIX =
  'The real server had no socket for this connection (it restarted, or the director sent the flow to a server ' +
  'that never had it). Check for server restarts and, after failovers, for rescheduling without connection sync.'

export const CLIENT_ABORT_FIX = 'The client reset the connection itself (application close or timeout); no LVS change needed.'

export const LOSS_FIX =
  'Packets were lost between the client and the real server (not by IPVS): check the links, NIC drops and ' +
  'switch counters on the path.'

export const VIP_MOVED_NOTE =
  'The VIP moved to another director (keepalived/VRRP failover). Connections survive only if the new director ' +
  'has their entries (connection sync); see the resets after this time.'
