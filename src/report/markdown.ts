import {escapeMarkdown as md, escapeMarkdownOwn as ours} from './escape/markdown.js'
import type {Report} from './report.js'
import {wiresharkFilters} from './wireshark.js'

function row(cells: (string | number)[]): string {
  return `| ${cells.map((c) => (typeof c === 'number' ? String(c) : c)).join(' | ')} |`
}

/** A report to paste into a ticket: the same content as the terminal output, as Markdown. */
export function renderMarkdown(r: Report): string {
  const out: string[] = ['# lvscope report', '', `**Verdict:** ${md(r.verdict)}`, '', '## Captures', '']
  out.push(row(['capture', 'role', 'packets', 'clock offset', 'why']), row(['---', '---', '---:', '---', '---']))
  for (const c of r.captures) {
    const off = c.clockSource === 'reference' ? 'reference' : `${c.clockOffsetSeconds.toFixed(6)} s ± ${(c.clockOffsetUncertainty * 1e3).toFixed(3)} ms (${c.clockSource})`
    out.push(row([md(c.file), c.role, c.packets, off, md(c.roleReason)]))
  }
  const t = r.timeouts
  out.push(
    '',
    '## IPVS timeouts',
    '',
    `tcp ${t.tcp} s, tcpfin ${t.tcpfin} s, udp ${t.udp} s${t.persistence === null ? '' : `, persistence ${t.persistence} s`} — ${md(t.source)}`,
  )
  if (t.bounds.tcp) out.push('', `The captures bound the tcp timeout: an entry survived ${t.bounds.tcp.survived ?? '-'} s of silence; one died after ${t.bounds.tcp.killed ?? '-'} s.`)
  for (const c of t.contradictions) out.push('', `Contradiction: ${md(c)}`)
  const a = r.artifacts
  out.push(
    '',
    '## Wireshark artifacts',
    '',
    `${a.wiresharkFlags.total} TCP analysis flags, of which ${a.wiresharkFlags.artifacts} are capture artifacts (${a.drCopies} DR copies, ${a.spanDuplicates} mirror duplicates); genuine retransmissions: ${a.genuineRetransmissions}.`,
    '',
    '## Findings',
    '',
  )
  if (r.findings.length === 0) {
    out.push('None.')
    return `${out.join('\n')}\n`
  }
  out.push(row(['#', 'time (UTC)', 'kind', 'flow', 'sender', 'cause', 'confidence']), row(['---:', '---', '---', '---', '---', '---', '---']))
  r.findings.forEach((f, i) => {
    out.push(row([i + 1, f.time, f.kind, f.flow ? `${md(f.flow.client)} → ${md(f.flow.service)}` : '-', f.sender, f.cause, f.confidence]))
  })
  r.findings.forEach((f, i) => {
    out.push('', `### ${i + 1}. ${md(f.summary)}`, '')
    for (const line of f.timeline) out.push(`- ${md(line)}`)
    if (f.realServerView) out.push(`- Real server: ${md(f.realServerView)}`)
    const app = f.application
    if (app?.lastCommand) out.push(`- Last ${app.protocol} command: ${md(app.lastCommand)}`)
    if (app?.serverError) out.push(`- Server error: ${md(app.serverError)}`)
    if (app?.symptom) out.push(`- The user saw: ${app.symptom.split('\n').map((l) => md(l.replace(/\t/g, ' ').trim())).join(' / ')}`)
    out.push('', row(['file', 'frame', 'time (UTC)', 'what']), row(['---', '---:', '---', '---']))
    for (const ev of f.evidence) out.push(row([md(ev.file), ev.frame, ev.time, md(ev.what)]))
    // Filters are built from numbers and parsed addresses only (no backtick), so a code span holds them as is.
    const ws = f.wireshark ?? wiresharkFilters(f)
    out.push('', 'Wireshark display filters:', '')
    for (const x of ws.frames) out.push(`- ${md(x.file)}: \`${x.filter}\``)
    if (ws.flow) out.push(`- the flow, in any capture: \`${ws.flow}\``)
    out.push('', `**Fix:** ${ours(f.recommendation)}`)
  })
  return `${out.join('\n')}\n`
}
