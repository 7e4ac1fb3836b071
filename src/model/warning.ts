/**
 * Non-fatal facts about the analysis itself: a cap that was hit (so something was counted but not kept), an
 * ambiguity the inputs leave open (and what would decide it). They reach the report and the terminal.
 */
export type AnalysisWarningCode =
  | 'cap-connections' // a capture's ledger kept its first 100 000 connection starts
  | 'cap-stalls'
  | 'cap-arp-claims'
  | 'cap-owner-changes'
  | 'cap-services' // the scan keeps at most 256 services
  | 'events-dropped' // resets beyond the ledger's cap, counted only
  | 'timeouts-ambiguous' // a timeout has another reading under a condition the inputs do not decide
  | 'timeouts-note'
  | 'capture' // a capture-level warning (reader damage, replay misses), as the scan reported it
  | 'capture-skipped'
  | 'clock'
  | 'correlation'
  | 'reschedule-undecided' // a client moved server; whether the service is persistent is not decided

export interface AnalysisWarning {
  code: AnalysisWarningCode
  /** Human-readable, unescaped: each renderer escapes it for its medium. */
  message: string
  /** The capture concerned, when one is. */
  capture: string | null
  /** What would settle it (a flag, another capture), for ambiguities. */
  decide?: string
}
