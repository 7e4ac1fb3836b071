/**
 * The `artifacts` pass over one capture. Both Wireshark views and the DR pairing are per flow, so a large
 * capture is split by flow across worker threads: each reads and decodes the whole file but analyses only
 * its shard, and the summaries add up (mergeArtifactSummaries).
 */
import {statSync} from 'node:fs'
import {availableParallelism} from 'node:os'

import type {CaptureSummary} from '../capture/reader.js'
import type {CaptureRecord} from '../capture/record.js'
import {decodeCapture} from '../decode/stream.js'
import {runInWorker, workerAvailable} from '../util/worker.js'
import {ArtifactScanner, mergeArtifactSummaries, type ArtifactSummary} from './artifacts.js'
import {shardOf, shardOfRecord} from './shard.js'

export interface ArtifactScan {
  summary: CaptureSummary
  artifacts: ArtifactSummary
}

export interface Shard {
  index: number
  count: number
}

/** Below this a second thread costs more (start-up, a second read) than it saves. */
const SHARD_MIN_BYTES = 64 * 1024 * 1024
/** Each shard re-reads and decodes the whole file, so more than a few stop paying. */
const MAX_SHARDS = 4

const WORKER = new URL('./artifact-scan-worker.js', import.meta.url)

/** Scan on this thread, the frames of one shard only when `shard` is given. */
export async function scanArtifactsHere(file: string, shard: Shard = {index: 0, count: 1}): Promise<ArtifactScan> {
  const sc = new ArtifactScanner({keepFlows: false})
  const {index, count} = shard
  // The other shards' frames are skipped before decoding, from a peek at their ports.
  const want = (rec: CaptureRecord): boolean => {
    const s = shardOfRecord(rec, count)
    return s < 0 || s === index
  }
  const {summary} = await decodeCapture(
    file,
    (rec, pkt) => {
      if (count === 1 || shardOf(pkt, count) === index) sc.observe(rec, pkt)
    },
    count === 1 ? {} : {want},
  )
  sc.finish()
  return {summary, artifacts: sc.summary()}
}

/** How many threads a capture is worth: one for stdin, small files, or a single core. */
export function shardsFor(file: string): number {
  if (!workerAvailable(WORKER)) return 1
  let size = 0
  try {
    const st = statSync(file)
    if (!st.isFile()) return 1
    size = st.size
  } catch {
    return 1 // the scan reports why it cannot be read
  }
  if (size < SHARD_MIN_BYTES) return 1
  return Math.max(1, Math.min(MAX_SHARDS, availableParallelism(), Math.ceil(size / SHARD_MIN_BYTES)))
}

/**
 * Scan one capture with `threads` threads (default: as many as it is worth); the result does not depend on
 * how many. Shard 0 runs on this thread, which would otherwise only wait; so do all of them where the compiled
 * worker is absent (running from sources).
 */
export async function scanArtifacts(file: string, threads?: number): Promise<ArtifactScan> {
  // stdin can be read only once.
  const shards = file === '-' ? 1 : (threads ?? shardsFor(file))
  if (shards <= 1) return scanArtifactsHere(file)
  const workers = workerAvailable(WORKER)
  const parts = await Promise.all(
    Array.from({length: shards}, (_, index) => {
      const shard = {index, count: shards}
      return index === 0 || !workers ? scanArtifactsHere(file, shard) : runInWorker<ArtifactScan>(WORKER, {file, shard})
    }),
  )
  // Every shard read the whole file: its summary and warnings are shard 0's.
  return {summary: parts[0].summary, artifacts: mergeArtifactSummaries(parts.map((p) => p.artifacts))}
}
