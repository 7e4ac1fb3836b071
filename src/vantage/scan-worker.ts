/** Worker thread entry: scan one capture and post the plain result (see scanCaptures). */
import {workerData} from 'node:worker_threads'

import {postOutcome} from '../util/worker.js'
import {scanCapture} from './scan.js'

const {file} = workerData as {file: string}
await postOutcome(() => scanCapture(file))
