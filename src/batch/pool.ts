/**
 * A fixed pool of worker threads, each running one task at a time (`--jobs`): probes and incident analyses.
 * Running from TypeScript sources (tests), the compiled worker is absent and tasks run on the calling thread,
 * one at a time.
 */
import {Worker} from 'node:worker_threads'

import {LvscopeError} from '../util/errors.js'
import {workerAvailable} from '../util/worker.js'
import {runTask, type BatchTask, type TaskResult} from './tasks.js'

const WORKER = new URL('./worker.js', import.meta.url)

type Reply = {id: number; ok: TaskResult} | {id: number; error: {code: LvscopeError['code']; message: string; exitCode: number}} | {id: number; crash: string}

interface Slot {
  worker: Worker
  busy: boolean
}

export class TaskPool {
  private readonly slots: Slot[] = []
  private readonly waiting: (() => void)[] = []
  private readonly pending = new Map<number, {resolve: (r: TaskResult) => void; reject: (e: Error) => void}>()
  private nextId = 0
  readonly threaded: boolean
  private inlineBusy: Promise<unknown> = Promise.resolve()

  constructor(readonly size: number) {
    this.threaded = workerAvailable(WORKER)
  }

  run<T extends TaskResult>(task: BatchTask): Promise<T> {
    if (!this.threaded) {
      const p = this.inlineBusy.then(() => runTask(task))
      this.inlineBusy = p.catch(() => {})
      return p as Promise<T>
    }
    return this.acquire().then(
      (slot) =>
        new Promise<T>((resolve, reject) => {
          const id = this.nextId++
          this.pending.set(id, {
            resolve: (r) => {
              this.release(slot)
              resolve(r as T)
            },
            reject: (e) => {
              this.release(slot)
              reject(e)
            },
          })
          slot.worker.postMessage({id, task})
        }),
    )
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
    this.slots.length = 0
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy)
    if (free) {
      free.busy = true
      return Promise.resolve(free)
    }
    if (this.slots.length < this.size) {
      const worker = new Worker(WORKER)
      worker.on('message', (m: Reply) => this.reply(m))
      worker.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e)
        this.pending.clear()
      })
      const slot = {worker, busy: true}
      this.slots.push(slot)
      return Promise.resolve(slot)
    }
    return new Promise((resolve) => this.waiting.push(() => resolve(this.acquire())))
  }

  private release(slot: Slot): void {
    slot.busy = false
    this.waiting.shift()?.()
  }

  private reply(m: Reply): void {
    const p = this.pending.get(m.id)
    if (p === undefined) return
    this.pending.delete(m.id)
    if ('ok' in m) p.resolve(m.ok)
    else if ('error' in m) p.reject(new LvscopeError(m.error.code, m.error.message, m.error.exitCode))
    else p.reject(new Error(m.crash))
  }
}
