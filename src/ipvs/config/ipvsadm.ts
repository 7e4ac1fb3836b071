/** Parsers for ipvsadm's text output: -Ln, -Ln --timeout, -Lnc, -S -n (rule format) and -L --daemon. */
import {splitAddrPort} from '../addr.js'
import {stateFromName, type FwdMethod} from '../state.js'
import {warn, type ConfigFacts, type ConnRowFact, type ServiceFact} from './types.js'

const FORWARD: Readonly<Record<string, FwdMethod>> = {Route: 'DR', Tunnel: 'TUN', Masq: 'NAT', Local: 'LOCAL'}

function protoOf(s: string): ServiceFact['proto'] | undefined {
  const p = s.toUpperCase()
  return p === 'TCP' ? 'tcp' : p === 'UDP' ? 'udp' : p === 'SCTP' ? 'sctp' : undefined
}

/** Trailing " persistent N mask M pe X ops" flags of a service line (ipvsadm -Ln or /proc-like). */
function serviceFlags(svc: ServiceFact, rest: string[]): void {
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]
    if (w === 'persistent' && /^\d+$/.test(rest[i + 1] ?? '')) {
      svc.persistence = Number(rest[++i])
      svc.persistenceFrom = 'value'
    } else if (w === 'mask' && rest[i + 1] !== undefined) svc.persistenceMask = rest[++i]
    else if (w === 'pe' && rest[i + 1] !== undefined) svc.pe = rest[++i]
    else if (w === 'ops') svc.onePacket = true
  }
}

const CONN_ROW = /^(TCP|UDP|SCTP|IP)\s+\d+:\d{2}\s+[A-Z_]+\s/

/** ipvsadm -Ln (and -L with names, which we keep as text). */
export function parseIpvsadmList(text: string, f: ConfigFacts): void {
  let svc: ServiceFact | undefined
  let persistConnColumn = false
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]
    const ln = n + 1
    if (/^\s*->\s+RemoteAddress:Port/.test(line)) {
      persistConnColumn = /PersistConn/.test(line)
      if (/\b(Conns|InPkts|CPS)\b/.test(line)) f.notes.push(`${f.file}:${ln}: statistics columns (--stats/--rate) are not read`)
      continue
    }
    // A -Lnc row pasted into the same file ("TCP 14:58 ESTABLISHED ...") is not a service line.
    if (CONN_ROW.test(line)) continue
    const fwm = /^FWM\s+(\d+)\s+(?:IPv6\s+)?(\S+)(.*)$/.exec(line)
    const s = fwm ? undefined : /^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)(.*)$/.exec(line)
    if (fwm || s) {
      if (fwm) {
        svc = {proto: 'fwmark', fwmark: Number(fwm[1]), scheduler: fwm[2], dests: [], source: {file: f.file, line: ln}}
        serviceFlags(svc, fwm[3].trim().split(/\s+/))
      } else if (s) {
        const ap = splitAddrPort(s[2])
        if (!ap) {
          warn(f, ln, `service address "${s[2]}" is not addr:port`)
          svc = undefined
          continue
        }
        svc = {proto: protoOf(s[1]) ?? 'tcp', vip: ap.addr, port: ap.port, scheduler: s[3], dests: [], source: {file: f.file, line: ln}}
        serviceFlags(svc, s[4].trim().split(/\s+/))
      }
      if (svc) f.services.push(svc)
      continue
    }
    const d = /^\s+->\s+(\S+)\s+(Route|Tunnel|Masq|Local)\s+(-?\d+)\s+(\d+)\s+(\d+)(?:\s+(\d+))?/.exec(line)
    if (d) {
      const ap = splitAddrPort(d[1])
      if (!svc || !ap) {
        warn(f, ln, svc ? `real server "${d[1]}" is not addr:port` : 'real server line before any service line')
        continue
      }
      // With --persistent-conn the columns are Weight PersistConn ActiveConn InActConn.
      const [active, inact] = persistConnColumn && d[6] !== undefined ? [d[5], d[6]] : [d[4], d[5]]
      svc.dests.push({addr: ap.addr, port: ap.port, method: FORWARD[d[2]], weight: Number(d[3]), activeConns: Number(active), inactConns: Number(inact), source: {file: f.file, line: ln}})
      continue
    }
    if (/^\s+->\s/.test(line)) warn(f, ln, 'unreadable real-server line')
  }
}

/** "Timeout (tcp tcpfin udp): 900 120 300" — the kernel's current values. */
export function parseIpvsadmTimeout(text: string, f: ConfigFacts): void {
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const m = /Timeout \(tcp tcpfin udp\):\s*(\d+)\s+(\d+)\s+(\d+)/.exec(lines[n])
    if (m) f.timeouts.push({tcp: Number(m[1]), tcpfin: Number(m[2]), udp: Number(m[3]), kind: 'runtime', source: {file: f.file, line: n + 1}})
  }
}

function hostPort(s: string): {addr: string; port: number} {
  const ap = splitAddrPort(s)
  return ap ?? {addr: s, port: -1}
}

/** ipvsadm -Lnc: "TCP 14:58  ESTABLISHED 10.0.0.5:51234 192.168.1.10:80 192.168.2.20:80". Minutes are not capped. */
export function parseIpvsadmConns(text: string, f: ConfigFacts): void {
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]
    const m = /^(TCP|UDP|SCTP|IP)\s+(\d+):(\d{2})\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(line)
    if (!m) {
      if (/^(TCP|UDP|SCTP|IP)\s+\d+:/.test(line) && !/^\S+\s+\S+:\d+\s+[a-z]/.test(line)) warn(f, n + 1, 'unreadable connection row')
      continue
    }
    const c = hostPort(m[5])
    const v = hostPort(m[6])
    const d = hostPort(m[7])
    if (c.port < 0 || v.port < 0 || d.port < 0) {
      warn(f, n + 1, 'connection row without numeric ports (use ipvsadm -Lnc, with -n)')
      continue
    }
    f.conns.push(connRow(m[1] as ConnRowFact['proto'], m[4], Number(m[2]) * 60 + Number(m[3]), c, v, d, {file: f.file, line: n + 1}))
  }
}

export function connRow(
  proto: ConnRowFact['proto'],
  stateName: string,
  expires: number,
  c: {addr: string; port: number},
  v: {addr: string; port: number},
  d: {addr: string; port: number},
  source: ConnRowFact['source'],
  origin?: ConnRowFact['origin'],
): ConnRowFact {
  // Templates: protocol IP (fwmark), ASSURED, or NONE with client port 0 (templates key on cport 0).
  const template = proto === 'IP' || stateName === 'ASSURED' || (stateName === 'NONE' && c.port === 0)
  const row: ConnRowFact = {
    proto,
    template,
    invalid: template && v.port === 65535 && d.port === 65535,
    caddr: c.addr,
    cport: c.port,
    vaddr: v.addr,
    vport: v.port,
    daddr: d.addr,
    dport: d.port,
    stateName,
    state: template ? undefined : stateFromName(stateName),
    expires,
    source,
  }
  if (origin) row.origin = origin
  return row
}

const FWD_SWITCH: Readonly<Record<string, FwdMethod>> = {
  '-g': 'DR',
  '--gatewaying': 'DR',
  '-i': 'TUN',
  '--ipip': 'TUN',
  '-m': 'NAT',
  '--masquerading': 'NAT',
}
const SVC_SWITCH: Readonly<Record<string, ServiceFact['proto']>> = {
  '-t': 'tcp',
  '--tcp-service': 'tcp',
  '-u': 'udp',
  '--udp-service': 'udp',
  '--sctp-service': 'sctp',
  '-f': 'fwmark',
  '--fwmark-service': 'fwmark',
}

function svcId(proto: string, target: string): string {
  return `${proto} ${target}`
}

/**
 * ipvsadm -S -n rule format, both spellings (A126 " pe X"/" ops", A131 " --pe X"/" -o"/" -b"), and shell
 * scripts of ipvsadm commands ("ipvsadm -A ...", "ipvsadm --set 7200 120 300").
 */
export function parseIpvsadmRules(text: string, f: ConfigFacts): void {
  const byId = new Map<string, ServiceFact>()
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const ln = n + 1
    // Shell transcripts: drop a "$ " prompt, then comments.
    const words = lines[n].replace(/^\s*\$\s+/, '').replace(/#.*$/, '').trim().split(/\s+/).filter((w) => w !== '')
    if (words[0] === 'ipvsadm' || words[0]?.endsWith('/ipvsadm')) words.shift()
    if (words.length === 0) continue
    const cmd = words[0]
    if (cmd === '--set') {
      const v = words.slice(1, 4).map(Number)
      if (v.length === 3 && v.every((x) => Number.isInteger(x) && x >= 0)) f.timeouts.push({tcp: v[0], tcpfin: v[1], udp: v[2], kind: 'set', source: {file: f.file, line: ln}})
      else warn(f, ln, '--set needs three numbers: tcp tcpfin udp')
      continue
    }
    if (cmd !== '-A' && cmd !== '-a' && cmd !== '--add-service' && cmd !== '--add-server' && cmd !== '-E' && cmd !== '-e') continue
    let proto: ServiceFact['proto'] | undefined
    let target: string | undefined
    let sched: string | undefined
    let persistence: number | undefined
    let persistFrom: ServiceFact['persistenceFrom']
    let mask: string | undefined
    let pe: string | undefined
    let ops = false
    let rs: string | undefined
    let method: FwdMethod = 'DR' // ipvsadm's default forwarding method is -g
    let weight = 1
    for (let i = 1; i < words.length; i++) {
      const w = words[i]
      const next = words[i + 1]
      if (SVC_SWITCH[w] && next !== undefined) {
        proto = SVC_SWITCH[w]
        target = words[++i]
      } else if ((w === '-s' || w === '--scheduler') && next !== undefined) sched = words[++i]
      else if (w === '-p' || w === '--persistent') {
        if (next !== undefined && /^\d+$/.test(next)) {
          persistence = Number(next)
          persistFrom = 'value'
          i++
        } else {
          persistence = 360
          persistFrom = 'default'
        }
      } else if ((w === '-M' || w === '--netmask') && next !== undefined) mask = words[++i]
      else if ((w === '--pe' || w === 'pe') && next !== undefined) pe = words[++i]
      else if (w === '-o' || w === '--ops' || w === 'ops') ops = true
      else if ((w === '-r' || w === '--real-server') && next !== undefined) rs = words[++i]
      else if (FWD_SWITCH[w]) method = FWD_SWITCH[w]
      else if ((w === '-w' || w === '--weight') && next !== undefined) weight = Number(words[++i])
    }
    if (!proto || target === undefined) {
      warn(f, ln, `${cmd} without a service (-t/-u/-f/--sctp-service)`)
      continue
    }
    const id = svcId(proto, target)
    if (cmd === '-A' || cmd === '--add-service' || cmd === '-E') {
      let svc = byId.get(id)
      if (!svc) {
        svc = {proto, dests: [], source: {file: f.file, line: ln}}
        if (proto === 'fwmark') svc.fwmark = Number(target)
        else {
          const ap = splitAddrPort(target)
          if (!ap) {
            warn(f, ln, `service "${target}" is not addr:port`)
            continue
          }
          svc.vip = ap.addr
          svc.port = ap.port
        }
        byId.set(id, svc)
        f.services.push(svc)
      }
      if (sched) svc.scheduler = sched
      if (persistence !== undefined) {
        svc.persistence = persistence
        svc.persistenceFrom = persistFrom
      }
      if (mask) svc.persistenceMask = mask
      if (pe) svc.pe = pe
      if (ops) svc.onePacket = true
      continue
    }
    const svc = byId.get(id)
    const ap = rs === undefined ? undefined : splitAddrPort(rs) ?? {addr: rs, port: 0}
    if (!svc || !ap) {
      warn(f, ln, svc ? '-a without -r <real server>' : `real server for unknown service ${target}`)
      continue
    }
    const existing = svc.dests.find((d) => d.addr === ap.addr && d.port === ap.port)
    if (existing) {
      existing.weight = weight
      existing.method = method
    } else svc.dests.push({addr: ap.addr, port: ap.port, method, weight, source: {file: f.file, line: ln}})
  }
}

/** ipvsadm -L --daemon: "master sync daemon (mcast=eth0, syncid=51)". */
export function parseIpvsadmDaemon(text: string, f: ConfigFacts): void {
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const m = /^(master|backup) sync daemon \(mcast=([^,\s)]+)(?:,\s*syncid=(\d+))?/.exec(lines[n])
    if (m) {
      const d: ConfigFacts['syncDaemons'][number] = {role: m[1] as 'master' | 'backup', iface: m[2], source: {file: f.file, line: n + 1}}
      if (m[3] !== undefined) d.syncId = Number(m[3])
      f.syncDaemons.push(d)
    }
  }
}
