/**
 * A small IPVS table simulator for the tests: it applies `decide()` (M3) with timers, persistence templates (M5)
 * and real-server changes (M6), so the decisions are checked over time, as a director would make them.
 */
import {kernelTraits, type KernelTraits} from '../../src/ipvs/kernel.js'
import {decide, type DecisionReason, type DirectorConfig} from '../../src/ipvs/director.js'
import {
  DEFAULT_PERSISTENCE,
  TEMPLATE_RECHECK,
  defaultStateTimeouts,
  flagClass,
  nextTcpState,
  timeoutFor,
  usesInputOnly,
  type EntryState,
  type FlagClass,
  type FwdMethod,
  type StateTimeouts,
  type TcpState,
} from '../../src/ipvs/state.js'
import {templateKey} from '../../src/ipvs/template.js'


export interface DestSpec {
  id: string
  weight: number
  method?: FwdMethod
}

export interface ServiceSpec {
  proto: 'tcp' | 'udp'
  vip: string
  port: number
  fwmark?: number
  /** Persistence timeout in seconds; absent = not persistent. */
  persistence?: number
  mask?: string | number
  dests: DestSpec[]
}

export interface SimPacket {
  t: number
  proto: 'tcp' | 'udp'
  caddr: string
  cport: number
  vaddr: string
  vport: number
  /** TCP flag bits; ignored for UDP. */
  flags: number
}

export type Verdict =
  | {action: 'forward'; reason: DecisionReason; rs: string; created: boolean; previousRs?: string; state: EntryState; expiresAt: number; template?: string}
  | {action: 'drop'; reason: DecisionReason; rs?: string}
  | {action: 'local'; reason: DecisionReason; rst: boolean}
  | {action: 'icmp-unreachable'; reason: 'no-available-dest'}

interface Dest {
  id: string
  weight: number
  method: FwdMethod
  available: boolean
}

interface Service {
  spec: ServiceSpec
  key: string
  dests: Dest[]
  rr: number
}

export interface SimEntry {
  key: string
  template: boolean
  rs: string
  state: EntryState | 'ASSURED'
  expiresAt: number
  nControl: number
  invalid: boolean
}

interface Entry {
  key: string
  svc: Service
  dest: Dest
  state: EntryState
  expiresAt: number
  control: Tmpl | undefined
}

interface Tmpl {
  key: string
  svc: Service
  dest: Dest
  tmo: number
  expiresAt: number
  nControl: number
  assured: boolean
  invalid: boolean
}

function svcKey(proto: string, vip: string, port: number): string {
  return `${proto} ${vip}:${port}`
}

export class Director {
  readonly traits: KernelTraits
  private readonly cfg: DirectorConfig
  private readonly tmo: StateTimeouts
  private readonly services = new Map<string, Service>()
  private readonly conns = new Map<string, Entry>()
  private readonly templates = new Map<string, Tmpl>()
  /** Invalidated templates linger until their own timer (shown as VIP:65535). */
  private readonly invalidTemplates = new Set<Tmpl>()
  private now = -Infinity

  constructor(services: readonly ServiceSpec[], cfg: DirectorConfig = {}) {
    this.cfg = cfg
    this.traits = kernelTraits(cfg.kernel, cfg.stableBackports)
    this.tmo = cfg.timeouts ?? defaultStateTimeouts()
    for (const s of services) this.addService(s)
  }

  addService(spec: ServiceSpec): void {
    const key = spec.fwmark !== undefined ? `fwm ${spec.fwmark}` : svcKey(spec.proto, spec.vip, spec.port)
    this.services.set(key, {spec, key, dests: spec.dests.map((d) => ({id: d.id, weight: d.weight, method: d.method ?? 'DR', available: true})), rr: 0})
  }

  private findService(p: SimPacket): Service | undefined {
    return this.services.get(svcKey(p.proto, p.vaddr, p.vport)) ?? this.services.get(svcKey(p.proto, p.vaddr, 0))
  }

  private findDest(vip: string, port: number, proto: 'tcp' | 'udp', id: string): Dest | undefined {
    return this.services.get(svcKey(proto, vip, port))?.dests.find((d) => d.id === id)
  }

  /** `ipvsadm -d`: the dest leaves the service at once (AVAILABLE cleared); its entries keep pointing at it. */
  deleteDest(t: number, proto: 'tcp' | 'udp', vip: string, port: number, id: string): void {
    this.advance(t)
    const svc = this.services.get(svcKey(proto, vip, port))
    const d = svc?.dests.find((x) => x.id === id)
    if (!svc || !d) return
    d.available = false
    svc.dests = svc.dests.filter((x) => x !== d)
    // ≥ 5.9: expire_nodest_conn=1 flushes dead-dest entries ~1 jiffy later (modelled as immediate).
    if (this.cfg.expireNodestConn && this.traits.nodestReschedule) this.nodestFlush()
  }

  /** Re-adding a dest that is still referenced (trash) makes its surviving entries forward again. */
  addDest(t: number, proto: 'tcp' | 'udp', vip: string, port: number, spec: DestSpec): void {
    this.advance(t)
    const svc = this.services.get(svcKey(proto, vip, port))
    if (!svc) return
    const old = [...this.conns.values()].find((c) => c.svc === svc && c.dest.id === spec.id)?.dest
    const d: Dest = old ?? {id: spec.id, weight: spec.weight, method: spec.method ?? 'DR', available: true}
    d.available = true
    d.weight = spec.weight
    if (!svc.dests.includes(d)) svc.dests.push(d)
  }

  /** `ipvsadm -e -w N` / keepalived inhibit_on_failure (weight 0 keeps AVAILABLE). */
  setWeight(t: number, proto: 'tcp' | 'udp', vip: string, port: number, id: string, weight: number): void {
    this.advance(t)
    const d = this.findDest(vip, port, proto, id)
    if (d) d.weight = weight
  }

  /** `ipvsadm -D`: all dests are trashed; on ≥ 5.9 the last service also unregisters the hooks. */
  deleteService(t: number, proto: 'tcp' | 'udp', vip: string, port: number): void {
    this.advance(t)
    const svc = this.services.get(svcKey(proto, vip, port))
    if (!svc) return
    for (const d of svc.dests) d.available = false
    svc.dests = []
    this.services.delete(svc.key)
    if (this.cfg.expireNodestConn && this.traits.nodestReschedule) this.nodestFlush()
  }

  private nodestFlush(): void {
    for (const c of [...this.conns.values()]) {
      if (c.dest.available) continue
      this.removeConn(c)
      const ct = c.control
      if (ct && ct.nControl === 0) this.removeTemplate(ct)
    }
    for (const ct of [...this.templates.values(), ...this.invalidTemplates]) {
      if (!ct.dest.available && ct.nControl === 0) this.removeTemplate(ct)
    }
  }

  private removeConn(c: Entry): void {
    this.conns.delete(c.key)
    if (c.control) c.control.nControl--
  }

  private removeTemplate(ct: Tmpl): void {
    if (this.templates.get(ct.key) === ct) this.templates.delete(ct.key)
    this.invalidTemplates.delete(ct)
  }

  /** Fire every timer due at or before t, earliest first; connections before templates at the same instant. */
  advance(t: number): void {
    if (t > this.now) this.now = t
    for (;;) {
      let conn: Entry | undefined
      for (const c of this.conns.values()) if (c.expiresAt <= t && (!conn || c.expiresAt < conn.expiresAt)) conn = c
      let tmpl: Tmpl | undefined
      for (const ct of [...this.templates.values(), ...this.invalidTemplates]) if (ct.expiresAt <= t && (!tmpl || ct.expiresAt < tmpl.expiresAt)) tmpl = ct
      if (conn && (!tmpl || conn.expiresAt <= tmpl.expiresAt)) {
        this.removeConn(conn)
      } else if (tmpl) {
        if (tmpl.nControl > 0) {
          // expire_later: keep it while it controls connections, re-checking every 60 s.
          tmpl.tmo = TEMPLATE_RECHECK
          tmpl.expiresAt += TEMPLATE_RECHECK
        } else this.removeTemplate(tmpl)
      } else return
    }
  }

  private schedule(svc: Service, p: SimPacket, prev: string | undefined, reason: DecisionReason): Verdict {
    const spec = svc.spec
    let dest: Dest | undefined
    let ct: Tmpl | undefined
    if (spec.persistence !== undefined) {
      const tk = templateKey({proto: spec.proto, vip: spec.vip, port: spec.port, fwmark: spec.fwmark, mask: spec.mask}, p.caddr)
      ct = this.templates.get(tk)
      if (ct && (!ct.dest.available || (this.cfg.expireQuiescentTemplate && ct.dest.weight === 0))) {
        ct.invalid = true
        this.templates.delete(tk)
        this.invalidTemplates.add(ct)
        ct = undefined
      }
      if (!ct) {
        dest = this.pick(svc)
        if (!dest) return {action: 'icmp-unreachable', reason: 'no-available-dest'}
        ct = {key: tk, svc, dest, tmo: spec.persistence || DEFAULT_PERSISTENCE, expiresAt: p.t, nControl: 0, assured: false, invalid: false}
        this.templates.set(tk, ct)
      }
      dest = ct.dest
      ct.nControl++
      ct.expiresAt = p.t + ct.tmo
    } else {
      dest = this.pick(svc)
      if (!dest) return {action: 'icmp-unreachable', reason: 'no-available-dest'}
    }
    const e: Entry = {key: connKey(p), svc, dest, state: p.proto === 'udp' ? 'UDP' : 'NONE', expiresAt: p.t, control: ct}
    this.conns.set(e.key, e)
    return this.forward(e, p, true, prev, reason)
  }

  /** Round-robin over available dests with weight > 0 (deterministic, enough for what-if questions). */
  private pick(svc: Service): Dest | undefined {
    const live = svc.dests.filter((d) => d.available && d.weight > 0)
    if (live.length === 0) return undefined
    return live[svc.rr++ % live.length]
  }

  private forward(e: Entry, p: SimPacket, created: boolean, prev: string | undefined, reason: DecisionReason): Verdict {
    if (p.proto === 'tcp') {
      const dir = usesInputOnly(e.dest.method) ? 'input-only' : 'input'
      e.state = nextTcpState(e.state as TcpState, flagClass(p.flags), dir, {ackNoneIsClose: this.traits.ackNoneIsClose})
      if (e.state === 'ES' && e.control) e.control.assured = true
    }
    e.expiresAt = p.t + timeoutFor(this.tmo, e.state)
    const v: Verdict = {action: 'forward', reason, rs: e.dest.id, created, state: e.state, expiresAt: e.expiresAt}
    if (prev !== undefined) v.previousRs = prev
    if (e.control) v.template = e.control.key
    return v
  }

  /** Process one client→VIP packet at p.t (timers due before it fire first). */
  packet(p: SimPacket): Verdict {
    this.advance(p.t)
    const svc = this.findService(p)
    const cp = this.conns.get(connKey(p))
    const cls: FlagClass = p.proto === 'udp' ? 'ack' : flagClass(p.flags)
    const d = decide(
      {
        cls,
        proto: p.proto,
        entry: cp && {state: cp.state, destAvailable: cp.dest.available, destWeight: cp.dest.weight, controlled: cp.control !== undefined, noOutput: usesInputOnly(cp.dest.method)},
        serviceExists: svc !== undefined,
        anyService: this.services.size > 0,
      },
      this.cfg,
      this.traits,
    )
    if (d.expiresEntry && cp) this.removeConn(cp)
    switch (d.action) {
      case 'forward':
        return this.forward(cp as Entry, p, false, undefined, 'entry')
      case 'drop':
        return {action: 'drop', reason: d.reason, rs: cp?.dest.id}
      case 'local':
        return {action: 'local', reason: d.reason, rst: d.localRst}
      case 'schedule':
        return this.schedule(svc as Service, p, d.expiresEntry ? cp?.dest.id : undefined, d.reason)
    }
  }

  /** The table as ipvsadm -Lnc would list it (templates show NONE/ASSURED). */
  entries(): SimEntry[] {
    const out: SimEntry[] = []
    for (const c of this.conns.values()) out.push({key: c.key, template: false, rs: c.dest.id, state: c.state, expiresAt: c.expiresAt, nControl: 0, invalid: false})
    for (const ct of [...this.templates.values(), ...this.invalidTemplates])
      out.push({key: ct.key, template: true, rs: ct.dest.id, state: ct.assured ? 'ASSURED' : 'NONE', expiresAt: ct.expiresAt, nControl: ct.nControl, invalid: ct.invalid})
    return out
  }

  conn(p: Pick<SimPacket, 'proto' | 'caddr' | 'cport' | 'vaddr' | 'vport'>): SimEntry | undefined {
    return this.entries().find((e) => !e.template && e.key === connKey(p))
  }

  template(key: string): SimEntry | undefined {
    return this.entries().find((e) => e.template && e.key === key && !e.invalid)
  }
}

export function connKey(p: Pick<SimPacket, 'proto' | 'caddr' | 'cport' | 'vaddr' | 'vport'>): string {
  return `${p.proto.toUpperCase()} ${p.caddr}:${p.cport} ${p.vaddr}:${p.vport}`
}
