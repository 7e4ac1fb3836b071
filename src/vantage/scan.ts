import type {CaptureSummary} from '../capture/reader.js'
import {decodeCapture, type DecodeStats} from '../decode/stream.js'
import {ArtifactScanner, type ArtifactSummary, type FlowRecord} from './artifacts.js'
import {CaptureLedger} from './ledger.js'

/** Everything one streaming pass learns about one capture. */
export interface CaptureScan {
  file: string
  summary: CaptureSummary
  decode: DecodeStats
  artifacts: ArtifactSummary
  ledger: CaptureLedger
  flows: FlowRecord[]
}

/** Read, decode, pair DR copies, run both Wireshark views and keep the ledger — one pass, bounded memory. */
export async function scanCapture(file: string): Promise<CaptureScan> {
  const art = new ArtifactScanner()
  const ledger = new CaptureLedger()
  const pairer = art.pairer
  const {summary, stats} = await decodeCapture(file, (rec, pkt) => {
    const cls = art.observe(rec, pkt)
    ledger.observe(rec, pkt, cls, pairer.pairFrame, pairer.pairRealServer, pairer.pairDirectorMac, art.lastFlow, art.lastSlot, art.lastIsOrig, art.lastGenuine)
  })
  art.finish()
  return {file, summary, decode: stats, artifacts: art.summary(), ledger, flows: art.flows}
}
