/**
 * The report as one self-contained HTML page: verdict first, an overview timeline, one section per finding with an
 * inline-SVG ladder diagram, then the inputs (captures, timeouts, artifacts). No script, no external resource (a
 * Content-Security-Policy of default-src 'none' makes sure of both), light/dark/print through CSS media queries.
 * Every report string goes through escapeHtml (text, attribute and SVG text alike); ids through htmlId.
 */
import {escapeHtml as h, htmlId} from './escape/html.js'
import {type Ladder, ladderOf} from './ladder.js'
import type {Finding, Report} from './report.js'
import {wiresharkFilters} from './wireshark.js'

const CSS = `
:root{--fg:#1b1f24;--bg:#fff;--muted:#5b6470;--line:#d0d7de;--accent:#0b62c4;--rst:#c62828;--drop:#b26a00;--copy:#6e7781;--entry:#2e7d32;--tpl:#7b1fa2;--fail:#ad1457;--panel:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#3d444d;--accent:#58a6ff;--rst:#ff6b6b;--drop:#e3b341;--copy:#9198a1;--entry:#56d364;--tpl:#d2a8ff;--fail:#f778ba;--panel:#161b22}}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1100px;padding:1.5rem}
h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid var(--line);padding-bottom:.25rem}h3{font-size:1.05rem}
.verdict{font-size:1.15rem;padding:.75rem 1rem;background:var(--panel);border-left:4px solid var(--rst);margin:0 0 1rem}
.verdict.ok{border-left-color:var(--entry)}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:var(--panel)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;overflow-wrap:anywhere}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.fix{background:var(--panel);padding:.6rem .9rem;border-left:4px solid var(--entry)}
svg{max-width:100%;height:auto;color:var(--fg)}
svg text{fill:currentColor;font:12px ui-monospace,Menlo,Consolas,monospace}
svg .lane{stroke:var(--line);stroke-width:2}
svg .lanelabel{font-weight:bold}
svg .arrow line{stroke:var(--accent);stroke-width:1.6}svg .arrow polygon{fill:var(--accent)}
svg .arrow.copy line{stroke:var(--copy);stroke-dasharray:5 3}svg .arrow.copy polygon{fill:var(--copy)}
svg .arrow.rst line{stroke:var(--rst);stroke-width:3}svg .arrow.rst polygon{fill:var(--rst)}svg .arrow.rst text{fill:var(--rst);font-weight:bold}
svg .arrow.dropped line{stroke:var(--drop)}svg .arrow.dropped polygon{fill:var(--drop)}svg .lost{stroke:var(--drop);stroke-width:3}
svg a:focus line,svg a:hover line{stroke-width:4}
svg .bar.entry{fill:var(--entry)}svg .bar.template{fill:var(--tpl)}svg .bar.open{opacity:.45}
svg .failover{stroke:var(--fail);stroke-width:2;stroke-dasharray:8 4}svg .failtext{fill:var(--fail)}
svg .idle{fill:var(--drop);font-weight:bold}svg .time{fill:var(--muted)}svg .axis{stroke:var(--line)}
svg .density{fill:var(--muted)}svg .finding-tick{stroke:var(--rst);stroke-width:2}svg .mark{fill:var(--rst)}svg .mark.stall{fill:var(--drop)}svg .mark.reschedule{fill:var(--tpl)}svg .mark.failover{fill:var(--fail)}
.legend{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;font-size:.85rem;color:var(--muted);margin:.25rem 0 1rem;padding:0;list-style:none}
.legend svg{vertical-align:middle}
tr:target{outline:2px solid var(--accent)}
details{margin:.5rem 0}summary{cursor:pointer}
@media print{body{max-width:none;padding:0;font-size:11pt}.verdict,.fix,th{background:none}section.finding{break-inside:avoid-page}a{color:inherit;text-decoration:none}details{display:block}}
`

function fmt(x: number, digits = 6): string {
  return x.toFixed(digits)
}

function seconds(s: number): string {
  return s >= 10 ? `${s.toFixed(1)} s` : s >= 1 ? `${s.toFixed(2).replace(/0$/, '')} s` : `${(s * 1e3).toFixed(3)} ms`
}

/** Id of a finding's evidence row, the target of its ladder arrows. */
const evId = (fi: number, ei: number): string => `ev-${fi + 1}-${ei + 1}`

function legend(): string {
  const item = (svg: string, text: string): string => `<li><svg width="34" height="14" aria-hidden="true">${svg}</svg> ${text}</li>`
  return `<ul class="legend" aria-label="Legend">${[
    item('<g class="arrow"><line x1="2" y1="7" x2="26" y2="7"/><polygon points="32,7 25,3 25,11"/></g>', 'frame (flags, payload length, frame number)'),
    item('<g class="arrow copy"><line x1="2" y1="7" x2="26" y2="7"/><polygon points="32,7 25,3 25,11"/></g>', 'director’s DR/TUN copy'),
    item('<g class="arrow rst"><line x1="2" y1="7" x2="26" y2="7"/><polygon points="32,7 25,3 25,11"/></g>', 'RST'),
    item('<g class="arrow dropped"><line x1="2" y1="7" x2="26" y2="7"/></g><line class="lost" x1="27" y1="2" x2="33" y2="12"/><line class="lost" x1="33" y1="2" x2="27" y2="12"/>', 'not forwarded: ends at the lane that dropped it'),
    item('<rect class="bar entry" x="2" y="3" width="30" height="8"/>', 'IPVS entry lifetime'),
    item('<rect class="bar template" x="2" y="3" width="30" height="8"/>', 'persistence template'),
    item('<line class="failover" x1="0" y1="7" x2="34" y2="7"/>', 'failover'),
  ].join('')}</ul>`
}

const LANE_W = 230
const ROW_H = 34
const TOP = 56
const LEFT = 150
const GAP_H = 26
/** Overview rows drawn before the rest go into the density strip, and the strip's bins. */
const MAX_ROWS = 40
const BINS = 120

function ladderSvg(r: Report, f: Finding, fi: number, l: Ladder): string {
  const width = LEFT + l.lanes.length * LANE_W + 40
  // An idle gap gets a band of its own above its row, where its label sits.
  const ys: number[] = []
  let at = TOP
  for (const row of l.rows) {
    if (row.idle) at += GAP_H
    ys.push(at + ROW_H / 2)
    at += ROW_H
  }
  const height = at + 30
  const x = (lane: number): number => LEFT + lane * LANE_W + LANE_W / 2
  const y = (row: number): number => ys[row]
  const id = `ladder-${fi + 1}`
  const parts: string[] = []
  const desc = `Ladder diagram of finding ${fi + 1}: lanes ${l.lanes.map((a) => `${a.label} (${a.role})`).join(', ')}; ${l.rows.length} events from ${f.events?.[0]?.capture ?? ''}, time downwards.`
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="${id}-t ${id}-d" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" class="ladder" id="${id}">`)
  parts.push(`<title id="${id}-t">${h(f.summary)}</title><desc id="${id}-d">${h(desc)}</desc>`)
  l.lanes.forEach((lane, i) => {
    parts.push(`<text class="lanelabel" x="${x(i)}" y="20" text-anchor="middle">${h(lane.label)}</text><text class="time" x="${x(i)}" y="36" text-anchor="middle">${lane.role}</text>`)
    parts.push(`<line class="lane" x1="${x(i)}" y1="${TOP - 8}" x2="${x(i)}" y2="${height - 10}"/>`)
  })
  for (const b of l.bars) {
    const bx = x(b.lane) + (b.kind === 'entry' ? 10 : 24)
    const y1 = y(b.from)
    const y2 = b.to === null ? height - 14 : y(b.to)
    parts.push(
      `<g><title>${h(b.label)}${b.to === null ? ' (end not computed)' : ', ends at its computed expiry'}</title><rect class="bar ${b.kind}${b.to === null ? ' open' : ''}" x="${bx}" y="${y1}" width="8" height="${Math.max(2, y2 - y1)}"/></g>`,
    )
  }
  l.rows.forEach((row, i) => {
    const e = row.event
    const yy = y(i)
    parts.push(`<text class="time" x="6" y="${yy + 4}">+${fmt(row.t)} s</text>`)
    if (row.idle) {
      const text = row.idle.timeout === null ? `idle ${seconds(row.idle.seconds)}` : `idle ${seconds(row.idle.seconds)} ${row.idle.seconds > row.idle.timeout ? '>' : '<'} ${row.idle.timer} ${row.idle.timeout} s`
      const band = yy - ROW_H / 2 - GAP_H / 2
      parts.push(`<line class="axis" stroke-dasharray="2 4" x1="4" y1="${band + 7}" x2="${width - 10}" y2="${band + 7}"/><text class="idle" x="6" y="${band + 2}">${h(text)}</text>`)
    }
    if (row.from >= 0 && row.to >= 0) {
      const x1 = x(row.from)
      const x2 = x(row.to)
      const dir = x2 >= x1 ? 1 : -1
      const cls = ['arrow', row.rst ? 'rst' : '', e.kind === 'forwarded-copy' ? 'copy' : '', row.dropped ? 'dropped' : ''].filter(Boolean).join(' ')
      const label = `${e.kind === 'rst' ? 'RST ' : ''}${e.flags ?? ''}${e.length ? ` len ${e.length}` : ''} #${e.frame ?? '?'}${row.dropped ? ' not forwarded' : ''}`
      const tip = `${e.kind} ${e.from ?? ''} → ${e.to ?? ''} ${e.flags ?? ''} len ${e.length ?? 0}, ${e.capture ?? ''} frame ${e.frame ?? ''}`
      const g =
        `<g class="${cls}" data-capture="${h(e.capture ?? '')}" data-frame="${e.frame ?? ''}"><title>${h(tip)}</title>` +
        `<line x1="${x1}" y1="${yy}" x2="${x2 - dir * 8}" y2="${yy}"/>` +
        (row.dropped
          ? `<line class="lost" x1="${x2 - 6}" y1="${yy - 6}" x2="${x2 + 6}" y2="${yy + 6}"/><line class="lost" x1="${x2 + 6}" y1="${yy - 6}" x2="${x2 - 6}" y2="${yy + 6}"/>`
          : `<polygon points="${x2},${yy} ${x2 - dir * 9},${yy - 5} ${x2 - dir * 9},${yy + 5}"/>`) +
        `<text x="${(x1 + x2) / 2}" y="${yy - 5}" text-anchor="middle">${h(label)}</text></g>`
      parts.push(row.evidence === null ? g : `<a href="#${evId(fi, row.evidence)}">${g}</a>`)
    } else if (e.kind === 'failover') {
      const g = `<g class="failover-mark" data-capture="${h(e.capture ?? '')}" data-frame="${e.frame ?? ''}"><title>${h(`failover seen in ${e.capture ?? ''} frame ${e.frame ?? ''}`)}</title><line class="failover" x1="${LEFT - 10}" y1="${yy}" x2="${width - 10}" y2="${yy}"/><text class="failtext" x="${LEFT}" y="${yy - 5}">${h(`failover${e.from ? `: VIP now at ${e.from}` : ''}`)}</text></g>`
      parts.push(row.evidence === null ? g : `<a href="#${evId(fi, row.evidence)}">${g}</a>`)
    } else {
      const lane = Math.max(0, l.lanes.findIndex((a) => a.label === e.from))
      const what =
        e.kind === 'entry-state'
          ? `entry ${e.state ?? ''}, timer ${e.timeout ?? '?'} s`
          : e.kind === 'entry-expired'
            ? `entry expires (computed)`
            : e.kind === 'template-created'
              ? `persistence template${e.timeout === undefined ? '' : ` ${e.timeout} s`}`
              : e.kind === 'template-expired'
                ? `persistence template expires${row.computed ? ' (computed from its timeout)' : ''}`
                : e.kind
      parts.push(`<text x="${x(lane) + 38}" y="${yy + 4}">${h(what)}</text>`)
    }
  })
  parts.push('</svg>')
  return parts.join('')
}

/** Smallest and largest value, by a loop: spreading a large array into Math.min overflows the call stack. */
function extent(xs: number[]): [number, number] {
  let lo = Infinity
  let hi = -Infinity
  for (const v of xs) {
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  return [lo, hi]
}

/** How many of the spans [a, b] overlap each of `bins` equal bins of [t0, t0 + span]. */
function activity(spans: [number, number][], t0: number, span: number, bins: number): number[] {
  const out = new Array<number>(bins).fill(0)
  const bin = (t: number): number => Math.max(0, Math.min(bins - 1, Math.floor(((t - t0) / span) * bins)))
  for (const [a, b] of spans) for (let k = bin(a); k <= bin(b); k++) out[k]++
  return out
}

/**
 * Findings placed on the incident's time axis, failovers as vertical lines; the correlated flows without a finding
 * as a density strip of their activity (first to last counted packet), with the findings marked on it.
 */
function overviewSvg(r: Report): string {
  const withFlow = r.findings.map((f, i) => ({f, i})).filter(({f}) => f.flow !== null)
  const times = r.findings.flatMap((f) => [f.epoch, ...f.evidence.map((e) => e.epoch), ...(f.events ?? []).map((e) => e.epoch)])
  if (times.length === 0) return ''
  const allRows = [...new Set(withFlow.map(({f}) => `${f.flow?.client} → ${f.flow?.service}`))]
  const findingFlows = new Set(allRows)
  const quietSpans: [number, number][] = []
  for (const c of r.correlation.flows) {
    if (findingFlows.has(`${c.client} → ${c.service}`) || c.firstEpoch === null || c.lastEpoch === null) continue
    quietSpans.push([c.firstEpoch, c.lastEpoch])
    times.push(c.firstEpoch, c.lastEpoch)
  }
  const [t0, t1] = extent(times)
  const span = Math.max(t1 - t0, 1e-3)
  const W = 1000
  const L = 300
  const rowH = 24
  // Thousands of flows with findings (health checks reset by the thousand) would be thousands of rows: the first
  // MAX_ROWS are drawn, and every finding goes into a density strip underneath.
  const rows = allRows.slice(0, MAX_ROWS)
  const strip = allRows.length > rows.length
  const STRIP_H = strip ? 40 : 0
  const QUIET_H = quietSpans.length > 0 ? 40 : 0
  const H = 50 + rows.length * rowH + STRIP_H + QUIET_H + 30
  const x = (t: number): number => L + ((t - t0) / span) * (W - L - 20)
  const bw = (W - L - 20) / BINS
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="ov-t ov-d" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">`,
    `<title id="ov-t">Incident overview</title><desc id="ov-d">${h(`${r.findings.length} findings over ${seconds(span)}; one row per flow with a finding; ${quietSpans.length} flow(s) without a finding as a density strip; failovers as vertical lines.`)}</desc>`,
    `<line class="axis" x1="${L}" y1="${H - 24}" x2="${W - 20}" y2="${H - 24}"/><text class="time" x="${L}" y="${H - 8}">${h(new Date(t0 * 1000).toISOString())}</text><text class="time" x="${W - 20}" y="${H - 8}" text-anchor="end">+${seconds(span)}</text>`,
  ]
  rows.forEach((label, k) => {
    const yy = 40 + k * rowH
    const fs = withFlow.filter(({f}) => `${f.flow?.client} → ${f.flow?.service}` === label)
    const ts = fs.flatMap(({f}) => [...f.evidence.map((e) => e.epoch), ...(f.events ?? []).filter((e) => e.capture !== null).map((e) => e.epoch)])
    const [a, b] = extent(ts)
    parts.push(`<text x="4" y="${yy + 4}">${h(label)}</text><line class="lane" x1="${x(a)}" y1="${yy}" x2="${x(b)}" y2="${yy}"/>`)
    for (const {f, i} of fs) {
      parts.push(`<a href="#finding-${i + 1}"><circle class="mark ${f.kind}" cx="${x(f.epoch)}" cy="${yy}" r="6"><title>${h(`#${i + 1} ${f.kind}: ${f.summary}`)}</title></circle></a>`)
    }
  })
  let yy = 40 + rows.length * rowH
  if (strip) {
    const bins = new Array<number>(BINS).fill(0)
    for (const f of r.findings) bins[Math.min(BINS - 1, Math.floor(((f.epoch - t0) / span) * BINS))]++
    const top = extent(bins)[1]
    parts.push(`<text x="4" y="${yy + 14}">${h(`all ${r.findings.length} findings (${allRows.length} flows)`)}</text>`)
    bins.forEach((n, k) => {
      if (n > 0) parts.push(`<rect class="mark" x="${L + k * bw}" y="${yy}" width="${Math.max(1, bw - 0.5)}" height="24" opacity="${(0.15 + (0.85 * n) / top).toFixed(2)}"><title>${n} finding(s)</title></rect>`)
    })
    yy += STRIP_H
  }
  if (quietSpans.length > 0) {
    const bins = activity(quietSpans, t0, span, BINS)
    const top = Math.max(1, extent(bins)[1])
    parts.push(`<g class="quiet"><text x="4" y="${yy + 14}">${h(`${quietSpans.length} flow(s) without a finding`)}</text>`)
    bins.forEach((n, k) => {
      if (n > 0) parts.push(`<rect class="density" x="${L + k * bw}" y="${yy}" width="${Math.max(1, bw - 0.5)}" height="24" opacity="${(0.15 + (0.85 * n) / top).toFixed(2)}"><title>${n} active flow(s)</title></rect>`)
    })
    // The findings on the same axis, so a reset can be read against the traffic around it.
    for (const [i, f] of r.findings.entries()) {
      parts.push(`<a href="#finding-${i + 1}"><line class="mark ${f.kind} finding-tick" x1="${x(f.epoch)}" y1="${yy - 3}" x2="${x(f.epoch)}" y2="${yy + 27}"><title>${h(`#${i + 1} ${f.kind}: ${f.summary}`)}</title></line></a>`)
    }
    parts.push('</g>')
  }
  for (const [i, f] of r.findings.entries()) {
    if (f.kind !== 'failover') continue
    parts.push(`<a href="#finding-${i + 1}"><line class="failover" x1="${x(f.epoch)}" y1="24" x2="${x(f.epoch)}" y2="${H - 24}"><title>${h(`#${i + 1} ${f.summary}`)}</title></line></a><text class="failtext" x="${x(f.epoch) + 4}" y="18">failover</text>`)
  }
  parts.push('</svg>')
  const notes = [strip ? `${allRows.length - rows.length} more flow(s) with findings are in the density strip only.` : '']
  const untimed = r.correlation.flows.length - allRows.length - quietSpans.length
  if (untimed > 0) notes.push(`${untimed} other correlated flow(s) without a finding have no timed packet and are not drawn.`)
  return `${parts.join('')}<p>${notes.filter(Boolean).join(' ')}</p>`
}

function offsetText(c: Report['captures'][number]): string {
  if (c.clockSource === 'reference') return 'reference'
  return `${c.clockOffsetSeconds >= 0 ? '+' : ''}${fmt(c.clockOffsetSeconds)} s ± ${(c.clockOffsetUncertainty * 1e3).toFixed(3)} ms (${c.clockSource})${c.clockDriftPpm === null ? '' : `, drift ${c.clockDriftPpm.toFixed(1)} ppm`}`
}

function findingSection(r: Report, f: Finding, i: number): string {
  const out: string[] = [`<section class="finding" id="finding-${i + 1}" aria-labelledby="finding-${i + 1}-h">`]
  out.push(`<h2 id="finding-${i + 1}-h">#${i + 1} ${h(f.summary)}</h2>`)
  out.push(
    `<dl class="facts"><dt>time (UTC)</dt><dd>${h(f.time)}</dd><dt>kind</dt><dd>${h(f.kind)}</dd><dt>flow</dt><dd class="mono">${f.flow ? `${h(f.flow.client)} → ${h(f.flow.service)}` : '—'}</dd><dt>sender</dt><dd>${h(f.sender)}</dd><dt>cause</dt><dd><strong>${h(f.cause)}</strong></dd><dt>confidence</dt><dd>${h(f.confidence)}</dd></dl>`,
  )
  const l = ladderOf(r, f)
  if (l) out.push(`<figure>${ladderSvg(r, f, i, l)}<figcaption>Ladder diagram: one lane per host, time downwards (rows in time order, offsets from the first). Click an arrow for its evidence row.</figcaption></figure>`)
  out.push('<h3>What happened</h3><ol>', ...f.timeline.map((t) => `<li>${h(t)}</li>`), '</ol>')
  if (f.realServerView) out.push(`<p><strong>Real server:</strong> ${h(f.realServerView)}</p>`)
  const app = f.application
  if (app) {
    out.push(`<dl class="facts"><dt>protocol</dt><dd>${h(app.protocol)}</dd>`)
    if (app.lastCommand) out.push(`<dt>last command</dt><dd class="mono app-command">${h(app.lastCommand)}</dd>`)
    if (app.serverError) out.push(`<dt>server error</dt><dd class="mono app-error">${h(app.serverError)}</dd>`)
    if (app.symptom) out.push(`<dt>the user saw</dt><dd class="mono">${app.symptom.split('\n').map((l) => h(l.replace(/\t/g, '  '))).join('<br>')}</dd>`)
    out.push('</dl>')
  }
  out.push(`<h3>Evidence</h3><table class="evidence"><thead><tr><th>capture</th><th>frame</th><th>time (UTC)</th><th>what</th></tr></thead><tbody>`)
  f.evidence.forEach((ev, k) => {
    out.push(`<tr id="${evId(i, k)}"><td class="mono">${h(ev.file)}</td><td class="num">${ev.frame}</td><td class="mono">${h(ev.time)}</td><td>${h(ev.what)}</td></tr>`)
  })
  out.push('</tbody></table>')
  const ws = f.wireshark ?? wiresharkFilters(f)
  out.push('<h3>Wireshark display filters</h3><ul class="filters">')
  for (const x of ws.frames) out.push(`<li><span class="mono">${h(x.file)}</span>: <code>${h(x.filter)}</code></li>`)
  if (ws.flow) out.push(`<li>the flow, in any capture: <code>${h(ws.flow)}</code></li>`)
  out.push('</ul>', `<p class="fix"><strong>Fix:</strong> ${h(f.recommendation)}</p>`, '</section>')
  return out.join('\n')
}

export function renderHtml(r: Report): string {
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="${h(r.generatedBy)}">`,
    `<title>lvscope report: ${h(r.verdict)}</title>`,
    `<style>${CSS}</style></head><body>`,
    '<header><h1>lvscope report</h1>',
    `<p class="verdict${r.findings.length === 0 ? ' ok' : ''}" id="verdict"><strong>Verdict:</strong> ${h(r.verdict)}</p></header>`,
    '<main>',
  ]
  if (r.findings.length > 0) {
    out.push('<nav aria-label="Findings"><h2>Findings</h2><table><thead><tr><th>#</th><th>time (UTC)</th><th>kind</th><th>flow</th><th>sender</th><th>cause</th><th>confidence</th></tr></thead><tbody>')
    r.findings.forEach((f, i) => {
      out.push(
        `<tr><td class="num"><a href="#finding-${i + 1}">${i + 1}</a></td><td class="mono">${h(f.time)}</td><td>${h(f.kind)}</td><td class="mono">${f.flow ? `${h(f.flow.client)} → ${h(f.flow.service)}` : '—'}</td><td>${h(f.sender)}</td><td>${h(f.cause)}</td><td>${h(f.confidence)}</td></tr>`,
      )
    })
    out.push('</tbody></table></nav>', '<section id="overview"><h2>Overview</h2>', overviewSvg(r), legend(), '</section>')
    r.findings.forEach((f, i) => out.push(findingSection(r, f, i)))
  } else {
    out.push('<p>No findings.</p>')
  }
  out.push('<section id="inputs"><h2>Captures</h2><table><thead><tr><th>capture</th><th>role</th><th>why</th><th>packets</th><th>clock offset</th><th>warnings</th></tr></thead><tbody>')
  for (const c of r.captures) {
    out.push(
      `<tr id="capture-${htmlId(c.file)}"><td class="mono">${h(c.file)}</td><td>${h(c.role)}</td><td>${h(c.roleReason)}</td><td class="num">${c.packets}</td><td class="mono">${h(offsetText(c))}</td><td>${c.warnings.map((w) => h(`${w.code} at byte ${w.offset}: ${w.message}`)).join('<br>')}</td></tr>`,
    )
  }
  out.push('</tbody></table>')
  const t = r.timeouts
  out.push('<h2>IPVS timeouts</h2><table><thead><tr><th>timer</th><th>seconds</th></tr></thead><tbody>')
  out.push(`<tr><td>tcp (ESTABLISHED)</td><td class="num">${t.tcp}</td></tr><tr><td>tcpfin (FIN_WAIT)</td><td class="num">${t.tcpfin}</td></tr><tr><td>udp</td><td class="num">${t.udp}</td></tr>`)
  out.push(`<tr><td>persistence</td><td class="num">${t.persistence ?? '—'}</td></tr></tbody></table>`)
  out.push(`<p>Source: ${h(t.source)}</p>`)
  if (t.bounds.tcp) out.push(`<p>The captures bound the tcp timeout: an entry survived ${t.bounds.tcp.survived ?? '—'} s of silence; one died after ${t.bounds.tcp.killed ?? '—'} s.</p>`)
  for (const c of t.contradictions) out.push(`<p><strong>Contradiction:</strong> ${h(c)}</p>`)
  const a = r.artifacts
  out.push('<h2>Wireshark artifacts</h2><table><thead><tr><th>what Wireshark flags</th><th>count</th></tr></thead><tbody>')
  out.push(`<tr><td>TCP analysis flags raised</td><td class="num">${a.wiresharkFlags.total}</td></tr><tr><td>… of which capture artifacts</td><td class="num">${a.wiresharkFlags.artifacts}</td></tr>`)
  out.push(`<tr><td>DR copies (the director's forwarded frames)</td><td class="num">${a.drCopies}</td></tr><tr><td>mirror (SPAN) duplicates</td><td class="num">${a.spanDuplicates}</td></tr><tr><td>genuine retransmissions</td><td class="num">${a.genuineRetransmissions}</td></tr></tbody></table>`)
  const topo = r.topology
  out.push(`<h2>Topology</h2><p>Forwarding ${h(topo.forwarding)}; services ${topo.services.map((s) => `<span class="mono">${h(s)}</span>`).join(', ') || '—'}.</p><ul>`)
  for (const d of topo.directors) out.push(`<li>director <span class="mono">${h(d.mac)}</span> (${d.ips.map(h).join(', ')}), captures ${d.captures.map(h).join(', ') || '—'}</li>`)
  for (const s of topo.realServers) out.push(`<li>real server <span class="mono">${h(s.ip)}</span> (${h(s.mac)})</li>`)
  out.push('</ul>')
  if (r.correlation.flows.length > 0) {
    // Thousands of healthy flows say nothing: list the ones with a packet that went astray, at most 200.
    const odd = r.correlation.flows.filter((c) => c.lostOnPath + c.notForwarded + c.onlyAtRealServer > 0)
    out.push(`<details><summary>Correlation: ${r.correlation.flows.length} flow(s), ${odd.length} with packets not forwarded or lost, reference ${h(r.correlation.reference ?? '—')}</summary><table><thead><tr><th>flow</th><th>matched</th><th>lost on path</th><th>not forwarded</th><th>only at real server</th></tr></thead><tbody>`)
    for (const c of odd.slice(0, 200)) out.push(`<tr><td class="mono">${h(c.client)} → ${h(c.service)}</td><td class="num">${c.matched}</td><td class="num">${c.lostOnPath}</td><td class="num">${c.notForwarded}</td><td class="num">${c.onlyAtRealServer}</td></tr>`)
    out.push('</tbody></table></details>')
  }
  out.push('</section></main>', `<footer><p>${h(r.generatedBy)} · report schema ${h(r.schema)}</p></footer>`, '</body></html>', '')
  return out.join('\n')
}
