import type {Framer} from './framer.js'
import type {PreparedRing} from './prepared.js'
import {type AppRecords, SESSION, SESSION_WORDS} from './records.js'
import {type AppState, type Opaque, Phase} from './state.js'

/**
 * What both directions of one connection share, whichever protocol: the record's session words (each protocol
 * names its own), the prepared statements, and the two framers it can stop.
 */
export abstract class Session<C extends Framer, S extends Framer> {
  client: C | null = null
  server: S | null = null
  protected readonly r: AppRecords

  constructor(readonly st: AppState) {
    this.r = st.r
  }

  get prepared(): PreparedRing {
    return this.r.prepared()
  }

  /** As a new connection has it: every session word 0, no prepared statement (subclasses set their defaults after). */
  reset(): void {
    const o = this.r.o + SESSION
    this.r.nums.fill(0, o, o + SESSION_WORDS)
    this.r.clearPrepared()
  }

  /** Encryption or compression began: nothing more can be decoded either way. */
  stopBoth(why: Opaque): void {
    this.st.opaque = why
    this.st.phase = Phase.Idle
    if (this.client) this.client.stopped = true
    if (this.server) this.server.stopped = true
  }
}
