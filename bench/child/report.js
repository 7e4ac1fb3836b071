#!/usr/bin/env node
// The report stage against the whole analysis, in one process: `analyzeCaptures` as `analyze` runs it (scan,
// correlation, diagnosis, report, evidence re-read), then, on the Report it returns, the evidence re-read again
// (`addTimelineEvents` with every finding's events removed, so it reads every finding's frames: an upper bound of
// what analyze spent on it) and each renderer once, cold, as the CLI calls one. `buildReport` itself only maps
// the findings and the counts; it is inside the total, not timed apart. Uses dist/ (build first).
// Usage: node bench/child/report.js DIRECTOR RS...   → one JSON line on stdout.
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const files = process.argv.slice(2)
if (files.length === 0) throw new Error('usage: node bench/child/report.js CAPTURE...')
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const load = (rel) => import(pathToFileURL(path.join(root, 'dist', rel)).href)
const {analyzeCaptures} = await load('pipeline/analyze.js')
const {addTimelineEvents} = await load('report/events.js')
const renderers = {
  json: (await load('report/json.js')).renderJson,
  md: (await load('report/markdown.js')).renderMarkdown,
  html: (await load('report/html.js')).renderHtml,
  terminal: (await load('report/terminal.js')).renderTerminal,
}

const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9
const opts = {roles: new Map(), offsets: new Map(), timeoutFlags: {}, configs: [], kernel: '6.1', version: 'bench'}
let t0 = process.hrtime.bigint()
const {report} = await analyzeCaptures(files, opts)
const analyzeSeconds = seconds(t0)

const bare = {...report, findings: report.findings.map(({events, ...f}) => f)}
t0 = process.hrtime.bigint()
await addTimelineEvents(bare)
const eventsSeconds = seconds(t0)
const renderSeconds = {}
const outputBytes = {}
for (const [name, render] of Object.entries(renderers)) {
  t0 = process.hrtime.bigint()
  const text = render(report)
  renderSeconds[name] = seconds(t0)
  outputBytes[name] = Buffer.byteLength(text)
}
const reportSeconds = eventsSeconds + Object.values(renderSeconds).reduce((a, b) => a + b, 0)
process.stdout.write(
  JSON.stringify({
    findings: report.findings.length,
    evidenceFrames: report.findings.reduce((n, f) => n + f.evidence.length, 0),
    correlationFlows: report.correlation.flows.length,
    analyzeSeconds,
    eventsSeconds,
    renderSeconds,
    outputBytes,
    reportSeconds,
    reportShareOfAnalyze: reportSeconds / analyzeSeconds,
    maxRssKiB: process.resourceUsage().maxRSS,
  }) + '\n',
)
