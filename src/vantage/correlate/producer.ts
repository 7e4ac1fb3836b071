/**
 * Where a capture's sightings come from in the streaming pass. `InThreadProducer` reads and decodes
 * in the main thread; `WorkerProducer` has a worker thread do that (one per capture, so two captures
 * decode on two cores while the main thread merges and matches) and receives packed batches, with at
 * most a few in flight so memory stays bounded. Both fill a SightingQueue the merge loop reads.
 */
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'
import type {CaptureSummary} from '../../capture/reader.js'
import type {Role} from '../../report/report.js'
import {LvscopeError} from '../../util/errors.js'
import type {ErrorCode} from '../../util/errors.js'
import type {FlowStats} from './flows.js'
import {makeSightingHandler} from './handler.js'
import type {HandlerEnv} from './handler.js'
import {SightingQueue} from './queue.js'
import {CaptureSource} from './source.js'

export interface Producer {
  readonly queue: SightingQueue
  /** No more sightings will come (the queue may still hold some). */
  readonly ended: boolean
  /** [first, last] record time seen so far (raw, relative to baseSec). */
  readonly span: Float64Array
  /** Refill the drained queue; a promise when it must wait for input. */
  refill(): Promise<void> | null
  /** The capture's summary once ended (throws the reader's LvscopeError when nothing was readable). */
  summary(): CaptureSummary | null
  close(): void
}

export class InThreadProducer implements Producer {
  readonly queue = new SightingQueue()
  readonly span = new Float64Array([NaN, NaN])
  private readonly src: CaptureSource
  private sum: CaptureSummary | null = null
  private error: unknown = null

  constructor(file: string, env: HandlerEnv) {
    this.src = new CaptureSource(file, makeSightingHandler(env, this.queue, this.span))
  }

  get ended(): boolean {
    return this.src.ended
  }

  refill(): Promise<void> | null {
    const q = this.queue
    q.clear()
    while (q.n === 0 && !this.src.ended) {
      const p = this.src.pump()
      if (typeof p !== 'boolean') return this.rest(p)
    }
    this.finishIfEnded()
    return null
  }

  summary(): CaptureSummary | null {
    if (this.error !== null) throw this.error
    return this.sum
  }

  close(): void {
    this.src.close()
  }

  private async rest(first: Promise<boolean>): Promise<void> {
    await first
    while (this.queue.n === 0 && !this.src.ended) {
      const p = this.src.pump()
      if (typeof p !== 'boolean') await p
    }
    this.finishIfEnded()
  }

  private finishIfEnded(): void {
    if (!this.src.ended || this.sum !== null || this.error !== null) return
    try {
      this.sum = this.src.finish()
    } catch (e) {
      this.error = e
    }
  }
}

/** What a worker needs to rebuild the handler's environment (plain data). */
export interface WorkerConfig {
  file: string
  role: Role
  macs: number[]
  wantReplies: boolean
  /** [version, w0, w1, w2, w3, port, proto] per service. */
  services: number[][]
  /** [mac, capture index] per real-server MAC. */
  rsTargets: number[][]
  baseSec: number
  maxInFlight: number
}

/** Fields per announced flow in a batch: version, 4 address words, port, proto, service. */
export const FLOW_FIELDS = 8

export type WorkerMessage =
  | {type: 'batch'; buf: ArrayBuffer; n: number; first: number; last: number; flows: number[]}
  | {type: 'end'; summary: CaptureSummary | null; error: {code: ErrorCode; message: string} | null; first: number; last: number}
  | {type: 'fatal'; message: string}

const WORKER_URL = new URL('./worker.js', import.meta.url)

/** Workers need the compiled worker module (absent when running from TypeScript sources, e.g. in tests). */
export function workersAvailable(): boolean {
  return WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL))
}

export class WorkerProducer implements Producer {
  readonly queue = new SightingQueue()
  readonly span = new Float64Array([NaN, NaN])
  ended = false
  private readonly worker: Worker
  private readonly inbox: WorkerMessage[] = []
  private waiter: ((m: WorkerMessage) => void) | null = null
  private sum: CaptureSummary | null = null
  private error: unknown = null
  /** Worker-local flow id → global flow id. */
  private flowMap = new Int32Array(1024)
  private flowsKnown = 0

  constructor(
    cfg: WorkerConfig,
    private readonly flows: FlowStats,
  ) {
    this.worker = new Worker(WORKER_URL, {workerData: cfg})
    const deliver = (m: WorkerMessage): void => {
      const w = this.waiter
      if (w !== null) {
        this.waiter = null
        w(m)
      } else this.inbox.push(m)
    }
    this.worker.on('message', deliver)
    this.worker.on('error', (e) => deliver({type: 'fatal', message: e.message}))
  }

  refill(): Promise<void> | null {
    this.queue.clear()
    if (this.ended) return null
    const m = this.inbox.shift()
    if (m !== undefined) {
      this.accept(m)
      return null
    }
    return new Promise<void>((resolve) => {
      this.waiter = (msg) => {
        this.accept(msg)
        resolve()
      }
    })
  }

  summary(): CaptureSummary | null {
    if (this.error !== null) throw this.error
    return this.sum
  }

  close(): void {
    this.ended = true
    void this.worker.terminate()
  }

  private accept(m: WorkerMessage): void {
    if (m.type === 'batch') {
      this.announce(m.flows)
      this.queue.adopt(m.buf, m.n)
      const f = this.queue.flow
      for (let i = 0; i < m.n; i++) f[i] = this.flowMap[f[i]]
      if (Number.isNaN(this.span[0])) this.span[0] = m.first
      this.span[1] = m.last
      this.worker.postMessage('credit')
      return
    }
    this.ended = true
    if (m.type === 'end') {
      if (Number.isNaN(this.span[0])) this.span[0] = m.first
      if (!Number.isNaN(m.last)) this.span[1] = m.last
      this.sum = m.summary
      if (m.error !== null) this.error = new LvscopeError(m.error.code, m.error.message)
    } else this.error = new Error(`correlate worker failed: ${m.message}`)
    void this.worker.terminate()
  }

  private announce(list: number[]): void {
    for (let k = 0; k + FLOW_FIELDS <= list.length; k += FLOW_FIELDS) {
      const local = this.flowsKnown++
      if (local >= this.flowMap.length) {
        const g = new Int32Array(this.flowMap.length * 2)
        g.set(this.flowMap)
        this.flowMap = g
      }
      this.flowMap[local] = this.flows.idOfKey(list[k], list.slice(k + 1, k + 5), list[k + 5], list[k + 6], list[k + 7])
    }
  }
}
