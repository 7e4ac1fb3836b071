import Table from 'cli-table3'

import {escapeTerminal} from '../util/escape.js'
import type {Report} from './report.js'
import {wiresharkFilters} from './wireshark.js'

/** Paths have no spaces to wrap at: cut them every `n` characters instead. */
export function breakEvery(s: string, n: number): string {
  const parts: string[] = []
  for (let i = 0; i < s.length; i += n) parts.push(s.slice(i, i + n))
  return parts.join('\n')
}

/** The default output: verdict first, then a table of findings, then each finding's story and fix. */
export function renderTerminal(r: Report): string {
  const e = escapeTerminal
  const out: string[] = [e(r.verdict), '']
  const caps = new Table({head: ['capture', 'role', 'packets', 'clock offset'], style: {head: [], border: []}, colWidths: [44, 58, 9, 38], wordWrap: true})
  for (const c of r.captures) {
    const off = c.clockSource === 'reference' ? 'reference' : `${c.clockOffsetSeconds >= 0 ? '+' : ''}${c.clockOffsetSeconds.toFixed(6)} s ± ${(c.clockOffsetUncertainty * 1e3).toFixed(3)} ms (${c.clockSource})`
    caps.push([breakEvery(e(c.file), 42), `${c.role}${c.roleReason ? `\n${e(c.roleReason)}` : ''}`, c.packets, off])
  }
  out.push(caps.toString())
  const flows = r.correlation.flows
  if (flows.length > 0) {
    const sum = (k: 'matched' | 'lostOnPath' | 'notForwarded' | 'onlyAtRealServer'): number => flows.reduce((n, f) => n + f[k], 0)
    out.push(
      `Correlation (reference ${e(r.correlation.reference ?? '-')}): ${flows.length} flow(s); client packets matched director→real server ${sum('matched')}, ` +
        `lost on the path ${sum('lostOnPath')}, not forwarded by a director ${sum('notForwarded')}, seen only at a real server ${sum('onlyAtRealServer')}`,
    )
    const odd = flows.filter((f) => f.lostOnPath + f.notForwarded + f.onlyAtRealServer > 0).slice(0, 10)
    if (odd.length > 0) {
      const ct = new Table({head: ['flow', 'matched', 'lost on path', 'not forwarded', 'only at RS'], style: {head: [], border: []}})
      for (const f of odd) ct.push([`${e(f.client)} → ${e(f.service)}`, f.matched, f.lostOnPath, f.notForwarded, f.onlyAtRealServer])
      out.push(ct.toString())
    }
  }
  const t = r.timeouts
  out.push(`IPVS timeouts: tcp ${t.tcp} s, tcpfin ${t.tcpfin} s, udp ${t.udp} s${t.persistence === null ? '' : `, persistence ${t.persistence} s`} (${e(t.source)})`)
  if (t.bounds.tcp) out.push(`  the captures bound the tcp timeout: survived ${t.bounds.tcp.survived ?? '-'} s, killed at ${t.bounds.tcp.killed ?? '-'} s`)
  for (const c of t.contradictions) out.push(`  contradiction: ${e(c)}`)
  const a = r.artifacts
  out.push(`Wireshark flags: ${a.wiresharkFlags.total}, of which ${a.wiresharkFlags.artifacts} are capture artifacts (${a.drCopies} DR copies, ${a.spanDuplicates} mirror duplicates); genuine retransmissions: ${a.genuineRetransmissions}`)
  out.push('')
  if (r.findings.length === 0) return out.join('\n')
  const ft = new Table({head: ['#', 'time (UTC)', 'kind', 'flow', 'sender', 'cause', 'confidence'], style: {head: [], border: []}})
  r.findings.forEach((f, i) => {
    ft.push([i + 1, f.time, f.kind, f.flow ? `${e(f.flow.client)} → ${e(f.flow.service)}` : '-', f.sender, f.cause, f.confidence])
  })
  out.push(ft.toString())
  r.findings.forEach((f, i) => {
    out.push('', `#${i + 1} ${e(f.summary)}`)
    for (const line of f.timeline) out.push(`   ${e(line)}`)
    if (f.realServerView) out.push(`   real server: ${e(f.realServerView)}`)
    if (f.application) {
      const app = f.application
      if (app.lastCommand) out.push(`   last ${app.protocol} command: ${e(app.lastCommand)}`)
      if (app.serverError) out.push(`   server error: ${e(app.serverError)}`)
      // Client messages span lines (psql's does): keep them as lines, each one escaped.
      if (app.symptom) out.push(`   the user saw: ${app.symptom.split('\n').map((l) => e(l.replace(/\t/g, '  '))).join('\n                 ')}`)
    }
    out.push('   evidence:')
    for (const ev of f.evidence) out.push(`     ${e(ev.file)} #${ev.frame} ${ev.time}  ${e(ev.what)}`)
    const ws = f.wireshark ?? wiresharkFilters(f)
    out.push('   wireshark:')
    for (const x of ws.frames) out.push(`     ${e(x.file)}: ${x.filter}`)
    if (ws.flow) out.push(`     flow: ${ws.flow}`)
    out.push(`   fix: ${e(f.recommendation)}`)
  })
  return out.join('\n')
}
