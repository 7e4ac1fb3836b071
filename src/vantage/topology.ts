import type {ReportTopology, Role} from '../report/report.js'
import type {CaptureScan} from './scan.js'

export interface RoledScan {
  scan: CaptureScan
  role: Role
}

/** Merge what each capture saw of the LVS topology: VIPs, services, director and real-server MACs. */
export function buildTopology(captures: readonly RoledScan[]): ReportTopology {
  const services = new Map<string, number>()
  const directors = new Map<string, {ips: Set<string>; captures: Set<string>}>()
  const realServers = new Map<string, string>()
  let dr = 0
  let tun = 0
  let nat = 0
  for (const {scan} of captures) {
    const a = scan.artifacts
    for (const s of a.services) services.set(s.service, (services.get(s.service) ?? 0) + s.copies)
    for (const m of a.directorMacs) {
      const d = directors.get(m) ?? {ips: new Set<string>(), captures: new Set<string>()}
      d.captures.add(scan.file)
      directors.set(m, d)
    }
    for (const r of a.realServers) if (!realServers.has(r.realServer)) realServers.set(r.realServer, '')
    if (a.forwarding === 'DR') dr += a.drCopies
    if (a.forwarding === 'TUN') tun += a.drCopies
    if (a.forwarding === 'NAT') nat += a.drCopies
  }
  const vips = new Set([...services.keys()].map((s) => s.replace(/:\d+$/, '')))
  // Services seen only as SYN destinations (real-server or client captures without a director capture).
  if (services.size === 0) {
    for (const {scan} of captures) for (const c of scan.ledger.connections) services.set(c.service, (services.get(c.service) ?? 0) + 1)
    for (const s of services.keys()) vips.add(s.replace(/:\d+$/, ''))
  }
  // ARP tells who claims which address: a VIP claim names a director; any other claim names a host's own IP.
  for (const {scan} of captures) {
    for (const a of scan.ledger.arps) {
      if (vips.has(a.senderIp)) {
        const d = directors.get(a.senderMac) ?? {ips: new Set<string>(), captures: new Set<string>()}
        d.ips.add(a.senderIp)
        d.captures.add(scan.file)
        directors.set(a.senderMac, d)
      } else if (realServers.has(a.senderMac) && realServers.get(a.senderMac) === '') {
        realServers.set(a.senderMac, a.senderIp)
      } else if (directors.has(a.senderMac)) {
        directors.get(a.senderMac)?.ips.add(a.senderIp)
      }
    }
  }
  for (const [, d] of directors) for (const v of vips) if (d.ips.size === 0) d.ips.add(v)
  const forwarding = dr + tun + nat === 0 ? 'unknown' : tun > dr && tun > nat ? 'TUN' : nat > dr ? 'NAT' : 'DR'
  return {
    services: [...services.keys()].sort(),
    vips: [...vips].sort(),
    forwarding,
    directors: [...directors].map(([mac, d]) => ({mac, ips: [...d.ips].sort(), captures: [...d.captures].sort()})),
    realServers: [...realServers].map(([mac, ip]) => ({mac, ip})),
  }
}
