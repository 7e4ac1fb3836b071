/**
 * Worker thread of the streaming pass: reads one capture, runs the sighting handler on every record,
 * and posts packed batches (one per read chunk) to the main thread, waiting for credit when
 * `maxInFlight` batches are unconsumed. New flows are announced with the batch that first uses them.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {LvscopeError} from '../../util/errors.js'
import {PointRules, RsTargets} from './classify.js'
import {EndpointTable} from './endpoints.js'
import {FlowStats} from './flows.js'
import {makeSightingHandler} from './handler.js'
import type {WorkerConfig, WorkerMessage} from './producer.js'
import {SightingQueue} from './queue.js'
import {CaptureSource} from './source.js'

const cfg = workerData as WorkerConfig
const port = parentPort
if (port === null) throw new Error('worker.ts must run as a worker thread')

const services = new EndpointTable()
for (const s of cfg.services) services.add(s[0], s.slice(1, 5), s[5], s[6])
const rsTargets = new RsTargets()
for (const [mac, cap] of cfg.rsTargets) rsTargets.add(mac, cap)
const flows = new FlowStats(services)
const queue = new SightingQueue()
const span = new Float64Array([NaN, NaN])
const rules = new PointRules(cfg.role, cfg.macs, cfg.wantReplies)

let credits = cfg.maxInFlight
let wake: (() => void) | null = null
port.on('message', (m) => {
  if (m !== 'credit') return
  credits++
  const w = wake
  wake = null
  w?.()
})

const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer)

async function run(): Promise<void> {
  let src: CaptureSource
  try {
    src = new CaptureSource(cfg.file, makeSightingHandler({rules, services, flows, rsTargets, baseSec: cfg.baseSec}, queue, span))
  } catch (e) {
    const error = e instanceof LvscopeError ? {code: e.code, message: e.message} : {code: 'io' as const, message: String(e)}
    post({type: 'end', summary: null, error, first: NaN, last: NaN})
    return
  }
  let announced = 0
  while (!src.ended) {
    queue.clear()
    while (queue.n === 0 && !src.ended) {
      const p = src.pump()
      if (typeof p !== 'boolean') await p
    }
    if (queue.n === 0) break
    const newFlows: number[] = []
    for (; announced < flows.size; announced++) {
      const w = flows.clients.wordsOf(announced)
      newFlows.push(flows.clients.versionOf(announced), w[0], w[1], w[2], w[3], flows.clients.portOf(announced), flows.clients.protoOf(announced), flows.serviceOf(announced))
    }
    while (credits === 0) await new Promise<void>((r) => (wake = r))
    credits--
    const buf = queue.pack()
    post({type: 'batch', buf, n: queue.n, first: span[0], last: span[1], flows: newFlows}, [buf])
  }
  try {
    post({type: 'end', summary: src.finish(), error: null, first: span[0], last: span[1]})
  } catch (e) {
    if (!(e instanceof LvscopeError)) throw e
    post({type: 'end', summary: null, error: {code: e.code, message: e.message}, first: span[0], last: span[1]})
  }
}

run().catch((e: unknown) => post({type: 'fatal', message: e instanceof Error ? e.message : String(e)}))
