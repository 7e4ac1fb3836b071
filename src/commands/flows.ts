import {Args, Flags} from '@oclif/core'
import Table from 'cli-table3'

import {LvscopeCommand} from '../cli/base.js'
import {addressFlag, decimalFlag, portFlag} from '../cli/flags.js'
import {singleInput} from '../cli/inputs.js'
import {decodeCapture} from '../decode/stream.js'
import {endpointString} from '../decode/format.js'
import {RowSorter} from '../flow/row-sort.js'
import {FlowTracker, type FlowSummary} from '../flow/tracker.js'
import {escapeTerminal} from '../util/escape.js'
import {diffSeconds, epochNumber, isoTime} from '../util/time.js'

const SORTS = ['first', 'packets', 'bytes', 'duration', 'rst'] as const
type SortKey = (typeof SORTS)[number]

function duration(f: FlowSummary): number {
  return diffSeconds(f.lastSec, f.lastNsec, f.firstSec, f.firstNsec)
}

type FlowRow = ReturnType<typeof flowJson>

function sortValue(f: FlowRow, key: SortKey): number {
  switch (key) {
    case 'packets':
      return -(f.packets.client + f.packets.server)
    case 'bytes':
      return -(f.bytes.client + f.bytes.server)
    case 'duration':
      return -f.durationSeconds
    case 'rst':
      return -f.rst
    default:
      return f.firstEpoch
  }
}

/** stdout with backpressure: a slow reader must not make us buffer the whole output. */
function writeOut(s: string): Promise<void> | void {
  if (process.stdout.write(s)) return
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()))
}

/** Only the flags that fired: most flows have none, and 15 zero counters per side add up over millions of flows. */
function nonZero(c: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k in c) if (c[k] !== 0) out[k] = c[k]
  return out
}

export function flowJson(f: FlowSummary) {
  return {
    id: f.id,
    protocol: f.protocol,
    client: endpointString(f.orig.addr, f.orig.port),
    server: endpointString(f.resp.addr, f.resp.port),
    packets: {client: f.orig.packets, server: f.resp.packets},
    bytes: {client: f.orig.wireBytes, server: f.resp.wireBytes},
    payloadBytes: {client: f.orig.payloadBytes, server: f.resp.payloadBytes},
    first: isoTime(f.firstSec, f.firstNsec),
    last: isoTime(f.lastSec, f.lastNsec),
    firstEpoch: epochNumber(f.firstSec, f.firstNsec),
    lastEpoch: epochNumber(f.lastSec, f.lastNsec),
    durationSeconds: duration(f),
    firstFrame: f.firstFrame,
    lastFrame: f.lastFrame,
    history: f.history,
    state: f.state,
    syn: f.orig.syn + f.resp.syn,
    fin: f.orig.fin + f.resp.fin,
    rst: f.orig.rst + f.resp.rst,
    rstBy: {client: f.orig.rst, server: f.resp.rst},
    analysis: {client: nonZero(f.orig.analysis), server: nonZero(f.resp.analysis)},
    reusedPortsOf: f.reusedPortsOf,
  }
}

export default class Flows extends LvscopeCommand {
  static override description = 'List the TCP and UDP flows of a capture: endpoints, packets and bytes each way, time span, Zeek-style history and state.'
  static override examples = [
    '<%= config.bin %> flows samples/idle-expiry-mysql/director.pcapng',
    '<%= config.bin %> flows capture.pcap --port 3306 --rst --sort duration',
  ]
  static override args = {
    capture: Args.string({description: 'capture file (pcap, pcapng, gzip) or - for stdin', required: true}),
  }
  static override flags = {
    json: Flags.boolean({description: 'print JSON'}),
    sort: Flags.string({description: 'sort order', options: [...SORTS], default: 'first'}),
    port: portFlag({description: 'only flows with this port on either side (0–65535)'}),
    host: addressFlag({description: 'only flows with this address (IPv4 or IPv6) on either side'}),
    proto: Flags.string({description: 'only this transport', options: ['tcp', 'udp']}),
    state: Flags.string({description: 'only flows in this Zeek conn_state (e.g. RSTR, SF, S0)'}),
    rst: Flags.boolean({description: 'only flows with at least one RST'}),
    limit: decimalFlag({description: 'print at most this many flows (after sorting)', min: 1, max: Number.MAX_SAFE_INTEGER})(),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Flows)
    // A flow's row is finished when the flow leaves the table (closed, idle or at the end) and goes to the sorter
    // as its JSON line: a top-N heap with --limit, else an external merge sort over temporary files once the
    // rows outgrow 32 Mi characters. Filtering there keeps memory proportional to what will be printed.
    const sortKey = flags.sort as SortKey
    const rows = new RowSorter({limit: flags.limit})
    const keep = (f: FlowSummary): boolean =>
      (flags.port === undefined || f.orig.port === flags.port || f.resp.port === flags.port) &&
      (flags.host === undefined || f.orig.addr === flags.host || f.resp.addr === flags.host) &&
      (flags.proto === undefined || f.protocol === flags.proto) &&
      (flags.state === undefined || f.state === flags.state) &&
      (!flags.rst || f.orig.rst + f.resp.rst > 0)
    const tracker = new FlowTracker({
      onEvict: (f) => {
        if (!keep(f)) return
        const row = flowJson(f)
        rows.add(sortValue(row, sortKey), row.id, JSON.stringify(row))
      },
    })
    const {summary} = await decodeCapture(singleInput(args.capture, true), (rec, pkt) => {
      tracker.observe(rec, pkt)
    })
    tracker.flush()
    const total = rows.count
    this.captureWarnings(summary.warnings)
    if (flags.json) {
      // Streamed: one flow per line, so a million flows never become one giant string.
      await writeOut(`{"file":${JSON.stringify(summary.file)},"packets":${summary.packets},"totalFlows":${total},"flows":[\n`)
      let prev: string | null = null
      for (const line of rows.sorted()) {
        if (prev !== null) await writeOut(`${prev},\n`)
        prev = line
      }
      if (prev !== null) await writeOut(`${prev}\n`)
      await writeOut(']}\n')
      return
    }
    const shown: FlowRow[] = []
    for (const line of rows.sorted()) shown.push(JSON.parse(line) as FlowRow)
    this.log(renderFlows(shown))
    this.log(`${total} flow(s)${shown.length < total ? `, ${shown.length} shown` : ''} in ${summary.packets} packets of ${escapeTerminal(summary.file)}`)
  }
}

function renderFlows(flows: FlowRow[]): string {
  const t = new Table({
    head: ['#', 'proto', 'client', 'server', 'pkts c→s/s→c', 'bytes c→s/s→c', 'first (UTC)', 'duration', 'history', 'state', 'S/F/R'],
    style: {head: [], border: []},
  })
  for (const f of flows) {
    t.push([
      f.id,
      f.protocol,
      escapeTerminal(f.client),
      escapeTerminal(f.server),
      `${f.packets.client}/${f.packets.server}`,
      `${f.bytes.client}/${f.bytes.server}`,
      f.first.replace(/(\.\d{6})\d*Z$/, '$1Z'),
      `${f.durationSeconds.toFixed(6)} s`,
      escapeTerminal(f.history),
      f.state,
      `${f.syn}/${f.fin}/${f.rst}`,
    ])
  }
  return t.toString()
}
