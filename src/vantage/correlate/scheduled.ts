/**
 * Which real server each new connection was scheduled to, from every capture that holds the fact, whatever the
 * link type: the director's outbound copy's destination MAC (Ethernet, VLAN), else the real-server capture that
 * saw the SYN (its host's MAC), else the MAC the SYN arrived under at a real server. With `-i any` (SLL/SLL2)
 * a director's outbound copies carry no destination MAC (or its own address), so the copy alone cannot say.
 */
import type {Role} from '../../model/roles.js'
import {endpointKey, parseEndpoint, sameEndpoint, type Endpoint} from '../../model/endpoint.js'
import type {ClientPacket, LedgerData} from '../ledger.js'

export interface PlacedLedger {
  file: string
  role: Role
  /** Capture time minus reference time (s). */
  offset: number
  /** The capture host's own MACs (from the correlation). */
  macs: readonly string[]
  ledger: LedgerData
}

export interface ScheduledConnection {
  client: Endpoint
  service: Endpoint
  /** Reference-clock time of the SYN. */
  epoch: number
  /** The capture and SYN frame the connection is cited by (the director's, when one saw it). */
  file: string
  syn: ClientPacket
  /** The real server's MAC, null when no capture tells. */
  realServer: string | null
  /** Where `realServer` comes from. */
  source: 'outbound-mac' | 'real-server-capture' | 'real-server-mac' | null
  /** The real-server capture and frame that saw the SYN, when one did. */
  atRealServer: {file: string; syn: ClientPacket} | null
}

/** A SYN seen at a director and at a real server is the same connection within this much (reference clock). */
const SAME_SYN = 1

function epochOf(p: PlacedLedger, ref: ClientPacket['ref']): number {
  return ref.sec - p.offset + ref.nsec / 1e9
}

/** Every connection start of the incident, once, with the real server it went to. */
export function scheduledConnections(caps: readonly PlacedLedger[], directorMacs: ReadonlySet<string>): ScheduledConnection[] {
  // Real-server sightings of SYNs: which capture, and the MAC they arrived under; indexed by the client endpoint.
  type AtRs = {client: Endpoint; service: Endpoint; epoch: number; file: string; syn: ClientPacket; mac: string | null; used: boolean}
  const atRs: AtRs[] = []
  const byClient = new Map<string, AtRs[]>()
  for (const p of caps) {
    if (p.role !== 'real-server') continue
    const own = p.macs.find((m) => !directorMacs.has(m)) ?? null
    const arrivedUnder = new Map<number, string | null>()
    for (const o of p.ledger.vipOwnerChanges) if (!arrivedUnder.has(o.flowId)) arrivedUnder.set(o.flowId, o.dstMac)
    for (const c of p.ledger.connections) {
      const client = parseEndpoint(c.client)
      const service = parseEndpoint(c.service)
      if (client === null || service === null) continue
      const mac = own ?? arrivedUnder.get(c.flowId) ?? null
      const r: AtRs = {client, service, epoch: epochOf(p, c.syn.ref), file: p.file, syn: c.syn, mac, used: false}
      atRs.push(r)
      const k = endpointKey(client)
      const list = byClient.get(k)
      if (list === undefined) byClient.set(k, [r])
      else list.push(r)
    }
  }
  const findAtRs = (client: Endpoint, service: Endpoint, epoch: number) => {
    let best: (typeof atRs)[number] | null = null
    for (const r of byClient.get(endpointKey(client)) ?? []) {
      if (r.used || !sameEndpoint(r.client, client) || !sameEndpoint(r.service, service) || Math.abs(r.epoch - epoch) > SAME_SYN) continue
      if (best === null || Math.abs(r.epoch - epoch) < Math.abs(best.epoch - epoch)) best = r
    }
    return best
  }
  const out: ScheduledConnection[] = []
  for (const p of caps) {
    if (p.role !== 'director') continue
    for (const c of p.ledger.connections) {
      const client = parseEndpoint(c.client)
      const service = parseEndpoint(c.service)
      if (client === null || service === null) continue
      // A SYN the director did not forward was not scheduled here.
      if (c.syn.forwarded !== true) continue
      const epoch = epochOf(p, c.syn.ref)
      const rs = findAtRs(client, service, epoch)
      if (rs !== null) rs.used = true
      const byCopy = c.realServer !== null && !directorMacs.has(c.realServer) ? c.realServer : null
      const realServer = byCopy ?? rs?.mac ?? null
      const source = byCopy !== null ? 'outbound-mac' : rs === null ? null : rs.mac !== null ? 'real-server-capture' : null
      out.push({client, service, epoch, file: p.file, syn: c.syn, realServer, source, atRealServer: rs && {file: rs.file, syn: rs.syn}})
    }
  }
  // Connections only a real server saw (no director capture of them).
  for (const r of atRs) {
    if (r.used) continue
    out.push({client: r.client, service: r.service, epoch: r.epoch, file: r.file, syn: r.syn, realServer: r.mac, source: r.mac === null ? null : 'real-server-mac', atRealServer: {file: r.file, syn: r.syn}})
  }
  return out.sort((a, b) => a.epoch - b.epoch)
}
