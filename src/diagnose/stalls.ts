/**
 * Stalls: a client retransmitting the same segment ≥ 3 times without an answer, explained from what the
 * director did with the attempts, what its replayed entry held, and where the client addressed them.
 * Rules: docs/causes.md.
 */
import type {Cause} from '../model/finding.js'
import {micros, wiresharkFlags, type TimelineEvent} from '../model/timeline.js'
import type {Finding} from '../report/report.js'
import {humanDuration} from '../util/time.js'
import type {ClientPacket, StallEvent} from '../vantage/ledger.js'
import {applicationOf} from './application.js'
import type {Failover} from './failovers.js'
import {gapSeconds, type Incident, type IncidentCapture, isoTimeOf, packetEvidence, refEpoch, round9} from './incident.js'
import {ownerChangesOf} from './lookup.js'
import {FAILOVER_FIX, LOSS_FIX, blackholeFix} from './recommend.js'
import {ruleOf, unknownUnless, type Verdict} from './verdict.js'

interface StallSighting {
  cap: IncidentCapture
  stall: StallEvent
  epoch: number
}

export const STALE_ARP_FIX =
  'The client kept sending to the previous VIP owner\'s MAC after the failover: its ARP (neighbour) entry was not ' +
  'updated, so the gratuitous ARPs did not reach it or were ignored (net.ipv4.conf.*.arp_accept, a firewall, another ' +
  'L2 segment). Make sure the new MASTER\'s gratuitous ARPs reach the clients and routers (keepalived ' +
  '`garp_master_refresh`, `vrrp_garp_master_repeat`), or have the router own the VIP route.'

/** The link-layer destination the client used for the flow at `frame` in `cap` (the VIP owner it believed in). */
function dstMacAt(cap: IncidentCapture, stall: StallEvent, frame: number): string | null {
  let mac: string | null = null
  for (const o of ownerChangesOf(cap.scan, stall.context.client, stall.context.service)) {
    if (o.flowId !== stall.flowId || o.ref.frame > frame) continue
    mac = o.dstMac
  }
  return mac
}

/** Does `cap` belong to the host with `mac` (a director's own capture)? */
function captureOf(inc: Incident, cap: IncidentCapture, mac: string): boolean {
  if (cap.macs?.includes(mac)) return true
  return inc.topology.directors.some((d) => d.mac === mac && d.captures.includes(cap.scan.file))
}

function attemptEvent(cap: IncidentCapture, p: ClientPacket, client: string, service: string, onDirector: boolean): TimelineEvent {
  const ev: TimelineEvent = {
    kind: 'client-packet',
    epoch: micros(refEpoch(cap, p.ref)),
    capture: cap.scan.file,
    frame: p.ref.frame,
    from: client.replace(/:\d+$/, ''),
    to: service.replace(/:\d+$/, ''),
    flags: wiresharkFlags(p.flags),
    length: p.len,
  }
  if (onDirector) ev.forwarded = p.forwarded === true
  return ev
}

export function stallFindings(inc: Incident, failovers: Failover[]): Finding[] {
  const groups = new Map<string, StallSighting[]>()
  for (const cap of inc.captures) {
    for (const stall of cap.scan.ledger.stalls) {
      const key = `${stall.context.client}>${stall.context.service}/${stall.first.seq}`
      const list = groups.get(key) ?? []
      list.push({cap, stall, epoch: refEpoch(cap, stall.first.ref)})
      groups.set(key, list)
    }
  }
  const out: Finding[] = []
  for (const list of groups.values()) {
    // The director's view decides: it alone shows whether IPVS forwarded the attempts.
    const at = list.find((s) => s.cap.role === 'director' && s.cap.scan.artifacts.drCopies > 0) ?? list[0]
    const {stall, cap} = at
    const attempts = [stall.first, ...stall.retransmissions]
    const lastAttempt = attempts[attempts.length - 1]
    const hang = gapSeconds(stall.first.ref, lastAttempt.ref)
    const onDirector = cap.role === 'director' && cap.scan.artifacts.drCopies > 0
    // Attempts the director let through end the black hole; count the ones before the first of them.
    const firstThrough = attempts.findIndex((p) => p.forwarded === true)
    const dropped = firstThrough < 0 ? attempts : attempts.slice(0, firstThrough)
    const forwarded = attempts.length - dropped.length
    const ctx = stall.context
    const v: Verdict = {cause: 'genuine-loss', confidence: onDirector ? 'high' : 'medium', rule: 'genuine-loss', checks: [], decide: null, timeline: [], evidence: [], events: [], recommendation: LOSS_FIX}
    if (ctx.lastForwarded !== null && onDirector) {
      v.timeline.push(`${isoTimeOf(refEpoch(cap, ctx.lastForwarded.ref))} last client packet the director forwarded (frame ${ctx.lastForwarded.ref.frame})`)
    }
    v.timeline.push(
      `${isoTimeOf(at.epoch)} client sends ${stall.first.len > 0 ? `${stall.first.len} bytes` : 'a segment'} (seq ${stall.first.seq}), then retransmits it ${stall.retransmissions.length} time(s) over ${humanDuration(hang)} with no answer`,
    )
    for (const p of attempts) v.events.push(attemptEvent(cap, p, ctx.client, ctx.service, onDirector))

    // stale-arp: after a failover the client still addresses the previous VIP owner.
    const moved = [...failovers].reverse().find((f) => f.fromMac !== null && f.epoch < at.epoch)
    const dst = dstMacAt(cap, stall, stall.first.ref.frame)
    const toOldOwner = moved !== undefined && moved.fromMac !== null && (dst === moved.fromMac || (dst === null && captureOf(inc, cap, moved.fromMac) && cap.role === 'director'))
    let cause: Cause = 'genuine-loss'
    if (moved !== undefined && toOldOwner) {
      cause = 'stale-arp'
      v.rule = 'stale-arp'
      v.checks = [
        {name: 'the VIP moved to another director before the attempts', present: true},
        {name: 'the attempts are addressed to the previous owner\'s MAC after the move', present: true},
      ]
      v.timeline.push(
        `${isoTimeOf(moved.epoch)} VIP moved from ${moved.fromMac} to ${moved.toMac}, yet the attempts still go to ${moved.fromMac}: the client's neighbour entry for the VIP is stale`,
      )
      v.events.push({kind: 'failover', epoch: micros(moved.epoch), capture: moved.evidence[0]?.file ?? null, frame: moved.evidence[0]?.frame ?? null})
      v.evidence.push(...moved.evidence.slice(0, 1))
      v.recommendation = `${STALE_ARP_FIX} ${FAILOVER_FIX}`
      v.confidence = 'high'
    } else if (onDirector && dropped.length > 3) {
      // Dropped silently on a held entry: the model drops only for an unavailable real server (M3 step 3).
      const replay = inc.model.flowAt(cap, stall.flowId)
      const t0 = refEpoch(cap, stall.first.ref)
      const held = replay !== null && replay.at(t0).status === 'held'
      const reasonGone = replay?.decisionAt(t0, stall.first.flags, {available: false, expireNodestConn: false})
      const reasonLive = replay?.decisionAt(t0, stall.first.flags, {available: true, expireNodestConn: false})
      const through = firstThrough < 0 ? null : attempts[firstThrough]
      const blackout = through === null ? hang : gapSeconds(stall.first.ref, through.ref)
      v.timeline.push(
        `the director received ${dropped.length} attempts, forwarded none and sent no RST: its entry points to a real server that is no longer available (removed with expire_nodest_conn=0), so IPVS drops the packets silently`,
      )
      if (through !== null) {
        v.timeline.push(`${isoTimeOf(refEpoch(cap, through.ref))} attempt forwarded again (frame ${through.ref.frame}), ${humanDuration(blackout)} after the first: the real server is back`)
      }
      v.rule = 'real-server-removed'
      v.checks = [
        {name: 'the director received the attempts and forwarded none, with no RST', present: true},
        {name: 'the entry was held by its timer at the first attempt', present: held},
        {name: 'IPVS drops a held entry only when its real server left the pool (M3 step 3)', present: reasonGone === 'dest-unavailable' && reasonLive === 'entry'},
      ]
      const r = unknownUnless({...v, cause: 'real-server-removed', recommendation: blackholeFix(blackout)}, 'the director\'s keepalived/ipvsadm log at the time of the first attempt')
      Object.assign(v, r)
      cause = v.cause
    } else if (onDirector) {
      v.timeline.push(`the director forwarded ${forwarded} of ${attempts.length} attempts: they were lost after the director or the answers were lost on the way back`)
      v.checks = [{name: 'the director forwarded the attempts', present: forwarded > 0}]
    } else {
      v.timeline.push('no director capture shows whether the attempts were forwarded; answers never reached the client')
      v.checks = [{name: 'a director capture shows the attempts', present: false}]
    }
    // A black hole that ended (the server came back) shows the user a hang, not an error.
    const resumed = firstThrough < 0 ? null : attempts[firstThrough]
    const recovered = resumed === null ? null : gapSeconds(stall.first.ref, resumed.ref)
    const app = applicationOf(inc, ctx.client, ctx.service, ctx.app, 'blackhole')
    const epoch = round9(at.epoch)
    out.push({
      kind: 'stall',
      epoch,
      time: isoTimeOf(epoch),
      flow: {client: ctx.client, service: ctx.service},
      sender: 'client',
      cause,
      confidence: v.confidence,
      summary: `client ${ctx.client} retransmitted ${stall.retransmissions.length}× without an answer (${cause})`,
      evidence: [
        ...attempts
          .slice(0, 8)
          .map((p, i) => packetEvidence(cap, p, `${i === 0 ? 'first transmission' : `retransmission ${i}`}${p.forwarded === true ? ', forwarded' : onDirector ? ', not forwarded' : ''}`)),
        ...v.evidence,
      ],
      timeline: v.timeline,
      realServerView: null,
      application: recovered === null ? app : app && {...app, symptom: `the ${app.protocol === 'mysql' ? 'query' : 'statement'} hung ${humanDuration(recovered)}, then completed (no error)`},
      recommendation: v.recommendation,
      events: v.events.sort((a, b) => a.epoch - b.epoch),
      count: attempts.length,
      rule: ruleOf(v),
    })
  }
  return out
}
