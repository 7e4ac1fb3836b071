/**
 * parseConfig: recognise ipvsadm / /proc / keepalived text BY CONTENT (never by file name) and return
 * typed facts. A file may hold several ipvsadm outputs pasted together; each recognised format is read.
 */
import {LvscopeError} from '../../util/errors.js'
import {parseIpvsadmConns, parseIpvsadmDaemon, parseIpvsadmList, parseIpvsadmRules, parseIpvsadmTimeout} from './ipvsadm.js'
import {parseKeepalived} from './keepalived.js'
import {parseProcConn, parseProcIpVs} from './proc.js'
import {emptyFacts, type ConfigFacts, type ConfigKind} from './types.js'

export * from './types.js'

const SIGNS = {
  keepalived: /^\s*(global_defs|vrrp_instance|vrrp_sync_group|virtual_server_group|virtual_server|vrrp_script)\b[^\n]*(\{|$)/m,
  keepalivedBody: /^\s*(real_server|lb_kind|lvs_method|lb_algo|lvs_sched|persistence_timeout|lvs_timeouts|lvs_sync_daemon)\b/m,
  procConnHeader: /^Pro\s+FromIP\s+FPrt\s+ToIP\s+TPrt\s+DestIP\s+DPrt\s+State/m,
  procConnRow: /^(TCP|UDP|SCTP|IP)\s+[0-9A-F]{8}\s+[0-9A-F]{4}\s+[0-9A-F]{8}\s+[0-9A-F]{4}\s+[0-9A-F]{8}\s+[0-9A-F]{4}\s+\S+/m,
  procSync: /^Pro\s+FromIP.*\bOrigin\b|^(TCP|UDP|SCTP|IP)\s+[0-9A-F]{8}\s+[0-9A-F]{4}\s+.*\s(LOCAL|SYNC)\s+\d+\s*$/m,
  procIpVs: /^(TCP|UDP|SCTP)\s+[0-9A-F]{8}:[0-9A-F]{4}\s|^FWM\s+[0-9A-F]{8}\s|^\s+->\s+[0-9A-F]{8}:[0-9A-F]{4}\s/m,
  list: /^Prot LocalAddress:Port Scheduler Flags|^(TCP|UDP|SCTP)\s+\S+:\d+\s+[a-z]+\b|^FWM\s+\d+\s+|^\s+->\s+\S+\s+(Route|Masq|Tunnel|Local)\s+-?\d+/m,
  timeout: /Timeout \(tcp tcpfin udp\):\s*\d+\s+\d+\s+\d+/,
  conns: /^IPVS connection entries|^pro expire state|^(TCP|UDP|SCTP|IP)\s+\d+:\d{2}\s+[A-Z_]+\s+\S+:\d+\s/m,
  rules: /^\s*(?:\$\s+)?(\S*ipvsadm\s+)?(-[AaEe]|--add-service|--add-server)\s+(-t|-u|-f|--sctp-service|--tcp-service|--udp-service|--fwmark-service)\s|^\s*(?:\$\s+)?(\S*ipvsadm\s+)?--set\s+\d+\s+\d+\s+\d+/m,
  daemon: /^(master|backup) sync daemon \(mcast=/m,
} as const

/** Which formats the text holds (possibly several ipvsadm outputs), or [] when none. */
export function detectKinds(text: string): ConfigKind[] {
  if (SIGNS.keepalived.test(text) && SIGNS.keepalivedBody.test(text)) return ['keepalived']
  const kinds: ConfigKind[] = []
  if (SIGNS.procConnHeader.test(text) || SIGNS.procConnRow.test(text)) kinds.push(SIGNS.procSync.test(text) ? 'proc-ip_vs_conn_sync' : 'proc-ip_vs_conn')
  if (SIGNS.procIpVs.test(text)) kinds.push('proc-ip_vs')
  else if (SIGNS.list.test(text)) kinds.push('ipvsadm-list')
  if (SIGNS.timeout.test(text)) kinds.push('ipvsadm-timeout')
  if (SIGNS.conns.test(text)) kinds.push('ipvsadm-conns')
  if (SIGNS.rules.test(text)) kinds.push('ipvsadm-rules')
  if (SIGNS.daemon.test(text)) kinds.push('ipvsadm-daemon')
  return kinds
}

export interface ParseConfigOptions {
  /** Kernel HZ, to turn /proc/net/ip_vs "persistent" jiffies into seconds. */
  hz?: number
}

/** Largest input read; configuration dumps are small, and this bounds memory on a wrong file. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024

/**
 * Parse one configuration text. `name` is only used in messages and SourceRefs.
 * Throws LvscopeError('unsupported', "<name>: not a recognised ipvsadm/keepalived/proc format").
 */
export function parseConfig(text: string, name: string, opts: ParseConfigOptions = {}): ConfigFacts {
  const f = emptyFacts(name)
  let body = text
  if (body.length > MAX_CONFIG_BYTES) {
    body = body.slice(0, MAX_CONFIG_BYTES)
    f.warnings.push(`${name}: only the first ${MAX_CONFIG_BYTES} bytes were read`)
  }
  if (body.includes('\u0000')) throw new LvscopeError('unsupported', `${name}: not a recognised ipvsadm/keepalived/proc format (binary data)`)
  const kinds = detectKinds(body)
  if (kinds.length === 0) throw new LvscopeError('unsupported', `${name}: not a recognised ipvsadm/keepalived/proc format`)
  f.kinds = kinds
  for (const k of kinds) {
    switch (k) {
      case 'keepalived':
        parseKeepalived(body, f)
        break
      case 'ipvsadm-list':
        parseIpvsadmList(body, f)
        break
      case 'ipvsadm-timeout':
        parseIpvsadmTimeout(body, f)
        break
      case 'ipvsadm-conns':
        parseIpvsadmConns(body, f)
        break
      case 'ipvsadm-rules':
        parseIpvsadmRules(body, f)
        break
      case 'ipvsadm-daemon':
        parseIpvsadmDaemon(body, f)
        break
      case 'proc-ip_vs':
        parseProcIpVs(body, f, opts.hz)
        break
      case 'proc-ip_vs_conn':
      case 'proc-ip_vs_conn_sync':
        parseProcConn(body, f)
        break
    }
  }
  return f
}
