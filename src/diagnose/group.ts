/**
 * Repeated findings as one: a capture of two million health checks, each reset by its checker, would otherwise
 * give two million findings that say the same thing. Findings of the same kind, sender, cause and confidence,
 * on the same service from the same client host, whose texts differ only in numbers (ports, frame numbers,
 * times, IP IDs), form a pattern; a pattern seen at least GROUP_MIN times becomes one finding with its `occurrences`,
 * the time range (`epoch` … `lastEpoch`) and the first and last occurrences' evidence as samples. Fewer stay as
 * they are, so an incident with a handful of resets reads one by one.
 */
import type {Finding} from '../report/report.js'

/** Occurrences of a pattern from which they are grouped. */
export const GROUP_MIN = 10

/** A text with every run of digits replaced: what stays the same across occurrences of a pattern. */
function shape(s: string | null): string {
  return s === null ? '' : s.replace(/\d+/g, '#')
}

/** The address of an `addr:port` or `[v6]:port` endpoint. */
function hostOf(endpoint: string): string {
  const i = endpoint.lastIndexOf(':')
  return i > 0 && /^\d+$/.test(endpoint.slice(i + 1)) ? endpoint.slice(0, i) : endpoint
}

function patternOf(f: Finding): string {
  const app = f.application
  return [
    f.kind,
    f.sender,
    f.cause,
    f.confidence,
    f.flow === null ? '' : `${hostOf(f.flow.client)}>${f.flow.service}`,
    shape(f.summary),
    f.timeline.map(shape).join('\n'),
    shape(f.realServerView),
    app === null ? '' : [app.protocol, shape(app.lastCommand), shape(app.serverError), shape(app.symptom)].join('\n'),
    shape(f.recommendation),
    f.evidence.map((e) => `${e.file}:${shape(e.what)}`).join('\n'),
  ].join('\u0000')
}

function grouped(members: Finding[]): Finding {
  const first = members[0]
  let last = first
  for (const m of members) if (m.epoch >= last.epoch) last = m
  const sameFlow = first.flow !== null && members.every((m) => m.flow?.client === first.flow?.client && m.flow?.service === first.flow?.service)
  const flow = first.flow === null || sameFlow ? first.flow : {client: hostOf(first.flow.client), service: first.flow.service}
  return {
    ...first,
    flow,
    summary: `${first.summary} — ${members.length} alike from ${first.time} to ${last.time}`,
    evidence: last === first ? first.evidence : [...first.evidence, ...last.evidence],
    occurrences: members.length,
    lastEpoch: last.epoch,
  }
}

/** `findings` (in time order) with each pattern of GROUP_MIN or more occurrences folded into its first one. */
export function groupRepeatedFindings(findings: Finding[]): Finding[] {
  const byPattern = new Map<string, Finding[]>()
  const keys: string[] = new Array(findings.length)
  findings.forEach((f, i) => {
    const k = patternOf(f)
    keys[i] = k
    const list = byPattern.get(k)
    if (list === undefined) byPattern.set(k, [f])
    else list.push(f)
  })
  const out: Finding[] = []
  findings.forEach((f, i) => {
    const members = byPattern.get(keys[i]) as Finding[]
    if (members.length < GROUP_MIN) out.push(f)
    else if (members[0] === f) out.push(grouped(members))
  })
  return out
}
