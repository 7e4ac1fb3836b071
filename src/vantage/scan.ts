import {availableParallelism} from 'node:os'

import {cheapToReread, type CaptureSummary} from '../capture/reader.js'
import type {Shard} from '../decode/shard.js'
import {decodeCapture, decodeWarnings, UNSUPPORTED_LINKTYPE, type DecodeStats} from '../decode/stream.js'
import {LvscopeError} from '../util/errors.js'
import {runInWorker, workerAvailable} from '../util/worker.js'
import {replayApps} from './app-replay.js'
import {ArtifactScanner, mergeArtifactSummaries, type ArtifactSummary, type FlowRecord} from './artifacts.js'
import {CaptureLedger, MAX_RESETS, mergeLedgers, type LedgerData} from './ledger.js'
import {Forwarding} from './dr-pairs.js'
import {allRecords, type FlowDigestData, recordsFor} from './flow-digest.js'
import type {FlowDigest} from './flow-digest.js'
import {shardsFor} from './sharding.js'

/** Everything one streaming pass learns about one capture (plain data). */
export interface CaptureScan {
  file: string
  summary: CaptureSummary
  decode: DecodeStats
  artifacts: ArtifactSummary
  ledger: LedgerData
  /**
   * Flow records for the diagnosis. From scanCapture, every flow; from scanCaptures (analyze), only the flows
   * between the endpoints of a reset or stall in any of the incident's captures — all the diagnosis looks up —
   * while `flowDigests` (one per flow shard, in shard order) hold every flow compactly until then.
   */
  flows: FlowRecord[]
  flowDigests?: FlowDigestData[]
}

export interface ScanOptions {
  /**
   * Where the MySQL/PostgreSQL context of resets and stalls comes from: 'inline' runs the protocol trackers on
   * every database connection during the pass; 'replay' reads the capture again for the few connections that
   * need a snapshot (app-replay.ts). Default: 'replay' where a second read is cheap (a file, not gzip).
   */
  apps?: 'inline' | 'replay'
}

/**
 * Read, decode, pair DR copies, run both Wireshark views and keep the ledger — one pass, bounded memory. With
 * `shard`, only that share of the capture's flows (mergeScans puts the shares together).
 */
export async function scanCapture(file: string, shard: Shard = {index: 0, count: 1}, opts: ScanOptions = {}): Promise<CaptureScan> {
  const {flowDigests, ...scan} = await scanCaptureCompact(file, shard, opts)
  return {...scan, flows: (flowDigests ?? []).flatMap(allRecords)}
}

/** scanCapture with the flows left in `flowDigests` (`flows` empty): what a worker hands back. */
export async function scanCaptureCompact(file: string, shard: Shard = {index: 0, count: 1}, opts: ScanOptions = {}): Promise<CaptureScan> {
  const art = new ArtifactScanner()
  const pairer = art.pairer
  const replay = opts.apps === 'replay' || (opts.apps === undefined && (await cheapToReread(file)))
  const ledger = new CaptureLedger(pairer.macs, {replayApps: replay})
  const {summary, stats} = await decodeCapture(
    file,
    (rec, pkt) => {
      const cls = art.observe(rec, pkt)
      ledger.observe(rec, pkt, cls, pairer.pairFrame, pairer.pairRealServerId, pairer.pairDirectorId, art.lastFlow, art.lastSlot, art.lastIsOrig, art.lastGenuine)
    },
    {shard},
  )
  art.finish()
  const requests = ledger.appRequests
  if (requests.length > 0) {
    // The replay finds a flow's frames by 4-tuple, which a NAT director rewrites between a frame and its copy:
    // there the copies would reach trackers the ledger keeps them from. Such a capture is scanned again inline.
    if (pairer.byMethod[Forwarding.NAT] > 0) return scanCaptureCompact(file, shard, {apps: 'inline'})
    let unanswered = requests.length
    try {
      unanswered = await replayApps(file, requests)
    } catch (err) {
      if (!(err instanceof LvscopeError)) throw err
    }
    if (unanswered > 0) {
      const message = `${file}: ${unanswered} of ${requests.length} MySQL/PostgreSQL snapshot(s) not taken: the second read of the file did not find their frames (did it change?)`
      summary.warnings.push({code: 'app-replay', message, offset: -1})
    }
  }
  return {file, summary, decode: stats, artifacts: art.summary(), ledger: ledger.data(), flows: [], flowDigests: [(art.digest as FlowDigest).data()]}
}

/**
 * One capture's scan from the scans of its flow shards: counts add up, lists merge back into capture order,
 * and flow ids become unique (shard s's id i becomes i × shards + s).
 */
export function mergeScans(parts: readonly CaptureScan[]): CaptureScan {
  if (parts.length === 1) return parts[0]
  const n = parts.length
  const decode: DecodeStats = {
    // Every shard counted every frame; each frame's other counts went to the one shard it belongs to.
    frames: parts[0].decode.frames,
    unsupported: new Map(),
    truncated: 0,
    malformed: 0,
  }
  for (const p of parts) {
    decode.truncated += p.decode.truncated
    decode.malformed += p.decode.malformed
    for (const [lt, c] of p.decode.unsupported) decode.unsupported.set(lt, (decode.unsupported.get(lt) ?? 0) + c)
  }
  const file = parts[0].file
  // The reader's warnings are the same in every shard; the decoder's are recounted over all of them.
  const warnings = [...parts[0].summary.warnings.filter((w) => w.code !== UNSUPPORTED_LINKTYPE), ...decodeWarnings(file, decode)]
  return {
    file,
    summary: {...parts[0].summary, warnings},
    decode,
    artifacts: mergeArtifactSummaries(parts.map((p) => p.artifacts)),
    ledger: mergeLedgers(parts.map((p) => p.ledger)),
    flows: parts.flatMap((p, s) => p.flows.map((f) => ({...f, id: f.id * n + s}))),
    // The digests stay apart (a merged copy would double their memory): ids are renumbered as they are read.
    ...(parts.every((p) => p.flowDigests !== undefined)
      ? {flowDigests: parts.flatMap((p, s) => (p.flowDigests as FlowDigestData[]).map((d) => ({...d, idScale: d.idScale * n, idOffset: d.idOffset * n + s})))}
      : {}),
  }
}

const WORKER = new URL('./scan-worker.js', import.meta.url)

/**
 * Scan several captures: an incident's director and real-server captures are independent until correlation.
 * Each capture over 64 MiB is split into flow shards when there are more cores than captures (`threads` per
 * capture overrides), and the shards run in worker threads, as many at once as there are cores. Falls back to the
 * calling thread where the compiled worker is absent (running from TypeScript sources).
 */
export async function scanCaptures(files: readonly string[], threads?: number): Promise<(CaptureScan | LvscopeError)[]> {
  const cores = availableParallelism()
  const workers = workerAvailable(WORKER)
  const perCapture = workers ? Math.max(1, Math.floor(cores / files.length)) : 1
  const tasks = files.flatMap((file, i) => {
    // An explicit count is obeyed (stdin excepted: it can be read only once).
    const count = file === '-' ? 1 : (threads ?? shardsFor(file, perCapture))
    return Array.from({length: count}, (_, index) => ({i, file, shard: {index, count}}))
  })
  const useWorkers = workers && tasks.length > 1
  const parts: (CaptureScan | LvscopeError)[] = new Array(tasks.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const t = next++
      const {file, shard} = tasks[t]
      try {
        parts[t] = await (useWorkers ? runInWorker<CaptureScan>(WORKER, {file, shard}) : scanCaptureCompact(file, shard))
      } catch (err) {
        if (!(err instanceof LvscopeError)) throw err
        parts[t] = err
      }
    }
  }
  const lanes = useWorkers ? Math.max(1, Math.min(tasks.length, cores)) : 1
  await Promise.all(Array.from({length: lanes}, lane))
  const scans = files.map((_, i) => {
    const mine = parts.filter((_, t) => tasks[t].i === i)
    const failed = mine.find((p): p is LvscopeError => p instanceof LvscopeError)
    return failed ?? mergeScans(mine as CaptureScan[])
  })
  const ok = scans.filter((s): s is CaptureScan => !(s instanceof LvscopeError))
  for (const s of ok) {
    const n = s.ledger.eventsDropped
    if (n > 0) s.summary.warnings.push({code: 'resets-dropped', message: `${s.file}: ${n} reset(s) after the first ${MAX_RESETS} are counted, not diagnosed`, offset: -1})
  }
  selectFlows(ok)
  return scans
}

/**
 * Fill each scan's `flows` from its digest with the flows the diagnosis can look up: those between the client and
 * service of a reset or stall recorded in any of the captures (a director's reset is explained with the real
 * server's flow). The rest stays in the digest only.
 */
export function selectFlows(scans: CaptureScan[]): void {
  const pairs = new Set<string>()
  const ports = new Set<number>()
  const note = (client: string, service: string): void => {
    pairs.add(`${client}|${service}`)
    ports.add(Number(client.slice(client.lastIndexOf(':') + 1)))
  }
  for (const s of scans) {
    for (const r of s.ledger.resets) note(r.context.client, r.context.service)
    for (const st of s.ledger.stalls) note(st.context.client, st.context.service)
  }
  for (const s of scans) {
    if (s.flowDigests === undefined) continue
    const flows: FlowRecord[] = []
    for (const d of s.flowDigests) recordsFor(d, pairs, ports, flows)
    s.flows = flows
    // Done with: the digests are most of what a capture of many short flows leaves behind.
    delete s.flowDigests
  }
}
