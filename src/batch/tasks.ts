/** What a pool worker does: probe one capture, or analyse one incident. */
import {runIncident, type IncidentTask} from './incident.js'
import {probeCapture} from './probe.js'
import type {FileProblem, IncidentLine, Probe, WalkedCapture} from './types.js'

export type BatchTask = {kind: 'probe'; file: WalkedCapture} | {kind: 'incident'; task: IncidentTask}
export type TaskResult = Probe | FileProblem | IncidentLine

export function runTask(t: BatchTask): Promise<TaskResult> {
  return t.kind === 'probe' ? probeCapture(t.file) : runIncident(t.task)
}
