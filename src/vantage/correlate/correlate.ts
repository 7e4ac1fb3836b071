/**
 * Cross-capture correlation, the entry point. Three passes:
 *  1. prefix pass A over each capture's first frames: services (VIP:port) and ARP claims;
 *  2. prefix pass B: role evidence, and fingerprints of the first client↔service packets, matched
 *     across captures without a time window for a coarse clock offset;
 *  3. one streaming pass over all captures at once, pulled chunk by chunk and merged in corrected
 *     time order; the matcher decides each packet's fate and refines the offsets (lower envelope).
 * Memory: one chunk per capture, the prefix events, and the packets inside the transit window.
 */
import type {CaptureSummary} from '../../capture/reader.js'
import type {Role} from '../../report/report.js'
import {LvscopeError} from '../../util/errors.js'
import type {CaptureWarning} from '../../util/errors.js'
import {macNumberToString} from '../dr-pairs.js'
import {PointRules, RsTargets} from './classify.js'
import {offsetAt, solveClocks, toReference} from './clock.js'
import type {ClockModel} from './clock.js'
import {coarseEdges} from './coarse.js'
import type {EndpointTable} from './endpoints.js'
import {FlowStats} from './flows.js'
import {FATE, Matcher, ROLE_CLIENT, ROLE_DIRECTOR, ROLE_RS, ROLE_UNKNOWN, Timeline} from './matcher.js'
import type {NotableRecord} from './matcher.js'
import {KIND_REQUEST, pointOfSlot, pointName} from './points.js'
import {decideServices, passA, passB} from './prefix.js'
import type {PassA, PassB} from './prefix.js'
import {InThreadProducer, WorkerProducer, workersAvailable} from './producer.js'
import type {Producer, WorkerConfig} from './producer.js'
import {inferRole} from './roles.js'
import type {RoleEvidence} from './roles.js'
import type {CorrelatedCapture, CorrelateInput, CorrelateOptions, CorrelationResult, Fate, FrameAnswer, NotablePacket, Sighting} from './types.js'

const DEFAULTS = {prefixFrames: 100_000, maxTransitSeconds: 0.2, maxNotable: 1000, maxFlows: 100_000}
/** Drift is fitted only over at least this much matched time. */
const MIN_DRIFT_SPAN = 30
const ROLE_CODE: Record<Role, number> = {director: ROLE_DIRECTOR, 'real-server': ROLE_RS, client: ROLE_CLIENT, unknown: ROLE_UNKNOWN}
/** Merge-order delay per stage along the path (client 0, director 1, real server 2), in guards. */
const STAGE = [1, 2, 0, 0]

interface Profile {
  file: string
  role: Role
  reason: string
  macs: number[]
  rules: PointRules
}

/** Steps 1-2 of correlation, on the first `prefixFrames` of each capture: services, time base, roles. */
async function prefixPlacement(inputs: CorrelateInput[], prefixFrames: number, signal?: AbortSignal) {
  const as: PassA[] = []
  for (const inp of inputs) {
    signal?.throwIfAborted()
    as.push(await passA(inp.file, prefixFrames))
  }
  const services = decideServices(as)
  let baseSec = Infinity
  for (const a of as) if (a.firstSec < baseSec) baseSec = a.firstSec
  if (!Number.isFinite(baseSec)) baseSec = 0
  const bs: PassB[] = []
  for (let c = 0; c < inputs.length; c++) {
    signal?.throwIfAborted()
    bs.push(await passB(inputs[c].file, prefixFrames, services, as[c], baseSec, prefixFrames))
  }
  const decided = inputs.map((inp, c) => {
    const role = inp.role
    if (role !== undefined) return {role, reason: 'given', macs: macsForRole(role, bs[c].evidence)}
    return inferRole(bs[c].evidence)
  })
  return {services, baseSec, bs, decided}
}

/** Roles only (what `artifacts` reports), judged on the first frames of each capture together. */
export async function captureRoles(inputs: CorrelateInput[], prefixFrames = DEFAULTS.prefixFrames): Promise<{role: Role; reason: string}[]> {
  const {decided} = await prefixPlacement(inputs, prefixFrames)
  return decided.map((d) => ({role: d.role, reason: d.reason}))
}

export async function correlate(inputs: CorrelateInput[], opts: CorrelateOptions = {}): Promise<CorrelationResult> {
  if (inputs.length === 0) throw new LvscopeError('usage', 'correlate: no captures given')
  const prefixFrames = opts.prefixFrames ?? DEFAULTS.prefixFrames
  const maxTransit = opts.maxTransitSeconds ?? DEFAULTS.maxTransitSeconds
  const n = inputs.length
  const signal = opts.signal

  const {services, baseSec, bs, decided} = await prefixPlacement(inputs, prefixFrames, signal)
  const wantReplies = decided.some((d) => d.role === 'client')
  const profiles: Profile[] = decided.map((d, c) => ({
    file: inputs[c].file,
    role: d.role,
    reason: d.reason,
    macs: d.macs,
    rules: new PointRules(d.role, d.macs, wantReplies),
  }))
  const rsTargets = new RsTargets()
  profiles.forEach((p, c) => {
    if (p.role !== 'real-server') return
    rsTargets.count++
    for (const m of p.macs) rsTargets.add(m, c)
  })
  for (let c = 0; c < n; c++) {
    const e = bs[c].events
    for (let i = 0; i < e.n; i++) e.point[i] = profiles[c].rules.pointOf(e.kind[i], e.srcMac[i], e.pktType[i])
  }

  // ---- 3. coarse clocks
  let ref = profiles.findIndex((p) => p.role === 'director')
  if (ref < 0) ref = profiles.findIndex((p) => p.role !== 'unknown')
  if (ref < 0) ref = 0
  const fixed = new Map<number, ClockModel>()
  const flagModel = (a: number): ClockModel => ({a, b: 0, uncertainty: 0, source: 'flag', points: 0, driftMeasured: false, at: NaN})
  inputs.forEach((inp, c) => {
    if (inp.clockOffsetSeconds !== undefined) fixed.set(c, flagModel(inp.clockOffsetSeconds))
  })
  if (!fixed.has(ref)) fixed.set(ref, {a: 0, b: 0, uncertainty: 0, source: 'reference', points: 0, driftMeasured: false, at: NaN})
  const coarse = solveClocks(n, fixed, coarseEdges(bs.map((b) => b.events)), 0)
  let worst = 0
  for (const m of coarse) if (m.source === 'estimated' && m.uncertainty > worst) worst = m.uncertainty
  // The guard absorbs what the coarse offset may be wrong by, so upstream sightings are merged first.
  const guard = Math.min(1, Math.max(0.002, 4 * worst + 0.001))

  // ---- 4. streaming pass
  const roleCodes = new Int8Array(profiles.map((p) => ROLE_CODE[p.role]))
  const tl = new Timeline(roleCodes, guard)
  for (let c = 0; c < n; c++) tl.trackOff[c] = coarse[c].a
  const flows = new FlowStats(services.table)
  const queries = new Array<Set<number> | null>(n).fill(null)
  for (const q of opts.queries ?? []) {
    const c = inputs.findIndex((i) => i.file === q.file)
    if (c < 0) continue
    let s = queries[c]
    if (s === null) {
      s = new Set<number>()
      queries[c] = s
    }
    s.add(q.frame)
  }
  const matcher = new Matcher(tl, flows, {guard, maxTransit, maxNotable: opts.maxNotable ?? DEFAULTS.maxNotable, queries})
  const summaries: (CaptureSummary | null)[] = new Array<CaptureSummary | null>(n).fill(null)
  const extraWarnings: CaptureWarning[][] = profiles.map(() => [])
  const threads = opts.threads ?? workersAvailable()
  const producers: Producer[] = profiles.map((p) =>
    threads
      ? new WorkerProducer(workerConfig(p, services.table, rsTargets, baseSec), flows)
      : new InThreadProducer(p.file, {rules: p.rules, services: services.table, flows, rsTargets, baseSec}),
  )
  const queues = producers.map((p) => p.queue)
  const stage = new Float64Array(profiles.map((p) => STAGE[ROLE_CODE[p.role]] * guard))

  const settle = (c: number): void => {
    const pr = producers[c]
    tl.firstRaw[c] = pr.span[0]
    tl.lastRaw[c] = pr.span[1]
    if (!pr.ended || tl.ended[c] === 1) return
    tl.ended[c] = 1
    try {
      summaries[c] = pr.summary()
    } catch (e) {
      if (!(e instanceof LvscopeError)) throw e
      extraWarnings[c].push({code: e.code, message: e.message, offset: 0})
    }
  }
  /** Refill capture c's queue; a promise only when it must wait (worker batch, gzip chunk). */
  const refill = (c: number): Promise<void> | null => {
    const wait = producers[c].refill()
    if (wait === null) {
      settle(c)
      return null
    }
    return wait.then(() => settle(c))
  }

  let nextTrack = -Infinity
  const trackOff = tl.trackOff
  /** The merge loop, synchronous until a refill must wait; returns that wait, or null when all are drained. */
  const merge = (): Promise<void> | null => {
    for (;;) {
      let bc = -1
      let bk = Infinity
      for (let c = 0; c < n; c++) {
        const q = queues[c]
        if (q.r >= q.n) continue
        const k = q.t[q.r] - trackOff[c] + stage[c]
        if (k < bk) {
          bk = k
          bc = c
        }
      }
      if (bc < 0) return null
      const q = queues[bc]
      const r = q.r++
      matcher.event(bc, q.point[r], q.t[r], bk, q.frame[r], q.a[r], q.b[r], q.flow[r], q.seq[r], q.len[r], q.flags[r], q.rsTarget[r])
      if (bk >= nextTrack) {
        track(matcher, tl, fixed, n, guard)
        nextTrack = bk + 1
      }
      if (q.r >= q.n) {
        signal?.throwIfAborted()
        const wait = refill(bc)
        if (wait !== null) return wait
      }
    }
  }

  try {
    for (let c = 0; c < n; c++) await refill(c)
    for (let wait = merge(); wait !== null; wait = merge()) await wait
    matcher.flush()
  } finally {
    for (const p of producers) p.close()
  }

  // ---- 5. final clocks: the envelope over the whole pass; the coarse estimate where it found nothing
  const fine = solveClocks(n, fixed, matcher.edges(MIN_DRIFT_SPAN), 0)
  const models = fine.map((m, c) => (m.source === 'none' && coarse[c].source !== 'none' ? coarse[c] : m))
  const resolution = summaries.map((s) => (s !== null && s.precision === 'nano' ? 1e-9 : 1e-6))
  const epochOf = (c: number, raw: number): number => baseSec + toReference(models[c], raw, 0)

  const captures: CorrelatedCapture[] = profiles.map((p, c) => {
    const m = models[c]
    const s = summaries[c]
    const warnings = [...(s?.warnings ?? []), ...extraWarnings[c]]
    if (m.source === 'none' && p.role !== 'unknown') {
      warnings.push({code: 'no-clock', offset: -1, message: `${p.file}: no packets in common with the other captures; clock offset not estimated`})
    }
    const estimated = m.source === 'estimated'
    return {
      file: p.file,
      role: p.role,
      roleReason: p.reason,
      packets: s?.packets ?? 0,
      clockOffsetSeconds: estimated && !Number.isNaN(m.at) ? offsetAt(m, m.at, 0) : m.a,
      clockOffsetUncertainty: estimated ? m.uncertainty + resolution[c] + resolution[ref] : 0,
      clockDriftPpm: estimated && m.driftMeasured ? m.b * 1e6 : null,
      clockSource: m.source,
      clockOffsetAtEpoch: estimated && !Number.isNaN(m.at) ? baseSec + m.at : null,
      clockPoints: m.points,
      macs: p.macs.map(macNumberToString),
      warnings,
    }
  })

  const sightings = (r: NotableRecord): Sighting[] => {
    const out: Sighting[] = []
    for (let j = 0; j < 4; j++) {
      const c = r.cap[j]
      if (c < 0) continue
      out.push({file: profiles[c].file, frame: r.frame[j], point: pointName(pointOfSlot(r.kind, j)), epoch: epochOf(c, r.raw[j])})
    }
    return out
  }
  const notable: NotablePacket[] = matcher.notable.map((r) => {
    const c = r.cap[r.proof]
    return {
      fate: FATE_NAME[r.fate] as Fate,
      file: profiles[c].file,
      frame: r.frame[r.proof],
      epoch: epochOf(c, r.raw[r.proof]),
      flow: {client: flows.clientString(r.flow), service: flows.serviceString(r.flow)},
      what: describe(r),
      sightings: sightings(r),
    }
  })
  const answers: FrameAnswer[] = (opts.queries ?? []).map((q) => {
    const c = inputs.findIndex((i) => i.file === q.file)
    const r = c >= 0 ? matcher.answers.get(`${c}:${q.frame}`) : undefined
    if (r === undefined) return {file: q.file, frame: q.frame, found: false, fate: null, sightings: []}
    const fate = FATE_NAME[r.fate]
    return {file: q.file, frame: q.frame, found: true, fate: fate === null ? null : (fate as Fate), sightings: sightings(r)}
  })
  const listed = flows.list(opts.maxFlows ?? DEFAULTS.maxFlows, baseSec)
  const vips = new Set<string>()
  const svcList: string[] = []
  for (let i = 0; i < services.table.size; i++) {
    vips.add(services.table.addrString(i))
    svcList.push(services.table.endpointString(i))
  }
  return {
    reference: profiles[ref].file,
    captures,
    vips: [...vips],
    services: svcList,
    flows: listed.flows,
    flowsOmitted: listed.omitted,
    totals: matcher.totals,
    notable,
    notableOmitted: matcher.notableOmitted,
    answers,
  }
}

const FATE_NAME: (Fate | 'reply-delivered' | null)[] = []
FATE_NAME[FATE.DELIVERED] = 'delivered'
FATE_NAME[FATE.LOST_ON_PATH] = 'lost-on-path'
FATE_NAME[FATE.NOT_FORWARDED] = 'not-forwarded'
FATE_NAME[FATE.ONLY_AT_RS] = 'only-at-real-server'
FATE_NAME[FATE.LOST_BEFORE_DIRECTOR] = 'lost-before-director'
FATE_NAME[FATE.REPLY_LOST] = 'reply-lost'
FATE_NAME[FATE.REPLY_DELIVERED] = 'delivered'
FATE_NAME[FATE.UNJUDGED] = null
FATE_NAME[FATE.COUNTED_ELSEWHERE] = 'delivered'

function describe(r: NotableRecord): string {
  let f = ''
  const names = 'FSRPAUEC'
  for (let i = 0; i < 8; i++) if ((r.flags & (1 << i)) !== 0) f += names[i]
  return `${r.kind === KIND_REQUEST ? 'client→service' : 'reply'} ${f || '-'} seq=${r.seq} len=${r.len}`
}

/** Own MACs for a role given by the caller, read from the same evidence inferRole uses. */
function macsForRole(role: Role, ev: RoleEvidence): number[] {
  switch (role) {
    case 'director': {
      const l = ev.drFromMac.list(0.05)
      const top = ev.reqDstMac.top()
      return l.length > 0 ? l : top >= 0 ? [top] : []
    }
    case 'real-server':
      return ev.reqDstMac.list(0.01)
    case 'client':
      return ev.reqSrcMac.list(0.05)
    default:
      return []
  }
}

/** Plain-data settings a worker rebuilds its handler from. */
function workerConfig(p: Profile, services: EndpointTable, rsTargets: RsTargets, baseSec: number): WorkerConfig {
  const svc: number[][] = []
  for (let i = 0; i < services.size; i++) svc.push([services.versionOf(i), ...services.wordsOf(i), services.portOf(i), services.protoOf(i)])
  return {
    file: p.file,
    role: p.role,
    macs: p.macs,
    wantReplies: p.rules.wantReplies,
    services: svc,
    rsTargets: rsTargets.entries(),
    baseSec,
    maxInFlight: 4,
  }
}

/** Follow drift during the pass: move ordering offsets toward the recent envelope, a little at a time. */
function track(matcher: Matcher, tl: Timeline, fixed: Map<number, ClockModel>, n: number, guard: number): void {
  const edges = matcher.recentEdges(3).filter((e) => e.fit.points >= 20)
  if (edges.length === 0) return
  const models = solveClocks(n, fixed, edges, 0)
  const step = guard / 4
  for (let c = 0; c < n; c++) {
    if (models[c].source !== 'estimated') continue
    let d = models[c].a - tl.trackOff[c]
    if (d > step) d = step
    else if (d < -step) d = -step
    tl.trackOff[c] += d
  }
}
