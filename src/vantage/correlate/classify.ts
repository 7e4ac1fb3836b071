/**
 * Per-frame decisions shared by the prefix passes and the streaming pass: is a packet a request
 * (client→service) or a reply, and at which capture point does this capture see it.
 */
import type {Role} from '../../report/report.js'
import {IPPROTO_TCP, IPPROTO_UDP, Stop} from '../../decode/packet.js'
import type {Packet} from '../../decode/packet.js'
import type {EndpointTable} from './endpoints.js'
import {KIND_REPLY, KIND_REQUEST, NO_POINT, P} from './points.js'

export const SLL_OUTGOING = 4

/** True for a TCP/UDP packet whose transport header was decoded (fragments after the first are not). */
export function isTransport(pkt: Packet): boolean {
  if (pkt.ipVersion === 0 || pkt.fragOffset !== 0) return false
  if (pkt.proto !== IPPROTO_TCP && pkt.proto !== IPPROTO_UDP) return false
  return pkt.stop === Stop.Ok || pkt.l4Off >= 0 && pkt.payloadOff >= 0
}

/** KIND_REQUEST when the destination is a service, KIND_REPLY when the source is, else -1. */
export function kindOfPacket(services: EndpointTable, pkt: Packet): number {
  if (services.findPacket(pkt, 1) >= 0) return KIND_REQUEST
  if (services.findPacket(pkt, 0) >= 0) return KIND_REPLY
  return -1
}

/** How one capture maps packets to points. */
export class PointRules {
  constructor(
    readonly role: Role,
    /** The capture host's own MACs (a director's MAC marks its forwarded copies). */
    readonly ownMacs: readonly number[],
    /** Replies are followed only when a client capture exists to see them arrive. */
    readonly wantReplies: boolean,
  ) {}

  /** Point of a packet of `kind` with source MAC `srcMac` (-1 none) and cooked packet type. */
  pointOf(kind: number, srcMac: number, sllPktType: number): number {
    switch (this.role) {
      case 'director':
        if (kind !== KIND_REQUEST) return NO_POINT
        if (sllPktType === SLL_OUTGOING) return P.DIRECTOR_OUT
        if (sllPktType >= 0) return P.DIRECTOR_IN
        if (srcMac < 0) return P.DIRECTOR_OUT // raw IP: no way to tell in from out; repeats fold as duplicates
        for (let i = 0; i < this.ownMacs.length; i++) if (this.ownMacs[i] === srcMac) return P.DIRECTOR_OUT
        return P.DIRECTOR_IN
      case 'real-server':
        if (kind === KIND_REQUEST) return P.RS_IN
        return this.wantReplies && kind === KIND_REPLY ? P.RS_OUT : NO_POINT
      case 'client':
        if (kind === KIND_REQUEST) return P.CLIENT_OUT
        return this.wantReplies && kind === KIND_REPLY ? P.CLIENT_IN : NO_POINT
      default:
        return NO_POINT
    }
  }
}

/** Real-server MACs → capture index, to know which real-server capture a forwarded copy went to. */
export class RsTargets {
  private readonly macs: number[] = []
  private readonly caps: number[] = []
  /** Number of real-server captures. */
  count = 0

  add(mac: number, cap: number): void {
    this.macs.push(mac)
    this.caps.push(cap)
  }

  /** [mac, capture] pairs (to rebuild the table in a worker). */
  entries(): number[][] {
    return this.macs.map((m, i) => [m, this.caps[i]])
  }

  /** Capture index for a destination MAC; -1 when the MAC is no captured real server's; -2 when unknown. */
  lookup(dstMac: number): number {
    if (dstMac < 0) return -2
    for (let i = 0; i < this.macs.length; i++) if (this.macs[i] === dstMac) return this.caps[i]
    return -1
  }
}
