/** An Incident from built captures, placed by hand (roles, offsets), through the same model stage as analyze. */
import type {Incident} from '../../src/diagnose/index.js'
import {kernelTraits} from '../../src/ipvs/kernel.js'
import {resolveTimeouts, type TimeoutFlags} from '../../src/ipvs/timeouts.js'
import type {Role} from '../../src/model/roles.js'
import {replayIncident} from '../../src/pipeline/replay.js'
import {scanCapture} from '../../src/vantage/scan.js'
import {buildTopology} from '../../src/vantage/topology.js'
import type {CaptureBuilder} from '../helpers/lvs.js'

export async function incident(
  caps: {b: CaptureBuilder; role: Role; offset?: number; macs?: string[]}[],
  timeouts = '10,4,30',
  more: Omit<TimeoutFlags, 'timeouts'> = {},
): Promise<Incident> {
  const captures = []
  for (const [i, c] of caps.entries()) captures.push({scan: await scanCapture(c.b.write(`cap${i}.pcap`)), role: c.role, offset: c.offset ?? 0, macs: c.macs ?? []})
  const t = resolveTimeouts({flags: {timeouts, ...more}})
  const placed = {captures, topology: buildTopology(captures), persistenceKnown: t.persistence !== null, kernel: kernelTraits('6.1')}
  return {...placed, timeouts: t, model: replayIncident(placed, t)}
}
