import {existsSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'

import type {CaptureSummary} from '../capture/reader.js'
import {decodeCapture, type DecodeStats} from '../decode/stream.js'
import {LvscopeError} from '../util/errors.js'
import {ArtifactScanner, withCleanViewRetry, type ArtifactSummary, type FlowRecord} from './artifacts.js'
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
export function scanCapture(file: string): Promise<CaptureScan> {
  return withCleanViewRetry((mirror) => scanOnce(file, mirror))
}

async function scanOnce(file: string, mirror: boolean): Promise<CaptureScan> {
  const art = new ArtifactScanner(1, mirror)
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

type Outcome = {ok: CaptureScan} | {error: {code: LvscopeError['code']; message: string; exitCode: number}}

function inWorker(file: string): Promise<CaptureScan> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, {workerData: {file}})
    w.once('message', (m: Outcome) => {
      void w.terminate()
      if ('ok' in m) resolve(m.ok)
      else reject(new LvscopeError(m.error.code, m.error.message, m.error.exitCode))
    })
    w.once('error', reject)
  })
}

/**
 * Scan several captures, one worker thread per capture and as many at once as there are cores: an incident's
 * director and real-server captures are independent until correlation. Falls back to the calling thread where
 * the compiled worker is absent (running from TypeScript sources).
 */
export async function scanCaptures(files: readonly string[]): Promise<(CaptureScan | LvscopeError)[]> {
  const useWorkers = files.length > 1 && WORKER.protocol === 'file:' && existsSync(fileURLToPath(WORKER))
  const out: (CaptureScan | LvscopeError)[] = new Array(files.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++
      try {
        out[i] = await (useWorkers ? inWorker(files[i]) : scanCapture(files[i]))
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
