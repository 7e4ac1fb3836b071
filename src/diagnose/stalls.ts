import type {Cause, Finding} from '../report/report.js'
import {humanDuration} from '../util/time.js'
import type {StallEvent} from '../vantage/ledger.js'
import {gapSeconds, type Incident, type IncidentCapture, isoTimeOf, packetEvidence, refEpoch, round9} from './incident.js'
import {applicationOf} from './application.js'
import {LOSS_FIX, blackholeFix} from './recommend.js'

interface StallSighting {
  cap: IncidentCapture
  stall: StallEvent
  epoch: number
}

/** A client retransmitting the same segment ≥ 3 times without an answer, explained. */
export function stallFindings(inc: Incident): Finding[] {
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
    let cause: Cause = 'genuine-loss'
    let recommendation = LOSS_FIX
    const timeline: string[] = []
    if (ctx.lastForwarded !== null && onDirector) {
      timeline.push(`${isoTimeOf(refEpoch(cap, ctx.lastForwarded.ref))} last client packet the director forwarded (frame ${ctx.lastForwarded.ref.frame})`)
    }
    timeline.push(
      `${isoTimeOf(at.epoch)} client sends ${stall.first.len > 0 ? `${stall.first.len} bytes` : 'a segment'} (seq ${stall.first.seq}), then retransmits it ${stall.retransmissions.length} time(s) over ${humanDuration(hang)} with no answer`,
    )
    if (onDirector && dropped.length > 3) {
      cause = 'real-server-removed'
      const through = firstThrough < 0 ? null : attempts[firstThrough]
      const blackout = through === null ? hang : gapSeconds(stall.first.ref, through.ref)
      recommendation = blackholeFix(blackout)
      timeline.push(
        `the director received ${dropped.length} attempts, forwarded none and sent no RST: its entry points to a real server that is no longer available (removed with expire_nodest_conn=0), so IPVS drops the packets silently`,
      )
      if (through !== null) {
        timeline.push(`${isoTimeOf(refEpoch(cap, through.ref))} attempt forwarded again (frame ${through.ref.frame}), ${humanDuration(blackout)} after the first: the real server is back`)
      }
    } else if (onDirector) {
      timeline.push(`the director forwarded ${forwarded} of ${attempts.length} attempts: they were lost after the director or the answers were lost on the way back`)
    } else {
      timeline.push('no director capture shows whether the attempts were forwarded; answers never reached the client')
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
      confidence: onDirector ? 'high' : 'medium',
      summary: `client ${ctx.client} retransmitted ${stall.retransmissions.length}× without an answer (${cause})`,
      evidence: attempts.slice(0, 8).map((p, i) =>
        packetEvidence(cap, p, `${i === 0 ? 'first transmission' : `retransmission ${i}`}${p.forwarded === true ? ', forwarded' : onDirector ? ', not forwarded' : ''}`),
      ),
      timeline,
      realServerView: null,
      application: recovered === null ? app : app && {...app, symptom: `the ${app.protocol === 'mysql' ? 'query' : 'statement'} hung ${humanDuration(recovered)}, then completed (no error)`},
      recommendation,
    })
  }
  return out
}
