/**
 * Persistence templates (M5, ipvs-model.md §4): the key a client maps to, and when a template
 * disappears given the connections it controlled. A template is re-armed only by a NEW controlled
 * connection; when its timer fires while it still controls entries it re-arms for 60 s (expire_later),
 * and from then on its own timeout stays 60 s, so later new connections re-arm it to t + 60.
 */
import {maskAddress} from './addr.js'
import {TEMPLATE_RECHECK} from './state.js'

export interface PersistentServiceKey {
  proto: 'tcp' | 'udp' | 'sctp'
  vip: string
  /** Service port; 0 for an "all ports" service. */
  port: number
  /** fwmark service: the template is keyed on the mark, protocol IP, port 0. */
  fwmark?: number
  /** Persistence netmask (IPv4 dotted or prefix length; IPv6 prefix length). Default: host (/32, /128). */
  mask?: string | number
}

/**
 * Template key as ipvsadm -Lnc shows it: "<PROTO> <caddr&mask>:0 <vaddr>:<vport>". Port 0 for port-0,
 * FTP (21) and fwmark services; fwmark templates are protocol IP with the mark as a dotted quad.
 */
export function templateKey(svc: PersistentServiceKey, caddr: string): string {
  const client = maskAddress(caddr, svc.mask)
  const c = client.includes(':') ? `[${client}]` : client
  if (svc.fwmark !== undefined) {
    const m = svc.fwmark >>> 0
    return `IP ${c}:0 ${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}:0`
  }
  const vport = svc.port === 0 || svc.port === 21 ? 0 : svc.port
  const v = svc.vip.includes(':') ? `[${svc.vip}]` : svc.vip
  return `${svc.proto.toUpperCase()} ${c}:0 ${v}:${vport}`
}

// Times are float seconds; a (C − E0)/60 that is an integer up to rounding must not gain a cycle.
const EPS = 1e-9

/** A connection the template controls: created at `start`, its entry removed at `end`. */
export interface ControlledConn {
  start: number
  end: number
  /** When the connection first reached ESTABLISHED (marks the template ASSURED). */
  establishedAt?: number
  /** Caller's id, carried into the result. */
  id?: number
}

export interface TemplateLife {
  index: number
  /** Created by the first connection that found no template (a fresh scheduling decision). */
  start: number
  /** Last new controlled connection. */
  lastNew: number
  /** Template timeout at lastNew (p, or 60 if it had cycled before then). */
  tauAtLastNew: number
  /** lastNew + tauAtLastNew. */
  armedUntil: number
  /** When the template left the table. */
  removedAt: number
  /** How many 60 s expire_later cycles it went through. */
  cycles: number
  /** Time of the first expire_later cycle (the template's timeout became 60 s), if any. */
  firstCycleAt: number | undefined
  assuredAt: number | undefined
  /** Indices into the input array of the connections it controlled. */
  conns: number[]
}

interface Work {
  life: TemplateLife
  expiresAt: number
  tmo: number
  lastEnd: number
}

/** Run the template's timers up to time t (exclusive of new arrivals at t: a timer due at t fires first). */
function settle(w: Work, t: number): boolean {
  const life = w.life
  while (w.expiresAt <= t) {
    const e = w.expiresAt
    if (w.lastEnd <= e) {
      life.removedAt = e
      return false
    }
    // expire_later: re-arm in 60 s steps while a controlled entry lives; jump straight to the answer.
    w.tmo = TEMPLATE_RECHECK
    if (life.firstCycleAt === undefined) life.firstCycleAt = e
    const kFinal = Math.ceil((w.lastEnd - e) / TEMPLATE_RECHECK - EPS)
    const eFinal = e + TEMPLATE_RECHECK * kFinal
    if (eFinal <= t) {
      life.cycles += kFinal
      life.removedAt = eFinal
      w.expiresAt = eFinal
      return false
    }
    const k = Math.floor((t - e) / TEMPLATE_RECHECK + EPS) + 1
    life.cycles += k
    w.expiresAt = e + TEMPLATE_RECHECK * k
  }
  return true
}

/**
 * Template lives for one template key under persistence timeout p, given its connections (any order).
 * Each life ends at `removedAt`; a connection starting at or after it creates a new template (and is
 * therefore scheduled afresh, possibly to another real server).
 */
export function buildTemplateTimeline(conns: readonly ControlledConn[], persistence: number): TemplateLife[] {
  const order = conns.map((_, i) => i).sort((a, b) => conns[a].start - conns[b].start)
  const lives: TemplateLife[] = []
  let w: Work | undefined
  for (const i of order) {
    const c = conns[i]
    const alive = w !== undefined && settle(w, c.start)
    if (w && alive) {
      w.life.lastNew = c.start
      w.life.tauAtLastNew = w.tmo
      w.expiresAt = c.start + w.tmo
      w.life.armedUntil = w.expiresAt
      w.lastEnd = Math.max(w.lastEnd, c.end)
      w.life.conns.push(i)
    } else {
      const life: TemplateLife = {
        index: lives.length,
        start: c.start,
        lastNew: c.start,
        tauAtLastNew: persistence,
        armedUntil: c.start + persistence,
        removedAt: Infinity,
        cycles: 0,
        firstCycleAt: undefined,
        assuredAt: undefined,
        conns: [i],
      }
      lives.push(life)
      w = {life, expiresAt: c.start + persistence, tmo: persistence, lastEnd: c.end}
    }
    if (c.establishedAt !== undefined) {
      const a = w.life.assuredAt
      w.life.assuredAt = a === undefined ? c.establishedAt : Math.min(a, c.establishedAt)
    }
  }
  if (w) settle(w, Infinity)
  return lives
}

/** Would a SYN at time t be scheduled afresh (no template in the table)? */
export function wouldReschedule(lives: readonly TemplateLife[], t: number): boolean {
  return !lives.some((l) => t > l.start && t < l.removedAt)
}
