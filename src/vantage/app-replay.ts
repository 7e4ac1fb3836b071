/**
 * MySQL/PostgreSQL context for the few connections that need it, by a second read of the capture. A scan
 * that ran the protocol trackers on every database connection spent a quarter to a third of its time there
 * (and their records crowd the caches the rest of the scan needs), yet only a reset or a stall takes a
 * snapshot. So the ledger records where each snapshot falls (the flow's 4-tuple, the frame that started the
 * flow, the frame of the event), and this pass feeds only those flows' frames to the same trackers, in the
 * same order, and takes the snapshots at the same frames. Most frames are rejected on their ports, read
 * from the raw bytes, without decoding.
 *
 * The ledger never feeds a director's forwarded copies (or mirror duplicates) to a tracker; this pass cannot
 * tell them apart and feeds them too. A DR or TUN copy is on its original's 4-tuple, and a tracker drops a
 * segment it has already seen by sequence number, so the only trace is in the context's `duplicates` count. A
 * NAT copy is on another 4-tuple, where it would be new data: scan.ts does not replay captures with NAT pairs.
 */
import {readCapture} from '../capture/reader.js'
import {Dir, AppConnections, type AppContext} from '../decode/app/stream.js'
import {decodeRecord} from '../decode/decode.js'
import {Packet, TCP_SYN} from '../decode/packet.js'
import {peekPorts} from '../decode/shard.js'
import {isTcpFlowFrame} from '../flow/tracker.js'

/** Where a ledger event wants a snapshot of its connection's protocol tracker. */
export interface AppRequest {
  /** The frame with which the ledger started this flow (the tracker opens there). */
  firstFrame: number
  /** The event's frame: the snapshot is taken once it has been fed. */
  frame: number
  ipVersion: number
  /** Client and server address as four words each (an IPv4 address in word 0), and their ports. */
  client: number[]
  server: number[]
  clientPort: number
  serverPort: number
  /** Receives the snapshot. */
  target: {app: AppContext | null}
}

/** One flow's replay: its frames from `firstFrame` to the last requested frame. */
interface Replay {
  key: AppRequest
  last: number
  /** Requests by frame (ascending); `next` is the first not yet answered. */
  requests: AppRequest[]
  next: number
  /** The tracker's record number once opened, -1 before. */
  app: number
  /** Every request answered (the tracker is closed). */
  done: boolean
}

/** The 4-tuple as the packet carries it, numbers only (no allocation per frame). */
function tupleHash(ver: number, a: ArrayLike<number>, b: ArrayLike<number>, pa: number, pb: number): number {
  let h = Math.imul(ver ^ ((pa << 16) | pb), 0x9e3779b1)
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ a[i], 0x85ebca6b)
    h = Math.imul(h ^ b[i], 0xc2b2ae35)
  }
  return (h ^ (h >>> 16)) | 0
}

/**
 * Answer every request by reading `file` again; resolves when all are answered or the capture ends, with the
 * number of requests left unanswered (0 unless the file changed since the scan).
 */
export async function replayApps(file: string, requests: readonly AppRequest[]): Promise<number> {
  if (requests.length === 0) return 0
  // Group the requests by flow: the same 4-tuple and the same starting frame.
  const byFlow = new Map<string, Replay>()
  for (const r of requests) {
    const id = `${r.firstFrame}|${r.ipVersion}|${r.client.join(',')}|${r.clientPort}|${r.server.join(',')}|${r.serverPort}`
    let f = byFlow.get(id)
    if (f === undefined) {
      f = {key: r, last: r.frame, requests: [], next: 0, app: -1, done: false}
      byFlow.set(id, f)
    }
    f.requests.push(r)
    if (r.frame > f.last) f.last = r.frame
  }
  // Indexed by the client→server orientation of the tuple; several flows may share one (ports reused).
  const index = new Map<number, Replay[]>()
  const clientPorts = new Uint8Array(65536)
  let pending = 0
  for (const f of byFlow.values()) {
    f.requests.sort((a, b) => a.frame - b.frame)
    const k = f.key
    const h = tupleHash(k.ipVersion, k.client, k.server, k.clientPort, k.serverPort)
    const list = index.get(h)
    if (list === undefined) index.set(h, [f])
    else list.push(f)
    clientPorts[k.clientPort] = 1
    pending++
  }

  const apps = new AppConnections()
  const pkt = new Packet()
  const ports = new Uint16Array(2)
  const src = new Uint32Array(4)
  const dst = new Uint32Array(4)
  const done = new AbortController()
  const find = (frame: number, fromClient: boolean): Replay | null => {
    const h = fromClient ? tupleHash(pkt.ipVersion, src, dst, pkt.sport, pkt.dport) : tupleHash(pkt.ipVersion, dst, src, pkt.dport, pkt.sport)
    const list = index.get(h)
    if (list === undefined) return null
    for (const f of list) {
      const k = f.key
      if (f.done || frame < k.firstFrame || frame > f.last || k.ipVersion !== pkt.ipVersion) continue
      const match = fromClient
        ? pkt.sport === k.clientPort && pkt.dport === k.serverPort && sameWords(src, k.client) && sameWords(dst, k.server)
        : pkt.dport === k.clientPort && pkt.sport === k.serverPort && sameWords(dst, k.client) && sameWords(src, k.server)
      if (match) return f
    }
    return null
  }
  try {
    await readCapture(
      file,
      (rec) => {
        // The abort is seen between read chunks; the rest of this one needs no look.
        if (pending === 0) return
        if (peekPorts(rec, ports) && clientPorts[ports[0]] === 0 && clientPorts[ports[1]] === 0) return
        decodeRecord(rec, pkt)
        if (!isTcpFlowFrame(pkt)) return
        if (clientPorts[pkt.sport] === 0 && clientPorts[pkt.dport] === 0) return
        if (pkt.ipVersion === 4) {
          src[0] = pkt.v4Src >>> 0
          dst[0] = pkt.v4Dst >>> 0
          src[1] = src[2] = src[3] = dst[1] = dst[2] = dst[3] = 0
        } else {
          src.set(pkt.v6Src)
          dst.set(pkt.v6Dst)
        }
        const frame = rec.frame
        let fromClient = true
        let f = find(frame, true)
        if (f === null) {
          fromClient = false
          f = find(frame, false)
          if (f === null) return
        }
        if (f.app < 0) f.app = apps.open(f.key.serverPort)
        // As the ledger feeds its trackers (ledger.ts observe).
        const dir = fromClient ? Dir.ClientToServer : Dir.ServerToClient
        if (pkt.tcpFlags & TCP_SYN) apps.syn(f.app, dir, pkt.seq)
        if (pkt.payloadCaptured > 0) apps.segment(f.app, dir, pkt.data, pkt.payloadOff, pkt.payloadCaptured, pkt.seq, frame, rec.tsSec + rec.tsNsec / 1e9)
        const reqs = f.requests
        // Each request's frame is one of the flow's (`<=` only keeps a missed one from holding up the rest).
        while (f.next < reqs.length && reqs[f.next].frame <= frame) reqs[f.next++].target.app = apps.snapshot(f.app)
        if (f.next === reqs.length) {
          apps.close(f.app)
          f.done = true
          if (--pending === 0) done.abort()
        }
      },
      {signal: done.signal},
    )
  } catch (e) {
    if (!done.signal.aborted) throw e
  }
  let unanswered = 0
  for (const f of byFlow.values()) unanswered += f.requests.length - f.next
  return unanswered
}

function sameWords(a: Uint32Array, b: readonly number[]): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3]
}
