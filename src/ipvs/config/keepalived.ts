/**
 * keepalived.conf: global_defs (lvs_timeouts, lvs_sync_daemon), vrrp_instance (deprecated
 * lvs_sync_daemon_interface), virtual_server / virtual_server_group with their real_servers.
 * Comments (# and !) are stripped, braces may be glued to words or on their own line, includes are
 * not followed (noted).
 */
import {DEFAULT_PERSISTENCE, type FwdMethod} from '../state.js'
import {warn, type ConfigFacts, type DestFact, type ServiceFact, type SourceRef} from './types.js'

interface Node {
  words: string[]
  line: number
  children: Node[] | undefined
}

const MAX_DEPTH = 64

/** Statements and blocks. Unbalanced braces give warnings, never an exception. */
function parseTree(text: string, f: ConfigFacts): Node[] {
  const root: Node[] = []
  const stack: Node[][] = [root]
  let last: Node | undefined
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const tokens: string[] = []
    // Split braces off words; a # or ! at the start of a token starts a comment (keepalived's rule).
    for (const raw of lines[n].split(/\s+/)) {
      if (raw === '') continue
      if (raw[0] === '#' || raw[0] === '!') break
      for (const part of raw.split(/([{}])/)) if (part !== '') tokens.push(part)
    }
    let cur: Node | undefined
    for (const tok of tokens) {
      const level = stack[stack.length - 1]
      if (tok === '{') {
        const owner = cur ?? last
        if (!owner || owner.children) {
          warn(f, n + 1, 'block without a keyword')
          const anon: Node = {words: [], line: n + 1, children: []}
          level.push(anon)
          stack.push(anon.children as Node[])
        } else if (stack.length > MAX_DEPTH) {
          warn(f, n + 1, 'blocks nested too deeply; rest of this block ignored')
          owner.children = []
          stack.push([])
        } else {
          owner.children = []
          stack.push(owner.children)
        }
        cur = undefined
        last = undefined
      } else if (tok === '}') {
        if (stack.length > 1) stack.pop()
        else warn(f, n + 1, 'unmatched "}"')
        cur = undefined
        last = undefined
      } else {
        if (!cur) {
          cur = {words: [], line: n + 1, children: undefined}
          level.push(cur)
        }
        cur.words.push(tok)
      }
    }
    if (cur) last = cur
  }
  if (stack.length > 1) warn(f, lines.length, `${stack.length - 1} block(s) not closed at end of file`)
  return root
}

const LB_KIND: Readonly<Record<string, FwdMethod>> = {DR: 'DR', NAT: 'NAT', TUN: 'TUN'}

function num(s: string | undefined): number | undefined {
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined
}

function ref(f: ConfigFacts, line: number): SourceRef {
  return {file: f.file, line}
}

function globalDefs(node: Node, f: ConfigFacts): void {
  for (const st of node.children ?? []) {
    const [kw, ...args] = st.words
    if (kw === 'lvs_timeouts') {
      const t = {tcp: 0, tcpfin: 0, udp: 0}
      for (let i = 0; i < args.length; i += 2) {
        const key = args[i]
        const v = num(args[i + 1])
        if ((key === 'tcp' || key === 'tcpfin' || key === 'udp') && v !== undefined) t[key] = v
        else warn(f, st.line, `lvs_timeouts: "${args.slice(i, i + 2).join(' ')}" is not "tcp|tcpfin|udp <seconds>"`)
      }
      f.timeouts.push({...t, kind: 'set', source: ref(f, st.line)})
    } else if (kw === 'lvs_sync_daemon') {
      if (args.length === 0) {
        warn(f, st.line, 'lvs_sync_daemon without an interface')
        continue
      }
      const d: ConfigFacts['syncDaemons'][number] = {role: 'unknown', iface: args[0], source: ref(f, st.line)}
      const keywords = new Set(['id', 'maxlen', 'port', 'ttl', 'group'])
      let i = 1
      if (args[i] === 'inst') i++
      if (args[i] !== undefined && !keywords.has(args[i])) d.vrrpInstance = args[i++]
      for (; i < args.length; i++) if (args[i] === 'id' && num(args[i + 1]) !== undefined) d.syncId = num(args[++i])
      // Master while the VRRP instance is MASTER, backup otherwise; with no instance both run.
      d.role = d.vrrpInstance ? 'unknown' : 'both'
      f.syncDaemons.push(d)
    }
  }
}

function realServer(st: Node, svcKind: FwdMethod, svcInhibit: boolean, f: ConfigFacts): DestFact | undefined {
  const addr = st.words[1]
  if (addr === undefined) {
    warn(f, st.line, 'real_server without an address')
    return undefined
  }
  const d: DestFact = {addr, port: num(st.words[2]) ?? 0, method: svcKind, weight: 1, source: ref(f, st.line)}
  if (svcInhibit) d.inhibitOnFailure = true
  for (const c of st.children ?? []) {
    const [kw, v] = c.words
    if (kw === 'weight') {
      const w = num(v)
      if (w === undefined) warn(f, c.line, `weight "${v ?? ''}" is not a number`)
      else d.weight = w
    } else if (kw === 'inhibit_on_failure') d.inhibitOnFailure = v === undefined || v === 'true' || v === 'on' || v === 'yes'
    else if ((kw === 'lvs_method' || kw === 'lb_kind') && v !== undefined && LB_KIND[v.toUpperCase()]) d.method = LB_KIND[v.toUpperCase()]
  }
  return d
}

function virtualServer(node: Node, f: ConfigFacts, groups: Map<string, Node>): void {
  const [, a, b] = node.words
  const svc: ServiceFact = {proto: 'tcp', dests: [], source: ref(f, node.line)}
  const targets: {vip?: string; port?: number; fwmark?: number}[] = []
  if (a === 'fwmark') {
    svc.proto = 'fwmark'
    svc.fwmark = num(b)
  } else if (a === 'group') {
    svc.group = b
    const g = b === undefined ? undefined : groups.get(b)
    if (!g) warn(f, node.line, `virtual_server group "${b ?? ''}" has no virtual_server_group block`)
    for (const m of g?.children ?? []) {
      if (m.words[0] === 'fwmark') targets.push({fwmark: num(m.words[1])})
      else if (m.words[0] !== undefined) {
        if (m.words[0].includes('-') && !m.words[0].includes(':')) f.notes.push(`${f.file}:${m.line}: address range "${m.words[0]}" kept as written`)
        targets.push({vip: m.words[0], port: num(m.words[1]) ?? 0})
      }
    }
  } else if (a !== undefined) {
    svc.vip = a
    svc.port = num(b) ?? 0
  } else {
    warn(f, node.line, 'virtual_server without an address')
    return
  }
  let kind: FwdMethod = 'NAT' // keepalived's default lb_kind
  let kindSet = false
  let inhibit = false
  const reals: Node[] = []
  for (const st of node.children ?? []) {
    const [kw, v] = st.words
    switch (kw) {
      case 'lb_algo':
      case 'lvs_sched':
        svc.scheduler = v
        break
      case 'lb_kind':
      case 'lvs_method':
        if (v !== undefined && LB_KIND[v.toUpperCase()]) {
          kind = LB_KIND[v.toUpperCase()]
          kindSet = true
        } else warn(f, st.line, `${kw} "${v ?? ''}" is not DR, NAT or TUN`)
        break
      case 'protocol':
        if (svc.proto !== 'fwmark') svc.proto = v?.toUpperCase() === 'UDP' ? 'udp' : v?.toUpperCase() === 'SCTP' ? 'sctp' : 'tcp'
        break
      case 'persistence_timeout': {
        const p = num(v)
        svc.persistence = p ?? DEFAULT_PERSISTENCE
        svc.persistenceFrom = p === undefined ? 'default' : 'value'
        break
      }
      case 'persistence_granularity':
        if (v !== undefined) svc.persistenceMask = v
        if (svc.persistence === undefined) {
          // The granularity handler turns persistence on with the default timeout.
          svc.persistence = DEFAULT_PERSISTENCE
          svc.persistenceFrom = 'default'
        }
        break
      case 'inhibit_on_failure':
        inhibit = v === undefined || v === 'true' || v === 'on' || v === 'yes'
        break
      case 'ops':
        svc.onePacket = true
        break
      case 'real_server':
        reals.push(st)
        break
      case 'sorry_server':
        f.notes.push(`${f.file}:${st.line}: sorry_server ${st.words.slice(1).join(' ')} (used when no real server is alive)`)
        break
      default:
        break
    }
  }
  if (!kindSet) f.notes.push(`${f.file}:${node.line}: virtual_server has no lb_kind; keepalived defaults to NAT`)
  for (const st of reals) {
    const d = realServer(st, kind, inhibit, f)
    if (d) svc.dests.push(d)
  }
  if (targets.length === 0) f.services.push(svc)
  else for (const t of targets) f.services.push({...svc, proto: t.fwmark !== undefined ? 'fwmark' : svc.proto, ...t, dests: svc.dests.map((d) => ({...d}))})
}

export function parseKeepalived(text: string, f: ConfigFacts): void {
  const tree = parseTree(text, f)
  const groups = new Map<string, Node>()
  for (const node of tree) if (node.words[0] === 'virtual_server_group' && node.words[1] !== undefined) groups.set(node.words[1], node)
  for (const node of tree) {
    const kw = node.words[0]
    if (kw === 'include') f.notes.push(`${f.file}:${node.line}: include ${node.words.slice(1).join(' ')} not followed; pass that file too`)
    else if (kw === 'global_defs') globalDefs(node, f)
    else if (kw === 'virtual_server') virtualServer(node, f, groups)
    else if (kw === 'vrrp_instance') {
      for (const st of node.children ?? []) {
        if (st.words[0] === 'lvs_sync_daemon_interface' && st.words[1] !== undefined)
          f.syncDaemons.push({role: 'unknown', iface: st.words[1], vrrpInstance: node.words[1], deprecated: true, source: ref(f, st.line)})
      }
    }
  }
}
