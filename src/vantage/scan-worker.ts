/** Worker thread entry: scan one capture, or one flow shard of it, and post the plain result (see scanCaptures). */
import {workerData} from 'node:worker_threads'

import type {Shard} from '../decode/shard.js'
import {postOutcome} from '../util/worker.js'
import {scanCaptureCompact} from './scan.js'

const {file, shard} = workerData as {file: string; shard?: Shard}
await postOutcome(() => scanCaptureCompact(file, shard))
