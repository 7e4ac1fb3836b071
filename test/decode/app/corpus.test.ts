/**
 * The third-party MySQL / PostgreSQL captures of the shared corpus (Zeek's test traces), checked
 * against an independent oracle: Wireshark's own mysql / pgsql dissectors (tshark 4.0.17). tshark
 * also supplies the TCP payloads, so no pcap reader of ours is involved. After each frame where
 * tshark sees a query or an error code, our tracker's last command / last error must match it.
 * Skipped when the corpus or tshark is not on this machine.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {AppStream, Dir, MYSQL_PORTS, POSTGRES_PORTS} from '../../../src/decode/app/stream.js'

import {CORPUS_FILES as CORPUS} from '../../helpers/shared.js'
import {hasTshark} from '../../helpers/cli.js'
const tsharkInstalled = hasTshark()
const files = existsSync(CORPUS) ? readdirSync(CORPUS).filter((f) => /^zeek__(mysql|postgresql)__/.test(f)) : []

type Layers = Record<string, string[] | undefined>

function tshark(file: string): Layers[] {
  const fields = ['frame.number', 'frame.time_epoch', 'tcp.stream', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.flags.syn', 'tcp.payload',
    'mysql.query', 'mysql.error_code', 'mysql.version', 'pgsql.query', 'pgsql.code', 'pgsql.type']
  const out = execFileSync('tshark', ['-r', join(CORPUS, file), '-T', 'json', ...fields.flatMap((f) => ['-e', f])], {maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore']})
  return (JSON.parse(out.toString()) as {_source: {layers: Layers}}[]).map((p) => p._source.layers)
}

/** The form our snapshot gives a query: whitespace collapsed, ≤ 200 chars (escaping is the renderers' job). */
function shown(q: string): string {
  const s = q.replace(/[ \t\r\n]+/g, ' ').trim()
  return s.length > 200 ? `${s.slice(0, 199)}…` : s
}

interface Result {
  queries: number
  queriesMatched: number
  errors: number
  errorsMatched: number
  mismatches: string[]
  /** Every stream's snapshot after each of its frames, in frame order (JSON). */
  snapshots: string[]
  /** The trackers used, in order of first appearance. */
  apps: AppStream[]
}

/** Replay one file; `make` gives the tracker for each new TCP stream (new, or a recycled one). */
function run(file: string, layers: Layers[], make: (serverPort: number) => AppStream): Result {
  const r: Result = {queries: 0, queriesMatched: 0, errors: 0, errorsMatched: 0, mismatches: [], snapshots: [], apps: []}
  const streams = new Map<string, {app: AppStream; serverPort: number}>()
  for (const l of layers) {
    const id = l['tcp.stream']?.[0]
    if (id === undefined) continue
    const frame = Number(l['frame.number']?.[0])
    const sport = Number(l['tcp.srcport']?.[0])
    const dport = Number(l['tcp.dstport']?.[0])
    const seq = Number(l['tcp.seq_raw']?.[0])
    const syn = l['tcp.flags.syn']?.[0] === '1' || l['tcp.flags.syn']?.[0] === 'True'
    let st = streams.get(id)
    if (!st) {
      // The SYN's receiver is the server; without a SYN, a well-known port says which side.
      const known = (p: number) => MYSQL_PORTS.includes(p) || POSTGRES_PORTS.includes(p)
      const serverPort = syn ? dport : known(sport) && !known(dport) ? sport : dport
      st = {app: make(serverPort), serverPort}
      streams.set(id, st)
      r.apps.push(st.app)
    }
    const dir = sport === st.serverPort && dport !== st.serverPort ? Dir.ServerToClient : Dir.ClientToServer
    if (syn) st.app.syn(dir, seq)
    const hex = l['tcp.payload']?.[0]
    if (hex) {
      const b = Uint8Array.from(Buffer.from(hex.replace(/:/g, ''), 'hex'))
      st.app.segment(dir, b, 0, b.length, seq, frame, Number(l['frame.time_epoch']?.[0]))
    }
    const qs = l['mysql.query'] ?? l['pgsql.query']
    const snap = st.app.snapshot()
    r.snapshots.push(`${frame} ${JSON.stringify(snap)}`)
    if (qs && snap) {
      r.queries++
      const want = shown(qs[qs.length - 1])
      if (snap.lastCommand?.text === want && snap.lastCommand.frame === frame) r.queriesMatched++
      else r.mismatches.push(`${file} frame ${frame}: query want ${JSON.stringify(want)} got ${JSON.stringify(snap.lastCommand)}`)
    }
    // pgsql.code is also set by NoticeResponse: keep the codes of ErrorResponse messages only.
    const types = (l['pgsql.type']?.[0] ?? '').split(',').filter((t) => t === 'Error' || t === 'Notice')
    const pgCodes = l['pgsql.code']?.filter((_, k) => types[k] === 'Error')
    const codes = l['mysql.error_code'] ?? (pgCodes?.length ? pgCodes : undefined)
    if (codes && snap) {
      r.errors++
      const want = codes[codes.length - 1]
      if (snap.lastError?.code === want && snap.lastError.frame === frame) r.errorsMatched++
      else r.mismatches.push(`${file} frame ${frame}: error want ${want} got ${JSON.stringify(snap.lastError)}`)
    }
  }
  return r
}

describe.skipIf(!tsharkInstalled || files.length === 0)('corpus captures against tshark', () => {
  it('agrees with tshark on every query and error code; recycled trackers (reset) decode exactly as new ones', () => {
    const total = {queries: 0, queriesMatched: 0, errors: 0, errorsMatched: 0, mismatches: [] as string[], recycled: 0, differ: [] as string[]}
    // Trackers already used on earlier streams and files (MySQL and PostgreSQL), handed out again.
    const used: AppStream[] = []
    for (const f of files) {
      const layers = tshark(f)
      const r = run(f, layers, (port) => new AppStream(port))
      let next = used.length
      const again = run(f, layers, (port) => {
        const app = used[--next] ?? new AppStream(port)
        app.reset(port)
        return app
      })
      total.recycled += used.length - Math.max(next, 0)
      used.push(...r.apps)
      total.queries += r.queries
      total.queriesMatched += r.queriesMatched
      total.errors += r.errors
      total.errorsMatched += r.errorsMatched
      total.mismatches.push(...r.mismatches)
      const k = r.snapshots.findIndex((s, i) => s !== again.snapshots[i])
      if (k >= 0 || r.snapshots.length !== again.snapshots.length) total.differ.push(`${f}: new ${r.snapshots[k]} recycled ${again.snapshots[k]}`)
    }
    console.log(
      `corpus: ${files.length} files, queries ${total.queriesMatched}/${total.queries}, errors ${total.errorsMatched}/${total.errors}, ${total.recycled} streams replayed on recycled trackers`,
    )
    expect(total.mismatches).toEqual([])
    expect(total.differ).toEqual([])
    expect(total.queries).toBeGreaterThan(100)
    expect(total.recycled).toBeGreaterThan(30)
  })
})
