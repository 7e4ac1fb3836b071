import type {AppContext} from '../decode/app/stream.js'
import {type BreakKind, userSymptoms} from '../decode/app/symptom.js'
import type {Finding} from '../report/report.js'
import type {Incident} from './incident.js'
import {contextsOf} from './lookup.js'

/** The richest protocol view of a flow: a real server sees both directions, a DR director only the client's. */
function bestContext(inc: Incident, client: string, service: string, primary: AppContext | null): AppContext | null {
  let best = primary
  for (const cap of inc.captures) {
    for (const c of contextsOf(cap.scan, client, service)) {
      if (c.app === null || c.app.protocol === null) continue
      if (best === null || best.protocol === null || (c.app.lastError && !best.lastError) || c.app.commands > best.commands) best = c.app
    }
  }
  return best
}

/** Last command, server error and the message the user saw, in the user's own terms. */
export function applicationOf(
  inc: Incident,
  client: string,
  service: string,
  primary: AppContext | null,
  kind: BreakKind,
): Finding['application'] {
  const app = bestContext(inc, client, service, primary)
  if (app === null || app.protocol === null) return null
  const cmd = app.lastCommand
  const lastCommand = cmd === null ? null : `${cmd.kind}${cmd.text ? ` ${cmd.text}` : ''}${cmd.complete ? '' : ' (cut off)'}`
  const err = app.lastError
  const serverError = err === null ? null : `${err.severity ? `${err.severity} ` : ''}${err.code}${err.sqlState ? ` (${err.sqlState})` : ''}: ${err.message}`
  // A reset while a command awaited its answer is "during query" for the client, whatever the cause.
  const k: BreakKind = kind === 'reset-idle' && app.awaiting !== 'none' ? 'reset-during-query' : kind
  const symptoms = userSymptoms({protocol: app.protocol, kind: k, tls: app.opaque === 'tls', interactive: true, serverError: err})
  // One line per client program (mariadb and Oracle's mysql word it differently).
  const byClient = new Map<string, string[]>()
  for (const s of symptoms) {
    if (s.text === '') continue
    const list = byClient.get(s.client) ?? []
    if (!list.includes(s.text)) list.push(s.text)
    byClient.set(s.client, list)
  }
  const symptom = byClient.size === 0 ? null : [...byClient].map(([c, t]) => `${c}: ${t.join(' then ')}`).join('; ')
  return {protocol: app.protocol, lastCommand, serverError, symptom}
}
