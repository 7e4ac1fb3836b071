/**
 * Resets: who sent each RST (M9), and why — for the director's own, by asking the flow's replayed IPVS entry
 * (src/ipvs/replay.ts) what the table held when the trigger arrived. All RSTs of one flow in one episode (no
 * client packet forwarded between them) are one finding with their count, each RST as evidence.
 * Rules: docs/causes.md.
 */
import {TCP_ACK, TCP_RST, TCP_SYN} from '../decode/packet.js'
import type {FlowReplay} from '../ipvs/replay.js'
import type {BoundedField, GapObservation} from '../ipvs/bounds.js'
import {micros, wiresharkFlags, type TimelineEvent} from '../model/timeline.js'
import type {EvidenceFrame, Finding, Sender} from '../report/report.js'
import {humanDuration} from '../util/time.js'
import type {ClientPacket, ResetEvent} from '../vantage/ledger.js'
import {applicationOf} from './application.js'
import type {Failover} from './failovers.js'
import {
  evidence,
  flagText,
  type Incident,
  type IncidentCapture,
  isDirectorMac,
  isoTimeOf,
  packetEvidence,
  refEpoch,
  round9,
} from './incident.js'
import {connectionsOf, flowsBetween, ownerChangesOf} from './lookup.js'
import {
  ABORT_FIX,
  CLIENT_ABORT_FIX,
  FAILOVER_FIX,
  NO_SOCKET_FIX,
  NODEST_RESET_FIX,
  finTimeoutFix,
  idleTimeoutFix,
} from './recommend.js'
import {ruleOf, unknownUnless, type Verdict} from './verdict.js'

/** One RST as every capture that saw it. */
interface Sighting {
  cap: IncidentCapture
  rst: ResetEvent
  epoch: number
}

/** The same RST in several captures: same endpoints, numbers and flags, within clock uncertainty. */
const SAME_RST_WINDOW = 0.05
/** Timers fire on jiffies and captures stamp late: an entry this close to its expiry counts as expired. */
const TIMER_SLACK = 0.98

function groupResets(inc: Incident): Sighting[][] {
  const all: Sighting[] = []
  for (const cap of inc.captures) for (const rst of cap.scan.ledger.resets) all.push({cap, rst, epoch: refEpoch(cap, rst.ref)})
  all.sort((a, b) => a.epoch - b.epoch)
  const groups: Sighting[][] = []
  const open = new Map<string, Sighting[]>()
  for (const s of all) {
    const r = s.rst
    const key = `${r.src}>${r.dst}/${r.seq}/${r.ack}/${r.flags}`
    const g = open.get(key)
    if (g && s.epoch - g[0].epoch <= SAME_RST_WINDOW && !g.some((x) => x.cap === s.cap)) {
      g.push(s)
      continue
    }
    const fresh = [s]
    open.set(key, fresh)
    groups.push(fresh)
  }
  return groups
}

/** Where the RST was emitted, if one of the captures is the sender's own. */
function senderOf(inc: Incident, g: Sighting[]): {sender: Sender; at: Sighting} {
  const first = g[0]
  if (first.rst.fromClient) return {sender: 'client', at: first}
  for (const s of g) {
    if (s.cap.role === 'director' && (isDirectorMac(inc, s.rst.srcMac) || s.rst.outgoing === true)) return {sender: 'director', at: s}
  }
  for (const s of g) {
    if (s.cap.role === 'real-server' && (s.rst.outgoing === true || (s.rst.srcMac !== null && !isDirectorMac(inc, s.rst.srcMac)))) {
      return {sender: 'real-server', at: s}
    }
  }
  for (const s of g) {
    if (isDirectorMac(inc, s.rst.srcMac)) return {sender: 'director', at: s}
    if (s.rst.srcMac !== null && inc.topology.realServers.some((r) => r.mac === s.rst.srcMac)) return {sender: 'real-server', at: s}
  }
  // Shape alone (M9): a socket's RST+ACK carries its IP ID; a stack's no-socket RST has ID 0 and DF.
  if (first.rst.ipId > 0 && first.rst.flags & TCP_ACK) return {sender: 'real-server', at: first}
  return {sender: 'unknown', at: first}
}

/** Did another capture see this flow forwarded by a different director before `epoch`? */
function forwardedElsewhere(inc: Incident, at: Sighting, epoch: number): {cap: IncidentCapture; p: ClientPacket} | null {
  const {client, service} = at.rst.context
  for (const cap of inc.captures) {
    if (cap === at.cap) continue
    for (const r of connectionsOf(cap.scan, client, service)) {
      if (r.director !== null && r.director !== at.rst.srcMac) {
        if (refEpoch(cap, r.syn.ref) < epoch) return {cap, p: r.syn}
      }
    }
    // Client packets reaching a real server from another director's MAC.
    for (const o of ownerChangesOf(cap.scan, client, service)) {
      if (o.dstMac !== null && cap.role !== 'director') {
        if (refEpoch(cap, o.ref) < epoch) return {cap, p: {ref: o.ref, flags: 0, seq: 0, ack: 0, len: 0, ipId: 0, forwarded: null}}
      }
    }
  }
  return null
}

/** The real server's last sight of the flow, when a real-server capture has it. */
function realServerView(inc: Incident, client: string, service: string, after: number): string | null {
  for (const cap of inc.captures) {
    if (cap.role !== 'real-server') continue
    const f = flowsBetween(cap.scan, client, service)[0]
    if (!f) continue
    const serverClosed = (f.orig === service ? f.finOrig + f.rstOrig : f.finResp + f.rstResp) > 0
    const lastRef = f.lastEpoch - cap.offset
    return serverClosed
      ? `${cap.scan.file}: the real server closed or reset its side (Zeek state ${f.state}).`
      : `${cap.scan.file}: the real server last saw this connection at ${isoTimeOf(lastRef)}${lastRef < after ? ', before the reset,' : ''} ` +
          `and never sent FIN or RST: its socket is still ESTABLISHED (until keepalive or an application timeout reaps it).`
  }
  return null
}

function vipOf(service: string): string {
  return service.replace(/^\[?(.*?)\]?:\d+$/, '$1')
}

function clientIpOf(client: string): string {
  return vipOf(client)
}

/** A client frame at the director, as a timeline event. */
function clientEvent(cap: IncidentCapture, p: ClientPacket, client: string, service: string, forwarded: boolean): TimelineEvent {
  return {
    kind: 'client-packet',
    epoch: micros(refEpoch(cap, p.ref)),
    capture: cap.scan.file,
    frame: p.ref.frame,
    from: clientIpOf(client),
    to: vipOf(service),
    flags: wiresharkFlags(p.flags),
    length: p.len,
    forwarded,
  }
}

function rstEvent(s: Sighting, sender: Sender): TimelineEvent {
  const r = s.rst
  return {
    kind: 'rst',
    epoch: micros(s.epoch),
    capture: s.cap.scan.file,
    frame: r.ref.frame,
    from: sender === 'client' ? clientIpOf(r.src) : vipOf(r.src),
    to: clientIpOf(r.dst),
    flags: wiresharkFlags(r.flags),
    length: 0,
  }
}

interface DirectorVerdict extends Verdict {
  /** The idle gap that ended in an expiry reset, and the timer it bounds. */
  killed: {gap: number; field: BoundedField} | null
}

/** The longest client silence any director capture shows an entry surviving (s). */
function longestSurvived(inc: Incident): number {
  let best = 0
  for (const c of inc.captures) best = Math.max(best, c.scan.ledger.longestSurvived?.gap ?? 0)
  return best
}

function lastSeenAtRealServer(inc: Incident, client: string, service: string, before: number): {epoch: number; file: string} | null {
  let best: {epoch: number; file: string} | null = null
  for (const cap of inc.captures) {
    if (cap.role !== 'real-server') continue
    for (const f of flowsBetween(cap.scan, client, service)) {
      const e = f.lastEpoch - cap.offset
      if (e < before && (best === null || e > best.epoch)) best = {epoch: e, file: cap.scan.file}
    }
  }
  return best
}

/** Explain a reset the director's own stack sent: what did its IPVS entry for the flow hold, and why not? */
function directorCause(inc: Incident, at: Sighting, failovers: Failover[]): DirectorVerdict {
  const ctx = at.rst.context
  const cap = at.cap
  const trig = ctx.lastClient
  const v: DirectorVerdict = {
    cause: 'unknown',
    confidence: 'low',
    rule: 'director-reset',
    checks: [],
    decide: null,
    timeline: [],
    evidence: [],
    events: [],
    recommendation: '',
    killed: null,
  }
  if (trig !== null) {
    const fwd = trig.forwarded === true ? 'forwarded' : 'not forwarded (no outbound copy)'
    v.evidence.push(packetEvidence(cap, trig, `trigger: client ${flagText(trig.flags)} seq ${trig.seq} ack ${trig.ack} len ${trig.len}, ${fwd}`))
    v.timeline.push(`${isoTimeOf(refEpoch(cap, trig.ref))} client packet (frame ${trig.ref.frame}) reaches the director and is ${fwd}`)
    if (at.rst.flags === TCP_RST && at.rst.seq === trig.ack)
      v.timeline.push(`the RST carries seq = the trigger's ack, IP ID ${at.rst.ipId}${at.rst.df ? ', DF' : ''}: a no-socket reset from the director's TCP stack (tcp_v4_send_reset)`)
  }
  const lf = ctx.lastForwarded
  const epoch = at.epoch

  // failover-unsynced: the VIP moved to this director and it never forwarded this flow before.
  const moved = failovers.filter((f) => f.toMac === at.rst.srcMac && f.epoch <= epoch)
  if (moved.length > 0 && (lf === null || refEpoch(cap, lf.ref) < moved[moved.length - 1].epoch)) {
    const f = moved[moved.length - 1]
    const other = forwardedElsewhere(inc, at, f.epoch)
    v.timeline.unshift(`${isoTimeOf(f.epoch)} VIP moved to ${f.toMac}${f.fromMac ? ` from ${f.fromMac}` : ''}`)
    v.events.push({kind: 'failover', epoch: micros(f.epoch), capture: f.evidence[0]?.file ?? null, frame: f.evidence[0]?.frame ?? null})
    if (other) {
      v.timeline.unshift(`${isoTimeOf(refEpoch(other.cap, other.p.ref))} the flow was already established through another director (${other.cap.scan.file} frame ${other.p.ref.frame})`)
      v.evidence.push(packetEvidence(other.cap, other.p, 'the flow before the failover'))
    }
    v.evidence.push(...f.evidence.slice(0, 1))
    v.timeline.push('the new director had no entry for the flow: no connection sync, so its stack answered RST')
    v.rule = 'failover-unsynced'
    v.checks = [
      {name: 'VIP moved to the resetting director before the reset', present: true},
      {name: 'this director forwarded nothing of the flow since the move', present: true},
      {name: 'the flow was established through another director before', present: other !== null},
    ]
    return {...v, cause: 'failover-unsynced', confidence: other ? 'high' : 'medium', recommendation: FAILOVER_FIX}
  }

  const replay: FlowReplay | null = inc.model.flowAt(cap, at.rst.flowId)
  if (trig !== null && replay !== null && lf !== null && lf.ref.frame !== trig.ref.frame) {
    const tTrig = refEpoch(cap, trig.ref)
    const q = replay.at(tTrig)
    if (q.status !== 'never' && q.state !== null && q.timeout !== null && q.lastForwardedAt !== null && q.expiresAt !== null) {
      const idle = tTrig - q.lastForwardedAt
      const lastFwdRef = q.lastForwardedFrame ?? lf.ref.frame
      v.evidence.unshift(packetEvidence(cap, lf, `last forwarded client packet (${flagText(lf.flags)}): entry ${q.stateName}, expires ${q.timeout} s later`))
      v.timeline.unshift(`${isoTimeOf(q.lastForwardedAt)} last client packet forwarded (frame ${lastFwdRef}, ${flagText(lf.flags)}): entry ${q.stateName}, timer ${q.timeout} s`)
      v.timeline.splice(1, 0, `${isoTimeOf(q.expiresAt)} entry expires (last forwarded + ${q.timeout} s)`)
      v.events.push(
        clientEvent(cap, lf, ctx.client, ctx.service, true),
        {kind: 'entry-state', epoch: micros(q.lastForwardedAt), capture: cap.scan.file, frame: lastFwdRef, state: q.stateName ?? undefined, timeout: q.timeout},
      )
      if (ctx.clientFin !== null && ctx.clientFin.forwarded === true && ctx.clientFin.ref.frame !== lf.ref.frame) {
        v.events.push(clientEvent(cap, ctx.clientFin, ctx.client, ctx.service, true))
        v.evidence.push(packetEvidence(cap, ctx.clientFin, `the client's FIN, forwarded: the entry went to FIN_WAIT`))
      }
      const drops = ctx.sinceForwarded - 1
      if (drops > 0) {
        // Silent drops of a packet whose entry the timer still held: IPVS does that only for an unavailable
        // real server (M3 step 3); ask the model which configurations drop it.
        const first = ctx.prevClient !== null && ctx.prevClient.ref.frame !== lf.ref.frame ? ctx.prevClient : trig
        const tDrop = refEpoch(cap, first.ref)
        const heldAtDrop = replay.at(tDrop).status === 'held'
        const reasonGone = replay.decisionAt(tDrop, first.flags, {available: false, expireNodestConn: false})
        const reasonLive = replay.decisionAt(tDrop, first.flags, {available: true, expireNodestConn: false})
        v.timeline.splice(2, 0, `${drops} client packet(s) after it were dropped by the director (not forwarded, no reply)`)
        v.timeline.push(
          drops === 1 && !inc.kernel.nodestReschedule
            ? 'one drop, then the reset: expire_nodest_conn=1 on a kernel before 5.9 drops the packet that expires the entry and resets the next'
            : drops === 1
              ? 'one drop, then the reset: on ≥ 5.9 expire_nodest_conn=1 resets the very first packet, so this looks like expire_nodest_conn=0 with the entry expiring meanwhile (or a kernel before 5.9: pass --kernel)'
              : 'a run of silent drops, then the reset: the real server was unavailable with expire_nodest_conn=0 until the entry expired',
        )
        v.events.push(clientEvent(cap, first, ctx.client, ctx.service, false))
        v.rule = 'real-server-removed'
        v.checks = [
          {name: 'the entry was held by its timer when the director dropped the packet', present: heldAtDrop},
          {name: 'dropped silently (no outbound copy, no RST)', present: true},
          {name: 'IPVS drops a held entry only when its real server left the pool (M3 step 3)', present: reasonGone === 'dest-unavailable' && reasonLive === 'entry'},
        ]
        return {
          ...unknownUnless({...v, cause: 'real-server-removed', confidence: 'medium', recommendation: NODEST_RESET_FIX}, 'the director\'s keepalived/ipvsadm log, or a real-server capture, at the time of the first drop'),
          killed: null,
        }
      }
      const expired = q.status === 'expired' || idle >= q.timeout * TIMER_SLACK
      if (expired) {
        v.events.push({kind: 'entry-expired', epoch: micros(q.expiresAt), capture: null, frame: null, state: q.stateName ?? undefined, timeout: q.timeout})
        v.timeline.push(`idle ${humanDuration(idle)} > ${q.stateName} timeout ${q.timeout} s: the entry had expired`)
        const fin = q.state === 'FW'
        if (q.state !== 'ES' && !fin) {
          v.rule = 'entry-expired'
          v.checks = [{name: `an idle timer configurable for ${q.stateName}`, present: false}]
          return {...v, decide: `the entry had expired in ${q.stateName}, which neither idle nor FIN timeouts govern: the flow's earlier packets (a capture from the connection's start)`, recommendation: 'The entry had expired in a closing state; capture the connection from its start to see why the client kept sending.', killed: null}
        }
        const field: BoundedField = fin ? 'tcpfin' : 'tcp'
        const configured = /^(flag|config)/.test(inc.timeouts.source[field])
        v.rule = fin ? 'ipvs-fin-timeout' : 'ipvs-idle-timeout'
        v.checks = [
          {name: 'trigger not forwarded and answered by the director\'s stack', present: trig.forwarded !== true},
          {name: `idle since the last forwarded packet ≥ the ${q.stateName} timer`, present: true},
          {name: 'the timer comes from a flag or configuration', present: configured},
        ]
        return {
          ...v,
          cause: fin ? 'ipvs-fin-timeout' : 'ipvs-idle-timeout',
          // Only a timeout someone configured (flag or file) makes the idle comparison certain.
          confidence: configured ? 'high' : 'medium',
          recommendation: fin ? finTimeoutFix(idle, inc.timeouts) : idleTimeoutFix(idle, inc.timeouts),
          killed: {gap: idle, field},
        }
      }
      // With only the kernel default to go on, the captures themselves may show a shorter real timeout: a silence
      // longer than any the entries survived, ending in a director RST, is an idle expiry below the default.
      const survived = longestSurvived(inc)
      if (q.state === 'ES' && inc.timeouts.source.tcp === 'default' && idle > survived * 1.05) {
        v.timeline.push(
          `idle ${humanDuration(idle)} is below the default tcp timeout of ${q.timeout} s but longer than any silence an entry survived in these captures (${humanDuration(survived)}): the real timeout lies between them`,
        )
        v.rule = 'ipvs-idle-timeout'
        v.checks = [
          {name: 'trigger not forwarded and answered by the director\'s stack', present: trig.forwarded !== true},
          {name: 'idle longer than any silence an entry survived', present: true},
        ]
        return {...v, cause: 'ipvs-idle-timeout', confidence: 'medium', recommendation: idleTimeoutFix(idle, {...inc.timeouts, tcp: Math.floor(idle)}), killed: {gap: idle, field: 'tcp'}}
      }
      // The timer still held the entry, yet the director's stack answered: the entry was deleted before its time.
      v.timeline.push(
        `idle only ${humanDuration(idle)} < ${q.stateName} timeout ${q.timeout} s, yet the entry was gone and the very first packet met the director's stack: ` +
          `the real server was deleted with expire_nodest_conn=1${inc.kernel.nodestReschedule ? ' (kernel ≥ 5.9 expires the entry and resets at once)' : ' (before 5.9 a first packet would have been dropped: check --kernel)'}, or the table was flushed`,
      )
      // Ask the model: with the server in the pool it forwards this packet; removed with expire_nodest_conn=1, it resets.
      const gone = replay.decisionAt(tTrig, trig.flags, {available: false, expireNodestConn: true})
      const live = replay.decisionAt(tTrig, trig.flags, {available: true, expireNodestConn: true})
      v.rule = 'real-server-removed'
      v.checks = [
        {name: 'the entry was held by its timer when the trigger arrived', present: true},
        {name: 'no failover moved the VIP', present: true},
        {name: 'the model forwards this packet while its real server is in the pool, and resets it once removed (expire_nodest_conn=1)', present: live === 'entry' && gone === 'nodest-reschedule'},
      ]
      return {
        ...unknownUnless({...v, cause: 'real-server-removed', confidence: 'medium', recommendation: NODEST_RESET_FIX}, 'the director\'s keepalived/ipvsadm log at that time'),
        decide: 'a real-server removal with expire_nodest_conn=1, or a table flush (ipvsadm -C): the director\'s keepalived/ipvsadm log tells them apart',
        killed: null,
      }
    }
  }

  // This capture never saw the flow forwarded: look for its previous life elsewhere (an RS capture).
  if (trig !== null) {
    const rsLast = lastSeenAtRealServer(inc, ctx.client, ctx.service, epoch)
    if (rsLast !== null) {
      const idle = epoch - rsLast.epoch
      v.timeline.unshift(`${isoTimeOf(rsLast.epoch)} last client packet seen at the real server (${rsLast.file})`)
      if (idle >= inc.timeouts.tcp * TIMER_SLACK) {
        v.rule = 'ipvs-idle-timeout'
        v.checks = [
          {name: 'trigger not forwarded and answered by the director\'s stack', present: trig.forwarded !== true},
          {name: 'idle since the real server last saw the flow ≥ the tcp timer', present: true},
        ]
        return {...v, cause: 'ipvs-idle-timeout', confidence: 'medium', recommendation: idleTimeoutFix(idle, inc.timeouts), killed: null}
      }
    }
    if ((trig.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      v.timeline.push('a SYN answered by the director itself: no virtual service (or no available real server) for this address and port')
      v.rule = 'director-reset-syn'
      v.checks = [{name: 'evidence that a real server left the pool', present: false}]
      return {...v, decide: 'the director\'s `ipvsadm -Ln` at that time (pass it with --config): a missing virtual service, or one without real servers', recommendation: 'The director had no virtual service (or no usable real server) for this SYN; check `ipvsadm -Ln` and keepalived\'s log at that time.', killed: null}
    }
  }
  v.timeline.push('the capture does not show the flow before the reset, so why the entry was missing is not visible')
  v.checks = [{name: 'the flow\'s packets before the reset', present: false}]
  return {
    ...v,
    decide: 'a capture from before the incident (the flow\'s previous packets), to tell idle expiry from failover or removal',
    recommendation: 'Capture from before the incident (the flow\'s previous packets) to tell idle expiry from failover or removal.',
    killed: null,
  }
}

/** A reset the real server sent (M9): which stack state produced it. */
function realServerCause(at: Sighting): Verdict {
  const r = at.rst
  const ctx = r.context
  const trig = ctx.lastClient
  const v: Verdict = {cause: 'unknown', confidence: at.cap.role === 'real-server' ? 'high' : 'medium', rule: '', checks: [], decide: null, timeline: [], evidence: [], events: [], recommendation: ''}
  if (trig !== null) v.evidence.push(packetEvidence(at.cap, trig, `last client packet before the reset (${flagText(trig.flags)} len ${trig.len})`))
  const synTrigger = trig !== null && (trig.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && (r.flags & TCP_ACK) !== 0 && r.ack === ((trig.seq + 1) >>> 0)
  if (synTrigger) {
    v.timeline.push(`RST+ACK answering the SYN (seq 0, ack = its seq + 1, IP ID ${r.ipId}): nothing listens on the port at the real server`)
    v.rule = 'real-server-no-socket'
    v.checks = [
      {name: 'the RST answers a SYN (RST+ACK, ack = SYN seq + 1)', present: true},
      {name: 'sent by the real server', present: true},
    ]
    return {...v, cause: 'real-server-no-socket', recommendation: NO_SOCKET_FIX}
  }
  if (r.ipId !== 0) {
    v.timeline.push(`RST from the real server's socket (IP ID ${r.ipId}, seq ${r.seq}): the server process aborted the connection`)
    v.rule = 'real-server-abort'
    v.checks = [
      {name: 'the RST carries the socket\'s own IP ID (non-zero): an active reset of a live socket', present: true},
      {name: 'sent by the real server', present: true},
    ]
    return {...v, cause: 'real-server-abort', recommendation: ABORT_FIX}
  }
  v.timeline.push(`bare RST with IP ID 0 and seq = the trigger's ack: the real server's stack had no socket for the flow`)
  v.rule = 'real-server-no-socket'
  v.checks = [
    {name: 'IP ID 0 and seq = the trigger\'s ack (tcp_v4_send_reset)', present: r.ipId === 0 && trig !== null && r.seq === trig.ack},
    {name: 'sent by the real server', present: true},
  ]
  if (ctx.serverClosed) {
    v.timeline.push('the real server had closed its side (FIN) earlier: its process closed or died, and the socket it left is gone or reset the data')
    v.decide =
      'the real server\'s net.ipv4.tcp_fin_timeout (60 s by default): if the RST came sooner after the server\'s FIN, the closed socket still existed and reset the data — the server process closed or died (real-server-abort)'
    v.confidence = 'medium'
  }
  return {...v, cause: 'real-server-no-socket', recommendation: NO_SOCKET_FIX}
}

export interface ResetFinding {
  finding: Finding
  /** The idle gap that ended in an expiry reset, as a bound on the real timeout. */
  observation: GapObservation | null
}

interface Judged {
  g: Sighting[]
  sender: Sender
  at: Sighting
}

/**
 * An episode: the director's RSTs of one flow at one capture with no client packet forwarded between them (the
 * same last forwarded packet). Only a director capture tells forwarded from not, so other RSTs stand alone.
 */
function episodes(judged: Judged[]): Judged[][] {
  const out: Judged[][] = []
  const open = new Map<string, Judged[]>()
  for (const j of judged) {
    const r = j.at.rst
    const lf = r.context.lastForwarded?.ref.frame ?? -1
    const key = `${j.at.cap.scan.file}\u0000${r.flowId}\u0000${j.sender}\u0000${lf}`
    const ep = j.sender === 'director' && j.at.cap.role === 'director' && lf >= 0 ? open.get(key) : undefined
    if (ep !== undefined) ep.push(j)
    else {
      const fresh = [j]
      open.set(key, fresh)
      out.push(fresh)
    }
  }
  return out
}

export function resetFindings(inc: Incident, failovers: Failover[]): ResetFinding[] {
  const out: ResetFinding[] = []
  const judged = groupResets(inc).map((g) => ({g, ...senderOf(inc, g)}))
  for (const ep of episodes(judged)) {
    const {sender, at} = ep[0]
    const r = at.rst
    const ctx = r.context
    const flow = {client: ctx.client, service: ctx.service}
    const seenIn: EvidenceFrame[] = []
    for (const j of ep) {
      for (const s of j.g) {
        seenIn.push(evidence(s.cap, s.rst.ref, `RST ${flagText(s.rst.flags)} ${s.rst.src} → ${s.rst.dst}, src MAC ${s.rst.srcMac ?? '?'}, IP ID ${s.rst.ipId}${s.rst.df ? ' DF' : ''}, TTL ${s.rst.ttl}`))
      }
    }
    let v: Verdict
    let observation: GapObservation | null = null
    if (sender === 'client') {
      v = {cause: 'client-abort', confidence: 'high', rule: 'client-abort', checks: [{name: 'the RST comes from the client', present: true}], decide: null, timeline: [], evidence: [], events: [], recommendation: CLIENT_ABORT_FIX}
    } else if (sender === 'director') {
      const d = directorCause(inc, at, failovers)
      v = d
      if (d.killed !== null) {
        const where = seenIn[0]
        observation = {gap: d.killed.gap, state: d.killed.field === 'tcpfin' ? 'FW' : 'ES', survived: false, where: `${where.file}:${where.frame}`}
      }
    } else if (sender === 'real-server') {
      v = realServerCause(at)
    } else {
      v = {cause: 'unknown', confidence: 'low', rule: 'reset-sender', checks: [{name: 'a capture or MAC that shows who sent the RST', present: false}], decide: 'the director\'s or the real server\'s capture at that time', timeline: [], evidence: [], events: [], recommendation: ''}
    }
    const events = [...v.events]
    const trig = ctx.lastClient
    if (trig !== null && sender !== 'client') events.push(clientEvent(at.cap, trig, ctx.client, ctx.service, trig.forwarded === true))
    for (const j of ep) events.push(rstEvent(j.at, j.sender))
    events.sort((a, b) => a.epoch - b.epoch)
    if (ep.length > 1) v.timeline.push(`${ep.length} RSTs on this flow in this episode (no client packet forwarded between them): one cause`)
    const view = sender === 'director' ? realServerView(inc, ctx.client, ctx.service, at.epoch) : null
    const epoch = round9(at.epoch)
    out.push({
      observation,
      finding: {
        kind: 'reset',
        epoch,
        time: isoTimeOf(epoch),
        flow,
        sender,
        cause: v.cause,
        confidence: v.confidence,
        summary: `${sender === 'unknown' ? 'RST' : `RST${ep.length > 1 ? `s (${ep.length})` : ''} from the ${sender.replace('-', ' ')}`} to ${r.dst} (${v.cause})`,
        evidence: [...seenIn, ...v.evidence],
        timeline: v.timeline,
        realServerView: view,
        application:
          sender === 'client' || sender === 'unknown'
            ? null
            : applicationOf(inc, ctx.client, ctx.service, ctx.app, v.cause === 'real-server-abort' ? 'reset-during-query' : 'reset-idle'),
        recommendation: v.recommendation,
        events,
        count: ep.length,
        rule: ruleOf(v),
      },
    })
  }
  return out
}
