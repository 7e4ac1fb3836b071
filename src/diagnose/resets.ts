import type {Cause, Confidence, EvidenceFrame, Finding, Sender} from '../report/report.js'
import {humanDuration} from '../util/time.js'
import type {ClientPacket, ResetEvent} from '../vantage/ledger.js'
import {applicationOf} from './application.js'
import {connectionsOf, flowsBetween, ownerChangesOf} from './lookup.js'
import type {Failover} from './failovers.js'
import {
  evidence,
  flagText,
  gapSeconds,
  type Incident,
  type IncidentCapture,
  isDirectorMac,
  isoTimeOf,
  packetEvidence,
  refEpoch,
  round9,
} from './incident.js'
import {
  ABORT_FIX,
  CLIENT_ABORT_FIX,
  FAILOVER_FIX,
  NO_SOCKET_FIX,
  NODEST_RESET_FIX,
  finTimeoutFix,
  idleTimeoutFix,
} from './recommend.js'

const TCP_FIN = 0x01
const TCP_SYN = 0x02
const TCP_RST = 0x04
const TCP_ACK = 0x10

/** One RST as every capture that saw it. */
interface Sighting {
  cap: IncidentCapture
  rst: ResetEvent
  epoch: number
}

/** The same RST in several captures: same endpoints, numbers and flags, within clock uncertainty. */
const SAME_RST_WINDOW = 0.05

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
function realServerView(inc: Incident, client: string, service: string, after: number): {text: string; ev: EvidenceFrame | null} | null {
  for (const cap of inc.captures) {
    if (cap.role !== 'real-server') continue
    const f = flowsBetween(cap.scan, client, service)[0]
    if (!f) continue
    const serverClosed = (f.orig === service ? f.finOrig + f.rstOrig : f.finResp + f.rstResp) > 0
    const lastRef = f.lastEpoch - cap.offset
    const text = serverClosed
      ? `${cap.scan.file}: the real server closed or reset its side (Zeek state ${f.state}).`
      : `${cap.scan.file}: the real server last saw this connection at ${isoTimeOf(lastRef)}${lastRef < after ? ', before the reset,' : ''} ` +
        `and never sent FIN or RST: its socket is still ESTABLISHED (until keepalive or an application timeout reaps it).`
    return {text, ev: null}
  }
  return null
}

function stateTimeout(inc: Incident, flags: number): {name: string; seconds: number} {
  if (flags & TCP_RST) return {name: 'CLOSE', seconds: 10}
  if (flags & TCP_FIN) return {name: 'FIN_WAIT', seconds: inc.timeouts.tcpfin}
  if (flags & TCP_SYN && !(flags & TCP_ACK)) return {name: 'SYN_RECV', seconds: 60}
  return {name: 'ESTABLISHED', seconds: inc.timeouts.tcp}
}

/** Explain a reset the director's own stack sent: why had its IPVS table no entry for the flow? */
function directorCause(
  inc: Incident,
  at: Sighting,
  failovers: Failover[],
): {cause: Cause; confidence: Confidence; timeline: string[]; evidence: EvidenceFrame[]; recommendation: string; idle: number | null} {
  const ctx = at.rst.context
  const cap = at.cap
  const trig = ctx.lastClient
  const timeline: string[] = []
  const ev: EvidenceFrame[] = []
  if (trig !== null) {
    const fwd = trig.forwarded === true ? 'forwarded' : 'not forwarded (no outbound copy)'
    ev.push(packetEvidence(cap, trig, `trigger: client ${flagText(trig.flags)} seq ${trig.seq} ack ${trig.ack} len ${trig.len}, ${fwd}`))
    timeline.push(`${isoTimeOf(refEpoch(cap, trig.ref))} client packet (frame ${trig.ref.frame}) reaches the director and is ${fwd}`)
    if (at.rst.flags === TCP_RST && at.rst.seq === trig.ack) timeline.push('the RST carries seq = the trigger\'s ack, IP ID ' + at.rst.ipId + (at.rst.df ? ', DF' : '') + ': a no-socket reset from the director\'s TCP stack (tcp_v4_send_reset)')
  }
  const lf = ctx.lastForwarded
  const epoch = at.epoch

  // Failover: the VIP moved to this director and it never forwarded this flow before.
  const moved = failovers.filter((f) => f.toMac === at.rst.srcMac && f.epoch <= epoch)
  if (moved.length > 0 && (lf === null || refEpoch(cap, lf.ref) < moved[moved.length - 1].epoch)) {
    const f = moved[moved.length - 1]
    const other = forwardedElsewhere(inc, at, f.epoch)
    timeline.unshift(`${isoTimeOf(f.epoch)} VIP moved to ${f.toMac}${f.fromMac ? ` from ${f.fromMac}` : ''}`)
    if (other) {
      timeline.unshift(`${isoTimeOf(refEpoch(other.cap, other.p.ref))} the flow was already established through another director (${other.cap.scan.file} frame ${other.p.ref.frame})`)
      ev.push(packetEvidence(other.cap, other.p, 'the flow before the failover'))
    }
    ev.push(...f.evidence.slice(0, 1))
    timeline.push('the new director had no entry for the flow: no connection sync, so its stack answered RST')
    return {cause: 'failover-unsynced', confidence: other ? 'high' : 'medium', timeline, evidence: ev, recommendation: FAILOVER_FIX, idle: null}
  }

  if (lf !== null && trig !== null && lf !== trig && lf.ref.frame !== trig.ref.frame) {
    const idle = gapSeconds(lf.ref, trig.ref)
    const st = stateTimeout(inc, lf.flags)
    const expiry = refEpoch(cap, lf.ref) + st.seconds
    ev.unshift(packetEvidence(cap, lf, `last forwarded client packet (${flagText(lf.flags)}): entry ${st.name}, expires ${st.seconds} s later`))
    timeline.unshift(`${isoTimeOf(refEpoch(cap, lf.ref))} last client packet forwarded (frame ${lf.ref.frame}, ${flagText(lf.flags)}): entry ${st.name}, timer ${st.seconds} s`)
    timeline.splice(1, 0, `${isoTimeOf(expiry)} entry expires (last forwarded + ${st.seconds} s)`)
    const drops = ctx.sinceForwarded - 1
    if (drops > 0) {
      timeline.splice(2, 0, `${drops} client packet(s) after it were dropped by the director (not forwarded, no reply)`)
      timeline.push(
        drops === 1 && !inc.kernel.nodestReschedule
          ? 'one drop, then the reset: expire_nodest_conn=1 on a kernel before 5.9 drops the packet that expires the entry and resets the next'
          : drops === 1
            ? 'one drop, then the reset: on ≥ 5.9 expire_nodest_conn=1 resets the very first packet, so this looks like expire_nodest_conn=0 with the entry expiring meanwhile (or a kernel before 5.9: pass --kernel)'
            : 'a run of silent drops, then the reset: the real server was unavailable with expire_nodest_conn=0 until the entry expired',
      )
      return {
        cause: 'real-server-removed',
        confidence: 'medium',
        timeline,
        evidence: ev,
        recommendation: NODEST_RESET_FIX,
        idle,
      }
    }
    // Timers fire on jiffies and captures stamp late: allow a little slack below the timeout.
    if (idle >= st.seconds * 0.98) {
      timeline.push(`idle ${humanDuration(idle)} > ${st.name} timeout ${st.seconds} s: the entry had expired`)
      const fin = st.name === 'FIN_WAIT'
      return {
        cause: fin ? 'ipvs-fin-timeout' : 'ipvs-idle-timeout',
        // Only a timeout someone configured (flag or file) makes the idle comparison certain.
        confidence: (fin ? inc.timeouts.source.tcpfin : inc.timeouts.source.tcp).match(/^(flag|config)/) ? 'high' : 'medium',
        timeline,
        evidence: ev,
        recommendation: fin ? finTimeoutFix(idle, inc.timeouts) : idleTimeoutFix(idle, inc.timeouts),
        idle,
      }
    }
    // With only the kernel default to go on, the captures themselves may show a shorter real timeout: a silence
    // longer than any the entries survived, ending in a director RST, is an idle expiry below the default.
    const survived = longestSurvived(inc)
    if (st.name === 'ESTABLISHED' && inc.timeouts.source.tcp === 'default' && idle > survived * 1.05) {
      timeline.push(
        `idle ${humanDuration(idle)} is below the default tcp timeout of ${st.seconds} s but longer than any silence an entry survived in these captures (${humanDuration(survived)}): the real timeout lies between them`,
      )
      return {cause: 'ipvs-idle-timeout', confidence: 'medium', timeline, evidence: ev, recommendation: idleTimeoutFix(idle, {...inc.timeouts, tcp: Math.floor(idle)}), idle}
    }
    timeline.push(
      `idle only ${humanDuration(idle)} < ${st.name} timeout ${st.seconds} s, yet the entry was gone and the very first packet met the director's stack: ` +
        `the real server was deleted with expire_nodest_conn=1${inc.kernel.nodestReschedule ? ' (kernel ≥ 5.9 expires the entry and resets at once)' : ' (before 5.9 a first packet would have been dropped: check --kernel)'}, or the table was flushed`,
    )
    return {cause: 'real-server-removed', confidence: 'medium', timeline, evidence: ev, recommendation: NODEST_RESET_FIX, idle}
  }

  // This capture never saw the flow forwarded: look for its previous life elsewhere (an RS capture).
  if (trig !== null) {
    const rsLast = lastSeenAtRealServer(inc, ctx.client, ctx.service, epoch)
    if (rsLast !== null) {
      const idle = epoch - rsLast.epoch
      timeline.unshift(`${isoTimeOf(rsLast.epoch)} last client packet seen at the real server (${rsLast.file})`)
      if (idle >= inc.timeouts.tcp * 0.98) {
        return {cause: 'ipvs-idle-timeout', confidence: 'medium', timeline, evidence: ev, recommendation: idleTimeoutFix(idle, inc.timeouts), idle}
      }
    }
    if ((trig.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      timeline.push('a SYN answered by the director itself: no virtual service (or no available real server) for this address and port')
      return {cause: 'real-server-removed', confidence: 'low', timeline, evidence: ev, recommendation: NODEST_RESET_FIX, idle: null}
    }
  }
  timeline.push('the capture does not show the flow before the reset, so why the entry was missing is not visible')
  return {cause: 'unknown', confidence: 'low', timeline, evidence: ev, recommendation: 'Capture from before the incident (the flow\'s previous packets) to tell idle expiry from failover or removal.', idle: null}
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

export interface ResetFinding {
  finding: Finding
  /** Idle gap that ended in this reset, for timeout bounds (idle-expiry resets only). */
  killedGap: number | null
}

export function resetFindings(inc: Incident, failovers: Failover[]): ResetFinding[] {
  const out: ResetFinding[] = []
  for (const g of groupResets(inc)) {
    const {sender, at} = senderOf(inc, g)
    const r = at.rst
    const ctx = r.context
    const flow = {client: ctx.client, service: ctx.service}
    const seenIn = g.map((s) => evidence(s.cap, s.rst.ref, `RST ${flagText(s.rst.flags)} ${s.rst.src} → ${s.rst.dst}, src MAC ${s.rst.srcMac ?? '?'}, IP ID ${s.rst.ipId}${s.rst.df ? ' DF' : ''}, TTL ${s.rst.ttl}`))
    let cause: Cause = 'unknown'
    let confidence: Confidence = 'low'
    let timeline: string[] = []
    let extra: EvidenceFrame[] = []
    let recommendation = ''
    let killed: number | null = null
    if (sender === 'client') {
      cause = 'client-abort'
      confidence = 'high'
      recommendation = CLIENT_ABORT_FIX
    } else if (sender === 'director') {
      const d = directorCause(inc, at, failovers)
      ;({cause, confidence, timeline, recommendation} = d)
      extra = d.evidence
      if (cause === 'ipvs-idle-timeout' || cause === 'ipvs-fin-timeout') killed = d.idle
    } else if (sender === 'real-server') {
      const socketAbort = r.ipId !== 0 || (r.flags & TCP_ACK) !== 0
      cause = socketAbort ? 'real-server-abort' : 'real-server-no-socket'
      confidence = at.cap.role === 'real-server' ? 'high' : 'medium'
      recommendation = socketAbort ? ABORT_FIX : NO_SOCKET_FIX
      timeline.push(
        socketAbort
          ? `RST+ACK from the real server's socket (IP ID ${r.ipId}, seq ${r.seq}): the server process aborted the connection`
          : `bare RST with IP ID 0 and seq = the trigger's ack: the real server's stack had no socket for the flow`,
      )
      const trig = ctx.lastClient
      if (trig !== null) extra.push(packetEvidence(at.cap, trig, `last client packet before the reset (${flagText(trig.flags)} len ${trig.len})`))
    }
    const view = sender === 'director' ? realServerView(inc, ctx.client, ctx.service, at.epoch) : null
    const epoch = round9(at.epoch)
    out.push({
      killedGap: killed,
      finding: {
        kind: 'reset',
        epoch,
        time: isoTimeOf(epoch),
        flow,
        sender,
        cause,
        confidence,
        summary: `${sender === 'unknown' ? 'RST' : `RST from the ${sender.replace('-', ' ')}`} to ${r.dst} (${cause})`,
        evidence: [...seenIn, ...extra],
        timeline,
        realServerView: view?.text ?? null,
        application:
          sender === 'client' || sender === 'unknown'
            ? null
            : applicationOf(inc, ctx.client, ctx.service, ctx.app, cause === 'real-server-abort' ? 'reset-during-query' : 'reset-idle'),
        recommendation,
      },
    })
  }
  return out
}
