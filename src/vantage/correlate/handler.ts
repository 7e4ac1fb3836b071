/**
 * The per-record work of the streaming pass for one capture: decode, keep only client↔service
 * packets this capture has a point for, fingerprint, and queue the numbers. Runs in the main thread
 * or in a worker (one per capture); it allocates nothing per record.
 */
import type {CaptureRecord} from '../../capture/record.js'
import {decodeRecord} from '../../decode/decode.js'
import {IPPROTO_TCP, Packet} from '../../decode/packet.js'
import {macNumber} from '../dr-pairs.js'
import {fingerprint, newFingerprint} from '../fingerprint.js'
import {isTransport} from './classify.js'
import type {PointRules, RsTargets} from './classify.js'
import type {EndpointTable} from './endpoints.js'
import type {FlowStats} from './flows.js'
import {KIND_REPLY, KIND_REQUEST, NO_POINT, P} from './points.js'
import type {SightingQueue} from './queue.js'

export interface HandlerEnv {
  rules: PointRules
  services: EndpointTable
  flows: FlowStats
  rsTargets: RsTargets
  /** Whole seconds subtracted from timestamps (shared by all captures). */
  baseSec: number
}

/** `span` receives [first, last] record time (raw, relative to baseSec). */
export function makeSightingHandler(env: HandlerEnv, q: SightingQueue, span: Float64Array): (rec: CaptureRecord) => void {
  const pkt = new Packet()
  const fp = newFingerprint()
  const {rules, services, flows, rsTargets, baseSec} = env
  const isDirector = rules.role === 'director'
  const follow = rules.role !== 'unknown'
  const wantReplies = rules.wantReplies
  return (rec) => {
    if (!rec.hasTs) return
    const t = rec.tsSec - baseSec + rec.tsNsec * 1e-9
    if (Number.isNaN(span[0])) span[0] = t
    if (!(t <= span[1])) span[1] = t
    if (!follow) return
    decodeRecord(rec, pkt)
    if (!isTransport(pkt)) return
    let kind = KIND_REQUEST
    let svc = services.findPacket(pkt, 1)
    if (svc < 0) {
      if (!wantReplies) return
      svc = services.findPacket(pkt, 0)
      if (svc < 0) return
      kind = KIND_REPLY
    }
    const srcMac = isDirector ? macNumber(pkt.data, pkt.macSrcOff) : -1
    const point = rules.pointOf(kind, srcMac, pkt.sllPktType)
    if (point === NO_POINT) return
    fingerprint(pkt, fp)
    const flow = flows.idOf(pkt, kind === KIND_REQUEST ? 0 : 1, svc)
    const rsT = point === P.DIRECTOR_OUT ? rsTargets.lookup(macNumber(pkt.data, pkt.macDstOff)) : -2
    const tcp = pkt.proto === IPPROTO_TCP
    q.push(t, rec.frame, fp.a, fp.b, flow, point, tcp ? pkt.seq : 0, tcp ? pkt.payloadLen : 0, tcp ? pkt.tcpFlags : 0, rsT)
  }
}
