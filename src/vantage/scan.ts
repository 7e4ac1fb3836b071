import {availableParallelism} from 'node:os'

import type {CaptureSummary} from '../capture/reader.js'
import {decodeCapture, type DecodeStats} from '../decode/stream.js'
import {LvscopeError} from '../util/errors.js'
import {runInWorker, workerAvailable} from '../util/worker.js'
import {ArtifactScanner, type ArtifactSummary, type FlowRecord} from './artifacts.js'
import {CaptureLedger, type LedgerData} from './ledger.js'

/** Everything one streaming pass learns about one capture (plain data). */
export interface CaptureScan {
  file: string
  summary: CaptureSummary
  decode: DecodeStats
  artifacts: ArtifactSummary
  ledger: LedgerData
  flows: FlowRecord[]
}

/** Read, decode, pair DR copies, run both Wireshark views and keep the ledger — one pass, bounded memory. */
export async function scanCapture(file: string): Promise<CaptureScan> {
  const art = new ArtifactScanner()
  const pairer = art.pairer
  const ledger = new CaptureLedger(pairer.macs)
  const {summary, stats} = await decodeCapture(file, (rec, pkt) => {
    const cls = art.observe(rec, pkt)
    ledger.observe(rec, pkt, cls, pairer.pairFrame, pairer.pairRealServerId, pairer.pairDirectorId, art.lastFlow, art.lastSlot, art.lastIsOrig, art.lastGenuine)
  })
  art.finish()
  return {file, summary, decode: stats, artifacts: art.summary(), ledger: ledger.data(), flows: art.flows}
}

const WORKER = new URL('./scan-worker.js', import.meta.url)

/**
 * Scan several captures, one worker thread per capture and as many at once as there are cores: an incident's
 * director and real-server captures are independent until correlation. Falls back to the calling thread where
 * the compiled worker is absent (running from TypeScript sources).
 */
export async function scanCaptures(files: readonly string[]): Promise<(CaptureScan | LvscopeError)[]> {
  const useWorkers = files.length > 1 && workerAvailable(WORKER)
  const out: (CaptureScan | LvscopeError)[] = new Array(files.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++
      try {
        out[i] = await (useWorkers ? runInWorker<CaptureScan>(WORKER, {file: files[i]}) : scanCapture(files[i]))
      } catch (err) {
        if (!(err instanceof LvscopeError)) throw err
        out[i] = err
      }
    }
  }
  const lanes = useWorkers ? Math.max(1, Math.min(files.length, availableParallelism())) : 1
  await Promise.all(Array.from({length: lanes}, lane))
  return out
}
