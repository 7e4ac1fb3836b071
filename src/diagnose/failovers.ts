import {micros} from '../model/timeline.js'
import type {EvidenceFrame, Finding} from '../report/report.js'
import {evidence, type Incident, isoTimeOf, refEpoch, round9} from './incident.js'
import {VIP_MOVED_NOTE} from './recommend.js'

export interface Failover {
  vip: string
  epoch: number
  fromMac: string | null
  toMac: string
  evidence: EvidenceFrame[]
}

/** Two sightings of one ARP frame in different captures are closer than this in the reference clock. */
const SAME_FRAME = 0.05

/**
 * VIP ownership over time, from ARP claims for the VIP (keepalived's gratuitous ARPs) seen in any capture;
 * the first owner is the director seen forwarding before any claim.
 */
export function findFailovers(inc: Incident): Failover[] {
  const vips = new Set(inc.topology.vips)
  const claims: {epoch: number; vip: string; mac: string; gratuitous: boolean; ev: EvidenceFrame}[] = []
  for (const cap of inc.captures) {
    for (const a of cap.scan.ledger.arps) {
      if (!vips.has(a.senderIp) || !(a.gratuitous || a.op === 2)) continue
      const epoch = refEpoch(cap, a.ref)
      claims.push({epoch, vip: a.senderIp, mac: a.senderMac, gratuitous: a.gratuitous, ev: evidence(cap, a.ref, `ARP ${a.gratuitous ? 'gratuitous ' : ''}${a.op === 2 ? 'reply' : 'request'}: ${a.senderIp} is-at ${a.senderMac}`)})
    }
  }
  claims.sort((a, b) => a.epoch - b.epoch)
  // The owner before the first claim: the director seen forwarding earliest, before that claim.
  const firstClaim = new Map<string, number>()
  for (const c of claims) if (!firstClaim.has(c.vip)) firstClaim.set(c.vip, c.epoch)
  const owner = new Map<string, {mac: string; since: number}>()
  for (const cap of inc.captures) {
    if (cap.role !== 'director') continue
    for (const c of cap.scan.ledger.connections) {
      if (c.director === null) continue
      const vip = c.service.replace(/:\d+$/, '')
      const e = refEpoch(cap, c.syn.ref)
      const cur = owner.get(vip)
      if (e < (firstClaim.get(vip) ?? Infinity) && (!cur || e < cur.since)) owner.set(vip, {mac: c.director, since: e})
    }
  }
  const out: Failover[] = []
  for (const c of claims) {
    const cur = owner.get(c.vip)
    const last = out[out.length - 1]
    if (cur && cur.mac === c.mac) {
      // A repeat claim (keepalived sends several), or the same frame seen by another capture.
      if (last && last.toMac === c.mac && last.vip === c.vip && last.evidence.length < 4 && c.epoch - last.epoch < 10) {
        if (!last.evidence.some((e) => Math.abs(e.epoch - c.ev.epoch) < SAME_FRAME && e.file === c.ev.file)) last.evidence.push(c.ev)
      }
      continue
    }
    // An ordinary ARP reply only tells who owns the VIP; a gratuitous one (or a new owner) is a move.
    if (cur === undefined && !c.gratuitous) {
      owner.set(c.vip, {mac: c.mac, since: c.epoch})
      continue
    }
    out.push({vip: c.vip, epoch: c.epoch, fromMac: cur?.mac ?? null, toMac: c.mac, evidence: [c.ev]})
    owner.set(c.vip, {mac: c.mac, since: c.epoch})
  }
  return out
}

export function failoverFindings(inc: Incident, failovers: Failover[]): Finding[] {
  return failovers.map((f) => {
    const epoch = round9(f.epoch)
    const service = inc.topology.services.find((s) => s.startsWith(`${f.vip}:`)) ?? f.vip
    return {
      kind: 'failover',
      epoch,
      time: isoTimeOf(epoch),
      flow: null,
      sender: 'director',
      cause: 'vip-moved',
      confidence: 'high',
      summary: `VIP ${f.vip} (${service}) moved${f.fromMac ? ` from ${f.fromMac}` : ''} to director ${f.toMac}`,
      evidence: f.evidence,
      timeline: [`${isoTimeOf(f.epoch)} ${f.toMac} claims ${f.vip} by ARP${f.fromMac ? `; ${f.fromMac} owned it before` : ''}`],
      realServerView: null,
      application: null,
      recommendation: VIP_MOVED_NOTE,
      events: f.evidence.map((e) => ({kind: 'failover' as const, epoch: micros(e.epoch), capture: e.file, frame: e.frame, from: f.toMac, to: f.vip})),
      rule: {name: 'vip-moved', evidence: [{name: 'an ARP claim for the VIP from a new MAC (gratuitous, or a new owner)', present: true}], decide: null},
    }
  })
}
