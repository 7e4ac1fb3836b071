/**
 * Cross-capture correlation: which capture is the director, the real server or the client; the clock
 * offset (and drift) of each against the reference; and what became of each client packet between the
 * director and the real server.
 *
 *   const r = await correlate([{file: 'director.pcap'}, {file: 'rs1.pcap.gz', clockOffsetSeconds: 2.5}],
 *                             {queries: [{file: 'director.pcap', frame: 1234}]})
 *   r.captures[i]   role, roleReason, clockOffsetSeconds ± clockOffsetUncertainty, clockDriftPpm, clockSource
 *   r.flows         per client flow: matched / lostOnPath / notForwarded / onlyAtRealServer (report.ts)
 *   r.notable       packets not delivered, each with file, frame, reference-clock epoch and every sighting
 *   r.answers       for each query: found, fate, sightings (file, frame, point, epoch)
 */
export {captureRoles, correlate} from './correlate.js'
export {inferRole, RoleEvidence} from './roles.js'
export type {RoleDecision} from './roles.js'
export {EnvelopeEstimator, solveClocks, toReference} from './clock.js'
export type {ClockModel, EnvelopeFit} from './clock.js'
export type * from './types.js'
