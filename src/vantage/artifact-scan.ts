/**
 * The `artifacts` pass over one capture. Both Wireshark views and the DR pairing are per flow, so a large
 * capture is split by flow across worker threads: each reads the whole file but decodes and analyses only
 * its shard's frames, and the summaries add up (mergeArtifactSummaries).
 */
import {availableParallelism} from 'node:os'

import type {CaptureSummary} from '../capture/reader.js'
import type {Shard} from '../decode/shard.js'
import {decodeCapture} from '../decode/stream.js'
import {runInWorker, workerAvailable} from '../util/worker.js'
import {ArtifactScanner, mergeArtifactSummaries, type ArtifactSummary} from './artifacts.js'
import {shardsFor} from './sharding.js'

export interface ArtifactScan {
  summary: CaptureSummary
  artifacts: ArtifactSummary
}

const WORKER = new URL('./artifact-scan-worker.js', import.meta.url)

/** Scan on this thread, the frames of one shard only when `shard` is given. */
export async function scanArtifactsHere(file: string, shard: Shard = {index: 0, count: 1}): Promise<ArtifactScan> {
  const sc = new ArtifactScanner({keepFlows: false})
  const {summary} = await decodeCapture(file, (rec, pkt) => sc.observe(rec, pkt), {shard})
  sc.finish()
  return {summary, artifacts: sc.summary()}
}

/**
 * Scan one capture with `threads` threads (default: as many as it is worth); the result does not depend on
 * how many. Shard 0 runs on this thread, which would otherwise only wait; so do all of them where the compiled
 * worker is absent (running from sources).
 */
export async function scanArtifacts(file: string, threads?: number): Promise<ArtifactScan> {
  // stdin can be read only once.
  const shards = file === '-' ? 1 : (threads ?? (workerAvailable(WORKER) ? shardsFor(file, availableParallelism()) : 1))
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
