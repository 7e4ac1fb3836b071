/** Caps the scans hit and ambiguities the timeouts leave open, as typed warnings for the report and terminal. */
import type {EffectiveTimeouts} from '../ipvs/timeouts.js'
import type {AnalysisWarning} from '../model/warning.js'
import type {CaptureScan} from '../vantage/scan.js'

/** The ledger keeps its first 100 000 events of each kind; the scan its first 256 services (vantage/). */
const LEDGER_CAP = 100_000
const SERVICES_CAP = 256

export function capWarnings(scans: readonly CaptureScan[]): AnalysisWarning[] {
  const out: AnalysisWarning[] = []
  for (const s of scans) {
    const l = s.ledger
    const full = (n: number, code: AnalysisWarning['code'], what: string): void => {
      if (n >= LEDGER_CAP) out.push({code, message: `${s.file}: only the first ${LEDGER_CAP.toLocaleString('en')} ${what} were kept; later ones are not diagnosed`, capture: s.file})
    }
    full(l.connections.length, 'cap-connections', 'connection starts')
    full(l.stalls.length, 'cap-stalls', 'stalls')
    full(l.arps.length, 'cap-arp-claims', 'ARP frames')
    full(l.vipOwnerChanges.length, 'cap-owner-changes', 'changes of a client\'s VIP destination MAC')
    if (l.eventsDropped > 0) out.push({code: 'events-dropped', message: `${s.file}: ${l.eventsDropped} reset(s) beyond the first ${LEDGER_CAP.toLocaleString('en')} were counted but not diagnosed`, capture: s.file})
    if (s.artifacts.services.length >= SERVICES_CAP) out.push({code: 'cap-services', message: `${s.file}: only the first ${SERVICES_CAP} virtual services were kept; the captures may hold more`, capture: s.file})
  }
  return out
}

export function timeoutWarnings(t: EffectiveTimeouts): AnalysisWarning[] {
  const out: AnalysisWarning[] = []
  for (const a of t.alternatives) {
    out.push({
      code: 'timeouts-ambiguous',
      message: `${a.field} could also be ${a.value} s (${a.source}) if ${a.condition}`,
      capture: null,
      decide: /keepalived/.test(a.condition) ? 'pass --keepalived-version to decide' : 'give a capture that shows an entry surviving or expiring',
    })
  }
  for (const n of t.notes) {
    const decide = /--keepalived-version/.test(n) ? 'pass --keepalived-version to decide' : undefined
    out.push(decide ? {code: 'timeouts-note', message: n, capture: null, decide} : {code: 'timeouts-note', message: n, capture: null})
  }
  return out
}
