/** Worker thread entry: scan one shard of a capture's flows (see scanArtifacts). */
import {workerData} from 'node:worker_threads'

import {postOutcome} from '../util/worker.js'
import type {Shard} from '../decode/shard.js'
import {scanArtifactsHere} from './artifact-scan.js'

const {file, shard} = workerData as {file: string; shard: Shard}
await postOutcome(() => scanArtifactsHere(file, shard))
