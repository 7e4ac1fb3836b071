#!/usr/bin/env node
// Synthetic LVS-DR capture generator for `npm run bench`.
//
// Writes a classic pcap (µs, little-endian, Ethernet) as seen at an LVS-DR director: tens of thousands
// of MySQL (3306) client flows to one VIP, every client→VIP frame twice (inbound from the client's
// router, outbound to the chosen real server with TTL−1 and a fresh IP checksum), no server replies.
// With --pair it also writes the real-server side of the same traffic (the forwarded frames as the
// real servers receive them, plus their replies from the VIP) on a clock offset by +1.234567 s.
//
// Deterministic: one seeded PRNG drives everything, so the same options give the same bytes.
// Fast: frames are built straight into a large Buffer and written in 32 MiB chunks.
//
// Usage: node bench/generate.js [--size 1G] [--out FILE] [--pair] [--rs-out FILE] [--seed N]
//                               [--flows N] [--idle-timeout SEC] [--force] [--quiet]
// Prints one JSON line describing what was written (or reused).

import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/** Bump when the bytes the generator writes for the same options change: stale files get rebuilt. */
export const GENERATOR_VERSION = 3

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const DATA_DIR = path.join(HERE, 'data')

export function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(String(s).trim())
  if (!m) throw new Error(`bad size: ${s} (use e.g. 200M, 1G)`)
  const mult = {'': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4}[m[2].toLowerCase()]
  return Math.round(Number(m[1]) * mult)
}

export function sizeLabel(bytes) {
  if (bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}G`
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}M`
  return String(bytes)
}

// ---------------------------------------------------------------------------------------------
// Topology constants
const VIP = ip(10, 1, 0, 100)
const MYSQL_PORT = 3306
const N_RS = 4
const N_ROUTERS = 2
const DIRECTOR_MAC = [0x52, 0x54, 0x00, 0xd1, 0x00, 0x01]
const RS_MACS = Array.from({length: N_RS}, (_, i) => [0x52, 0x54, 0x00, 0x5e, 0x00, 0x11 + i])
const ROUTER_MACS = Array.from({length: N_ROUTERS}, (_, i) => [0x00, 0x1c, 0x73, 0x0a, 0x00, 0x01 + i])
/** The real servers send replies to their own default gateway, not via the director (DR). */
const RS_GATEWAY_MAC = [0x00, 0x1c, 0x73, 0x0b, 0x00, 0x01]
const N_CLIENTS = 6000
const CLIENT_TTL_AT_DIRECTOR = 63 // client's 64 minus its router
const RS_TTL = 64
const RS_CLOCK_OFFSET_US = 1_234_567
const EPOCH_START_US = 1_700_000_000 * 1e6
const MSS = 1448 // 1460 − 12 bytes of TCP timestamp option
/** Spacing of back-to-back reply segments from a real server, µs. */
const SEG_GAP_US = 12

function ip(a, b, c, d) {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0
}

// ---------------------------------------------------------------------------------------------
// PRNG: xorshift128 seeded through splitmix-ish mixing; all randomness comes from here.
class Rng {
  constructor(seed) {
    let s = seed >>> 0 || 1
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next() || 1
    this.b = next()
    this.c = next()
    this.d = next()
  }
  u32() {
    let t = this.d
    const s = this.a
    this.d = this.c
    this.c = this.b
    this.b = s
    t ^= t << 11
    t ^= t >>> 8
    this.a = (t ^ s ^ (s >>> 19)) >>> 0
    return this.a
  }
  /** Uniform in [0, 1). */
  f() {
    return this.u32() / 4294967296
  }
  /** Integer in [lo, hi]. */
  int(lo, hi) {
    return lo + Math.floor(this.f() * (hi - lo + 1))
  }
  exp(mean) {
    return -Math.log(1 - this.f()) * mean
  }
}

// ---------------------------------------------------------------------------------------------
// Output: one big Buffer per file, flushed in large sequential writes.
const CHUNK = 32 * 1024 * 1024

class PcapOut {
  constructor(file, clockOffsetUs) {
    this.fd = fs.openSync(file, 'w')
    this.buf = Buffer.allocUnsafe(CHUNK)
    this.pos = 0
    this.bytes = 0
    this.frames = 0
    this.offsetUs = clockOffsetUs
    // Global header: magic, v2.4, thiszone 0, sigfigs 0, snaplen 262144, LINKTYPE_ETHERNET.
    const h = this.buf
    h.writeUInt32LE(0xa1b2c3d4, 0)
    h.writeUInt16LE(2, 4)
    h.writeUInt16LE(4, 6)
    h.writeInt32LE(0, 8)
    h.writeUInt32LE(0, 12)
    h.writeUInt32LE(262144, 16)
    h.writeUInt32LE(1, 20)
    this.pos = 24
  }
  /** Make room for one record of `len` bytes of frame and return the offset of its frame bytes. */
  begin(timeUs, len) {
    if (this.pos + 16 + len > CHUNK) this.flush()
    const b = this.buf
    let p = this.pos
    // Event times are fractional µs; rounding keeps them non-decreasing.
    const t = EPOCH_START_US + Math.round(timeUs) + this.offsetUs
    const sec = Math.floor(t / 1e6)
    const usec = t - sec * 1e6
    p = w32le(b, p, sec)
    p = w32le(b, p, usec)
    p = w32le(b, p, len)
    p = w32le(b, p, len)
    this.pos = p + len
    this.bytes += 16 + len
    this.frames++
    return p
  }
  flush() {
    let off = 0
    while (off < this.pos) off += fs.writeSync(this.fd, this.buf, off, this.pos - off)
    this.pos = 0
  }
  close() {
    this.flush()
    fs.closeSync(this.fd)
  }
  get size() {
    return this.bytes + 24
  }
}

function w32le(b, p, v) {
  b[p] = v & 0xff
  b[p + 1] = (v >>> 8) & 0xff
  b[p + 2] = (v >>> 16) & 0xff
  b[p + 3] = (v >>> 24) & 0xff
  return p + 4
}
function w16be(b, p, v) {
  b[p] = (v >>> 8) & 0xff
  b[p + 1] = v & 0xff
}
function w32be(b, p, v) {
  b[p] = (v >>> 24) & 0xff
  b[p + 1] = (v >>> 16) & 0xff
  b[p + 2] = (v >>> 8) & 0xff
  b[p + 3] = v & 0xff
}
function putMac(b, p, mac) {
  b[p] = mac[0]
  b[p + 1] = mac[1]
  b[p + 2] = mac[2]
  b[p + 3] = mac[3]
  b[p + 4] = mac[4]
  b[p + 5] = mac[5]
}

/** One's-complement sum of 16-bit big-endian words of b[from, to) (to − from may be odd). */
function sum16(b, from, to, acc) {
  let i = from
  const even = to - ((to - from) & 1)
  for (; i < even; i += 2) acc += (b[i] << 8) | b[i + 1]
  if (i < to) acc += b[i] << 8
  return acc
}
function fold(acc) {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536)
  return acc
}

/** Writes a 20-byte IPv4 header (no options) with a correct checksum. */
function ipv4(b, p, totalLen, ipId, df, ttl, src, dst) {
  b[p] = 0x45
  b[p + 1] = 0
  w16be(b, p + 2, totalLen)
  w16be(b, p + 4, ipId)
  b[p + 6] = df ? 0x40 : 0
  b[p + 7] = 0
  b[p + 8] = ttl
  b[p + 9] = 6
  b[p + 10] = 0
  b[p + 11] = 0
  w32be(b, p + 12, src)
  w32be(b, p + 16, dst)
  const c = ~fold(sum16(b, p, p + 20, 0)) & 0xffff
  w16be(b, p + 10, c)
}

/** TCP checksum over pseudo-header + segment at b[p, p + segLen); writes it in place. */
function tcpChecksum(b, p, segLen, src, dst) {
  b[p + 16] = 0
  b[p + 17] = 0
  let acc = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + segLen
  acc = sum16(b, p, p + segLen, acc)
  const c = ~fold(acc) & 0xffff
  w16be(b, p + 16, c)
  return c
}

// ---------------------------------------------------------------------------------------------
// Payload templates: MySQL-ish query text and result-set bytes, sliced per segment.
function makeTemplates(rng) {
  const tables = ['orders', 'customers', 'order_items', 'products', 'sessions', 'inventory', 'payments', 'audit_log']
  const cols = ['id', 'customer_id', 'created_at', 'updated_at', 'status', 'amount', 'sku', 'qty', 'email', 'token', 'region']
  const parts = []
  let len = 0
  while (len < (1 << 20)) {
    const t = tables[rng.int(0, tables.length - 1)]
    const n = rng.int(1, 6)
    const cs = []
    for (let i = 0; i < n; i++) cs.push(cols[rng.int(0, cols.length - 1)])
    let q
    const kind = rng.int(0, 9)
    if (kind < 6) q = `SELECT ${cs.join(', ')} FROM ${t} WHERE ${cols[rng.int(0, 3)]} = ${rng.int(1, 9999999)} AND status IN ('new','paid','shipped') ORDER BY created_at DESC LIMIT ${rng.int(1, 500)} /* app=checkout req=${rng.u32().toString(16)} */ `
    else if (kind < 8) q = `UPDATE ${t} SET ${cs[0]} = '${rng.u32().toString(36)}', updated_at = NOW() WHERE id = ${rng.int(1, 99999999)} `
    else q = `INSERT INTO ${t} (${cs.join(', ')}) VALUES (${cs.map(() => `'${rng.u32().toString(36)}'`).join(', ')}) `
    parts.push(q)
    len += q.length
  }
  const query = Buffer.from(parts.join(''), 'latin1')
  const rows = Buffer.allocUnsafe(1 << 20)
  for (let i = 0; i < rows.length; i++) {
    // Length-encoded text rows: mostly printable with some length bytes and packet headers.
    const r = rng.u32()
    rows[i] = (r & 7) === 0 ? r >>> 24 & 0x3f : 0x20 + ((r >>> 8) % 95)
  }
  return {query, rows}
}

// ---------------------------------------------------------------------------------------------
// Flow state machine. Each flow slot has exactly one pending event; a binary heap orders the slots
// by event time so both files come out in timestamp order.

// Steps
const S_CLIENT_IN = 1 // client segment reaches the director (inbound copy)
const S_CLIENT_OUT = 2 // director forwards it (outbound copy)
const S_CLIENT_RS = 3 // real server receives it (pair only)
const S_SERVER = 4 // real server sends the next reply segment (pair only; otherwise folded in)
const S_DIR_RST = 5 // director's own RST for a segment that matched no connection entry
const S_START = 6 // new connection: client sends SYN

// What the current client segment is
const K_SYN = 1
const K_HS_ACK = 2 // third packet of the handshake
const K_DATA = 3 // query / auth (PSH|ACK)
const K_ACK = 4 // pure ACK of a server reply
const K_FIN = 5 // FIN|ACK
const K_LAST_ACK = 6 // ACK of the server's FIN

// What the server is sending in S_SERVER
const R_SYNACK = 1
const R_DATA = 2
const R_FIN = 3

export function generate(opts) {
  const rng = new Rng(opts.seed)
  const tpl = makeTemplates(rng)
  const NF = opts.flows
  const idleTimeoutUs = opts.idleTimeoutSec * 1e6
  const pair = !!opts.rsOut
  const dir = new PcapOut(opts.out, 0)
  const rs = pair ? new PcapOut(opts.rsOut, RS_CLOCK_OFFSET_US) : null

  // Clients: addresses in 10.2.0.0/15, each behind one of the routers.
  const clientIp = new Uint32Array(N_CLIENTS)
  const clientRouter = new Uint8Array(N_CLIENTS)
  for (let i = 0; i < N_CLIENTS; i++) {
    clientIp[i] = ip(10, 2 + (i >> 14), (i >> 6) & 0xff, ((i & 0x3f) << 2) + 2)
    clientRouter[i] = rng.int(0, N_ROUTERS - 1)
  }
  // Each flow slot belongs to one client (slot mod N_CLIENTS, through a fixed permutation) and owns a
  // private block of that client's ephemeral ports, so no two live flows share a 4-tuple and nothing
  // depends on the order in which slots reconnect.
  const slotClient = new Uint16Array(NF)
  const perm = new Uint16Array(N_CLIENTS)
  for (let i = 0; i < N_CLIENTS; i++) perm[i] = i
  for (let i = N_CLIENTS - 1; i > 0; i--) {
    const j = rng.int(0, i)
    const x = perm[i]
    perm[i] = perm[j]
    perm[j] = x
  }
  for (let f = 0; f < NF; f++) slotClient[f] = perm[f % N_CLIENTS]
  const slotsPerClient = Math.ceil(NF / N_CLIENTS)
  const portBlock = Math.floor(28000 / slotsPerClient)
  const slotPortBase = new Uint16Array(NF)
  const slotPortNext = new Uint16Array(NF)
  for (let f = 0; f < NF; f++) {
    slotPortBase[f] = 32768 + Math.floor(f / N_CLIENTS) * portBlock
    slotPortNext[f] = rng.int(0, portBlock - 1)
  }

  // Per-slot PRNG (xorshift128 in typed arrays): each flow draws only from its own stream, so the
  // director file is byte-identical with and without --pair, whatever order the slots' events run in.
  const rs4 = new Uint32Array(NF * 4)
  for (let i = 0; i < NF * 4; i++) rs4[i] = rng.u32() | (i % 4 === 0 ? 1 : 0)
  function frU32(f) {
    const k = f * 4
    let t = rs4[k + 3]
    const s = rs4[k]
    rs4[k + 3] = rs4[k + 2]
    rs4[k + 2] = rs4[k + 1]
    rs4[k + 1] = s
    t ^= t << 11
    t ^= t >>> 8
    const r = (t ^ s ^ (s >>> 19)) >>> 0
    rs4[k] = r
    return r
  }
  function frF(f) {
    return frU32(f) / 4294967296
  }
  function frInt(f, lo, hi) {
    return lo + Math.floor(frF(f) * (hi - lo + 1))
  }
  function frExp(f, mean) {
    return -Math.log(1 - frF(f)) * mean
  }

  // Per-flow state (typed arrays: this is the generator's hot path too).
  const fTime = new Float64Array(NF)
  const fStep = new Uint8Array(NF)
  const fClient = new Uint16Array(NF)
  const fSport = new Uint16Array(NF)
  const fRs = new Uint8Array(NF)
  const fRtt = new Float64Array(NF) // client↔director RTT, µs
  const fCSeq = new Uint32Array(NF) // client's next sequence number
  const fSSeq = new Uint32Array(NF) // server's next sequence number (= client's ack)
  const fCId = new Uint16Array(NF) // client IP ID counter
  const fSId = new Uint16Array(NF) // server IP ID counter
  const fCTs = new Float64Array(NF) // client TSval base (ms)
  const fSTs = new Float64Array(NF) // server TSval base (ms)
  const fQueries = new Int32Array(NF) // queries left before FIN
  const fIdleAt = new Int32Array(NF) // query index before which the flow idles past the timeout, −1 none
  // Current client segment (replayed for the outbound and real-server copies)
  const sKind = new Uint8Array(NF)
  const sSeq = new Uint32Array(NF)
  const sAck = new Uint32Array(NF)
  const sId = new Uint16Array(NF)
  const sLen = new Uint16Array(NF)
  const sPay = new Uint32Array(NF) // offset into the query template
  const sTsv = new Uint32Array(NF)
  const sTse = new Uint32Array(NF)
  const sCsum = new Uint16Array(NF)
  const sDrop = new Uint8Array(NF) // 1: lost between director and real server (genuine retransmission follows)
  const sIdle = new Uint8Array(NF) // 1: arrives after the director's entry expired
  // Server reply in progress
  const rKind = new Uint8Array(NF)
  const rLeft = new Int32Array(NF) // reply bytes still to send
  const rPay = new Uint32Array(NF)
  const rFirst = new Uint8Array(NF)

  const stats = {flows: 0, midstream: 0, retrans: 0, dirRst: 0, queries: 0}

  function newFlow(f, t, midstream) {
    fClient[f] = slotClient[f]
    slotPortNext[f] = (slotPortNext[f] + frInt(f, 1, 7)) % portBlock
    fSport[f] = slotPortBase[f] + slotPortNext[f]
    fRs[f] = frInt(f, 0, N_RS - 1)
    fRtt[f] = frInt(f, 80, 600)
    fCSeq[f] = frU32(f)
    fSSeq[f] = frU32(f)
    fCId[f] = frU32(f) & 0xffff
    fSId[f] = frU32(f) & 0xffff
    fCTs[f] = frInt(f, 1, 2 ** 31)
    fSTs[f] = frInt(f, 1, 2 ** 31)
    fQueries[f] = 1 + Math.floor(frExp(f, 20))
    fIdleAt[f] = frF(f) < opts.idleFraction ? frInt(f, 1, fQueries[f]) : -1
    stats.flows++
    if (midstream) {
      // Already established when the capture starts: no handshake in the file.
      stats.midstream++
      fIdleAt[f] = -1
      fTime[f] = t + frF(f) * opts.thinkMeanUs
      prepareQuery(f)
      sTsv[f] = clientTs(f, fTime[f])
      sTse[f] = serverTs(f, fTime[f] - 1000)
      fStep[f] = S_CLIENT_IN
    } else {
      fTime[f] = t
      fStep[f] = S_START
    }
  }

  // TCP timestamp clocks tick in ms from a per-host random base (t is µs since capture start).
  function clientTs(f, t) {
    return (fCTs[f] + Math.floor(t / 1000)) >>> 0
  }
  function serverTs(f, t) {
    return (fSTs[f] + Math.floor((t + 1e6) / 1000)) >>> 0
  }

  function setSeg(f, kind, len) {
    sKind[f] = kind
    sSeq[f] = fCSeq[f]
    sAck[f] = fSSeq[f]
    sLen[f] = len
    fCId[f] = (fCId[f] + 1) & 0xffff
    sId[f] = fCId[f]
    sDrop[f] = 0
    sIdle[f] = 0
  }

  function queryLen(f) {
    const r = frF(f)
    if (r < 0.7) return frInt(f, 60, 300)
    if (r < 0.95) return frInt(f, 300, 900)
    return frInt(f, 900, 1400)
  }

  function prepareQuery(f) {
    setSeg(f, K_DATA, queryLen(f))
    sPay[f] = frInt(f, 0, tpl.query.length - 1500)
    sDrop[f] = frF(f) < opts.retransRate ? 1 : 0
  }

  /**
   * Writes the current client segment of flow f into `out` at time t as one copy:
   * copy 0 inbound (router → director), 1 outbound (director → real server), 2 as the RS receives it.
   */
  function writeClient(out, f, t, copy) {
    const kind = sKind[f]
    const optLen = kind === K_SYN ? 20 : 12
    const tcpLen = 20 + optLen
    const payLen = sLen[f]
    const len = 14 + 20 + tcpLen + payLen
    const p = out.begin(t, len)
    const b = out.buf
    const c = fClient[f]
    if (copy === 0) {
      putMac(b, p, DIRECTOR_MAC)
      putMac(b, p + 6, ROUTER_MACS[clientRouter[c]])
    } else {
      putMac(b, p, RS_MACS[fRs[f]])
      putMac(b, p + 6, DIRECTOR_MAC)
    }
    b[p + 12] = 0x08
    b[p + 13] = 0x00
    const src = clientIp[c]
    ipv4(b, p + 14, 20 + tcpLen + payLen, sId[f], true, copy === 0 ? CLIENT_TTL_AT_DIRECTOR : CLIENT_TTL_AT_DIRECTOR - 1, src, VIP)
    const q = p + 34
    w16be(b, q, fSport[f])
    w16be(b, q + 2, MYSQL_PORT)
    w32be(b, q + 4, sSeq[f])
    let flags
    switch (kind) {
      case K_SYN: flags = 0x02; break
      case K_DATA: flags = 0x18; break
      case K_FIN: flags = 0x11; break
      default: flags = 0x10
    }
    w32be(b, q + 8, kind === K_SYN ? 0 : sAck[f])
    b[q + 12] = (tcpLen / 4) << 4
    b[q + 13] = flags
    w16be(b, q + 14, kind === K_SYN ? 64240 : 502)
    b[q + 16] = 0
    b[q + 17] = 0
    b[q + 18] = 0
    b[q + 19] = 0
    let o = q + 20
    if (kind === K_SYN) {
      // MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (Linux order)
      b[o] = 2; b[o + 1] = 4; w16be(b, o + 2, 1460)
      b[o + 4] = 4; b[o + 5] = 2
      b[o + 6] = 8; b[o + 7] = 10; w32be(b, o + 8, sTsv[f]); w32be(b, o + 12, 0)
      b[o + 16] = 1; b[o + 17] = 3; b[o + 18] = 3; b[o + 19] = 7
      o += 20
    } else {
      b[o] = 1; b[o + 1] = 1; b[o + 2] = 8; b[o + 3] = 10
      w32be(b, o + 4, sTsv[f]); w32be(b, o + 8, sTse[f])
      o += 12
    }
    if (payLen > 0) {
      // MySQL packet header: 3-byte length, sequence id 0, COM_QUERY, then query text.
      const body = payLen - 4
      b[o] = body & 0xff
      b[o + 1] = (body >>> 8) & 0xff
      b[o + 2] = 0
      b[o + 3] = 0
      b[o + 4] = 0x03
      tpl.query.copy(b, o + 5, sPay[f], sPay[f] + payLen - 5)
    }
    // The TCP checksum is the same for all copies (TTL is not in the pseudo-header): compute once.
    if (copy === 0) sCsum[f] = tcpChecksum(b, q, tcpLen + payLen, src, VIP)
    else w16be(b, q + 16, sCsum[f])
  }

  /** A real-server reply segment (pair only): src VIP:3306, RS MAC → its gateway. */
  function writeServer(f, t, flags, payLen, withOpts) {
    const optLen = withOpts === 2 ? 20 : 12
    const tcpLen = 20 + optLen
    const len = 14 + 20 + tcpLen + payLen
    const p = rs.begin(t, len)
    const b = rs.buf
    const c = fClient[f]
    putMac(b, p, RS_GATEWAY_MAC)
    putMac(b, p + 6, RS_MACS[fRs[f]])
    b[p + 12] = 0x08
    b[p + 13] = 0x00
    fSId[f] = (fSId[f] + 1) & 0xffff
    const dst = clientIp[c]
    ipv4(b, p + 14, 20 + tcpLen + payLen, withOpts === 2 ? 0 : fSId[f], true, RS_TTL, VIP, dst)
    const q = p + 34
    w16be(b, q, MYSQL_PORT)
    w16be(b, q + 2, fSport[f])
    w32be(b, q + 4, fSSeq[f])
    w32be(b, q + 8, fCSeq[f])
    b[q + 12] = (tcpLen / 4) << 4
    b[q + 13] = flags
    w16be(b, q + 14, withOpts === 2 ? 65160 : 509)
    b[q + 18] = 0
    b[q + 19] = 0
    let o = q + 20
    const tsv = serverTs(f, t)
    if (withOpts === 2) {
      b[o] = 2; b[o + 1] = 4; w16be(b, o + 2, 1460)
      b[o + 4] = 4; b[o + 5] = 2
      b[o + 6] = 8; b[o + 7] = 10; w32be(b, o + 8, tsv); w32be(b, o + 12, sTsv[f])
      b[o + 16] = 1; b[o + 17] = 3; b[o + 18] = 3; b[o + 19] = 7
      o += 20
    } else {
      b[o] = 1; b[o + 1] = 1; b[o + 2] = 8; b[o + 3] = 10
      w32be(b, o + 4, tsv); w32be(b, o + 8, sTsv[f])
      o += 12
    }
    if (payLen > 0) {
      if (rFirst[f]) {
        const body = Math.min(payLen, 0xffffff) - 4
        tpl.rows.copy(b, o, rPay[f], rPay[f] + payLen)
        b[o] = body & 0xff
        b[o + 1] = (body >>> 8) & 0xff
        b[o + 2] = 0
        b[o + 3] = 1
        rFirst[f] = 0
      } else {
        tpl.rows.copy(b, o, rPay[f], rPay[f] + payLen)
      }
      rPay[f] += payLen
    }
    tcpChecksum(b, q, tcpLen + payLen, VIP, dst)
  }

  function replyLen(f) {
    const r = frF(f)
    if (r < 0.7) return frInt(f, 11, 200)
    if (r < 0.96) return frInt(f, 200, 1800)
    return frInt(f, 1800, 12000)
  }

  /** Server work time before a reply, µs. */
  function serverDelay(f) {
    return frF(f) < 0.05 ? frInt(f, 5000, 40000) : frInt(f, 80, 2500)
  }

  /** The client's segment has been handled by the real server: decide what the server does next. */
  function afterServerGotClient(f, t) {
    switch (sKind[f]) {
      case K_SYN:
        startReply(f, t + frInt(f, 10, 40), R_SYNACK, 0)
        return
      case K_HS_ACK:
        // Server speaks first in MySQL: greeting ~78–95 bytes.
        startReply(f, t + frInt(f, 50, 300), R_DATA, frInt(f, 78, 95))
        return
      case K_DATA:
        startReply(f, t + serverDelay(f), R_DATA, replyLen(f))
        return
      case K_ACK:
        clientThink(f, t)
        return
      case K_FIN:
        startReply(f, t + frInt(f, 20, 100), R_FIN, 0)
        return
      case K_LAST_ACK:
        newFlow(f, t + frExp(f, opts.reconnectMeanUs), false)
        return
    }
  }

  function startReply(f, t, kind, bytes) {
    rKind[f] = kind
    rLeft[f] = bytes
    rPay[f] = frInt(f, 0, tpl.rows.length - 30000)
    rFirst[f] = 1
    if (pair) {
      fTime[f] = t
      fStep[f] = S_SERVER
    } else {
      // Nobody captures the replies: advance the server's sequence space and go straight to the client.
      // Same arithmetic as serverStep (no PRNG draws there), so the director file does not change.
      const segs = kind === R_DATA ? Math.max(1, Math.ceil(bytes / MSS)) : 1
      fSSeq[f] = (fSSeq[f] + (kind === R_DATA ? bytes : 1)) >>> 0
      clientReacts(f, t + (segs - 1) * SEG_GAP_US)
    }
  }

  /** RS sends one reply segment at t (pair only). */
  function serverStep(f, t) {
    const kind = rKind[f]
    if (kind === R_SYNACK) {
      writeServer(f, t, 0x12, 0, 2)
      fSSeq[f] = (fSSeq[f] + 1) >>> 0
      clientReacts(f, t)
      return
    }
    if (kind === R_FIN) {
      writeServer(f, t, 0x11, 0, 1)
      fSSeq[f] = (fSSeq[f] + 1) >>> 0
      clientReacts(f, t)
      return
    }
    const n = rLeft[f] > MSS ? MSS : rLeft[f]
    writeServer(f, t, rLeft[f] > MSS ? 0x10 : 0x18, n, 1)
    fSSeq[f] = (fSSeq[f] + n) >>> 0
    rLeft[f] -= n
    if (rLeft[f] > 0) fTime[f] = t + SEG_GAP_US
    else clientReacts(f, t)
  }

  /** The server's last segment left at t; the client sees it about rtt/2 later and answers. */
  function clientReacts(f, t) {
    const half = fRtt[f] / 2
    let at = t + half + frInt(f, 5, 60) + half
    switch (rKind[f]) {
      case R_SYNACK:
        setSeg(f, K_HS_ACK, 0)
        break
      case R_FIN:
        setSeg(f, K_LAST_ACK, 0)
        break
      default:
        if (sKind[f] === K_HS_ACK) {
          // Greeting received: client sends its auth packet (a data segment like a query).
          setSeg(f, K_DATA, frInt(f, 150, 260))
          sPay[f] = frInt(f, 0, tpl.query.length - 1500)
          at += frInt(f, 100, 400)
        } else {
          // Reply received: pure ACK (delayed ACK on some).
          setSeg(f, K_ACK, 0)
          if (frF(f) < 0.2) at += frInt(f, 2000, 40000)
        }
    }
    sTsv[f] = clientTs(f, at)
    sTse[f] = serverTs(f, t)
    fTime[f] = at
    fStep[f] = S_CLIENT_IN
  }

  /** After acking a reply: think, then the next query or FIN. */
  function clientThink(f, t) {
    let gap = Math.min(frExp(f, opts.thinkMeanUs), idleTimeoutUs * 0.8)
    if (fQueries[f] <= 0) {
      setSeg(f, K_FIN, 0)
    } else {
      prepareQuery(f)
      if (fIdleAt[f] === fQueries[f]) {
        // Idles past the director's timeout: the entry is gone when the next query arrives.
        gap = idleTimeoutUs + frInt(f, 200_000, 2_500_000)
        sIdle[f] = 1
        sDrop[f] = 0
      }
      fQueries[f]--
    }
    const at = t + gap
    sTsv[f] = clientTs(f, at)
    fTime[f] = at
    fStep[f] = S_CLIENT_IN
  }

  function step(f) {
    const t = fTime[f]
    switch (fStep[f]) {
      case S_START:
        setSeg(f, K_SYN, 0)
        sTsv[f] = clientTs(f, t)
        sTse[f] = 0
        fStep[f] = S_CLIENT_IN
        step(f)
        return
      case S_CLIENT_IN:
        writeClient(dir, f, t, 0)
        if (sIdle[f]) {
          fTime[f] = t + frInt(f, 8, 30)
          fStep[f] = S_DIR_RST
        } else {
          fTime[f] = t + frInt(f, 6, 40)
          fStep[f] = S_CLIENT_OUT
        }
        return
      case S_CLIENT_OUT:
        writeClient(dir, f, t, 1)
        if (sKind[f] === K_DATA) stats.queries++
        if (sDrop[f]) {
          // Lost beyond the director: the client retransmits after its RTO with a new IP ID.
          stats.retrans++
          const seq = sSeq[f]
          const ack = sAck[f]
          fCId[f] = (fCId[f] + 1) & 0xffff
          sId[f] = fCId[f]
          sSeq[f] = seq
          sAck[f] = ack
          sDrop[f] = 0
          fTime[f] = t + 200_000 + fRtt[f] + frInt(f, 0, 5000)
          sTsv[f] = clientTs(f, fTime[f])
          fStep[f] = S_CLIENT_IN
          return
        }
        advanceClient(f)
        if (pair) {
          fTime[f] = t + frInt(f, 30, 120)
          fStep[f] = S_CLIENT_RS
        } else {
          afterServerGotClient(f, t + frInt(f, 30, 120))
        }
        return
      case S_CLIENT_RS:
        writeClient(rs, f, t, 2)
        afterServerGotClient(f, t)
        return
      case S_SERVER:
        serverStep(f, t)
        return
      case S_DIR_RST:
        writeDirectorRst(f, t)
        stats.dirRst++
        // The client's driver reports "server has gone away" and reconnects on a new port.
        newFlow(f, t + frInt(f, 500, 20000), false)
        return
    }
  }

  /** Client's sequence number moves past the segment once it is on its way to the server. */
  function advanceClient(f) {
    const k = sKind[f]
    if (k === K_DATA) fCSeq[f] = (fCSeq[f] + sLen[f]) >>> 0
    else if (k === K_FIN || k === K_SYN) fCSeq[f] = (fCSeq[f] + 1) >>> 0
  }

  /** The director's own RST: src VIP, director MAC, IP ID 0, DF, seq = trigger's ack, no ACK flag. */
  function writeDirectorRst(f, t) {
    const len = 14 + 20 + 20
    const p = dir.begin(t, len)
    const b = dir.buf
    const c = fClient[f]
    putMac(b, p, ROUTER_MACS[clientRouter[c]])
    putMac(b, p + 6, DIRECTOR_MAC)
    b[p + 12] = 0x08
    b[p + 13] = 0x00
    const dst = clientIp[c]
    ipv4(b, p + 14, 40, 0, true, 64, VIP, dst)
    const q = p + 34
    w16be(b, q, MYSQL_PORT)
    w16be(b, q + 2, fSport[f])
    w32be(b, q + 4, sAck[f])
    w32be(b, q + 8, 0)
    b[q + 12] = 0x50
    b[q + 13] = 0x04
    w16be(b, q + 14, 0)
    b[q + 18] = 0
    b[q + 19] = 0
    tcpChecksum(b, q, 20, VIP, dst)
  }

  // ---- binary min-heap of flow slots keyed by fTime ----
  const heap = new Int32Array(NF)
  let hn = 0
  // Ties are broken by slot number so the pop order (and so the director file) never depends on
  // which other events (e.g. real-server ones under --pair) sit in the heap.
  function before(a, b) {
    const ta = fTime[a]
    const tb = fTime[b]
    return ta < tb || (ta === tb && a < b)
  }
  function siftDown(i) {
    const x = heap[i]
    for (;;) {
      let l = 2 * i + 1
      if (l >= hn) break
      const r = l + 1
      if (r < hn && before(heap[r], heap[l])) l = r
      if (!before(heap[l], x)) break
      heap[i] = heap[l]
      i = l
    }
    heap[i] = x
  }
  for (let f = 0; f < NF; f++) {
    // Half the flows are mid-conversation when the capture starts; the rest connect during it.
    newFlow(f, rng.f() * opts.thinkMeanUs, rng.f() < 0.5)
    heap[hn++] = f
  }
  for (let i = (hn >> 1) - 1; i >= 0; i--) siftDown(i)

  const target = opts.size
  const started = Date.now()
  let nextReport = 256 * 1024 * 1024
  while (dir.size < target) {
    const f = heap[0]
    step(f)
    siftDown(0)
    if (!opts.quiet && dir.size >= nextReport) {
      process.stderr.write(`  generate: ${(dir.size / 2 ** 20).toFixed(0)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
      nextReport += 256 * 1024 * 1024
    }
  }
  dir.close()
  if (rs) rs.close()
  const firstUs = 0
  const lastUs = fTime[heap[0]]
  return {
    director: {file: opts.out, bytes: dir.size, frames: dir.frames},
    realServer: rs ? {file: opts.rsOut, bytes: rs.size, frames: rs.frames, clockOffsetUs: RS_CLOCK_OFFSET_US} : null,
    captureSeconds: Math.round((lastUs - firstUs) / 1e3) / 1e3,
    stats,
    seconds: (Date.now() - started) / 1000,
  }
}

// ---------------------------------------------------------------------------------------------
// CLI with reuse: a `.meta.json` beside each file records the generator version and options.

export function defaultPaths(sizeBytes) {
  const label = sizeLabel(sizeBytes)
  return {
    out: path.join(DATA_DIR, `director-${label}.pcap`),
    rsOut: path.join(DATA_DIR, `rs-${label}.pcap`),
  }
}

function metaPath(file) {
  return `${file}.meta.json`
}

function upToDate(file, want) {
  try {
    const meta = JSON.parse(fs.readFileSync(metaPath(file), 'utf8'))
    const st = fs.statSync(file)
    return meta.generatorVersion === GENERATOR_VERSION && meta.key === want && st.size === meta.bytes ? meta : null
  } catch {
    return null
  }
}

export function parseArgs(argv) {
  const o = {
    size: parseSize('1G'),
    out: null,
    rsOut: null,
    pair: false,
    seed: 20240611,
    flows: 20000,
    idleTimeoutSec: 4,
    force: false,
    quiet: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    switch (a) {
      case '--size': o.size = parseSize(v()); break
      case '--out': o.out = path.resolve(v()); break
      case '--rs-out': o.rsOut = path.resolve(v()); o.pair = true; break
      case '--pair': o.pair = true; break
      case '--seed': o.seed = Number(v()); break
      case '--flows': o.flows = Number(v()); break
      case '--idle-timeout': o.idleTimeoutSec = Number(v()); break
      case '--force': o.force = true; break
      case '--quiet': o.quiet = true; break
      case '-h':
      case '--help':
        process.stdout.write('usage: node bench/generate.js [--size 1G] [--out FILE] [--pair] [--rs-out FILE] [--seed N] [--flows N] [--idle-timeout SEC] [--force] [--quiet]\n')
        process.exit(0)
        break
      default: throw new Error(`unknown option ${a}`)
    }
  }
  const d = defaultPaths(o.size)
  if (!o.out) o.out = d.out
  if (o.pair && !o.rsOut) o.rsOut = o.out.endsWith('.pcap') ? o.out.replace(/director-([^/]*)\.pcap$/, 'rs-$1.pcap') : `${o.out}.rs.pcap`
  if (o.pair && o.rsOut === o.out) o.rsOut = `${o.out}.rs.pcap`
  return o
}

/** Generates unless up-to-date files exist; returns the meta of the director file (and RS file). */
export function ensureGenerated(o) {
  const key = JSON.stringify({size: o.size, seed: o.seed, flows: o.flows, idle: o.idleTimeoutSec})
  const dMeta = upToDate(o.out, key)
  // The director file does not depend on --pair (per-flow PRNG streams), so a missing RS file just
  // means one more run that rewrites the same director bytes.
  const rMeta = o.pair ? upToDate(o.rsOut, key) : null
  if (!o.force && dMeta && (!o.pair || rMeta)) {
    return {reused: true, director: dMeta, realServer: rMeta}
  }
  fs.mkdirSync(path.dirname(o.out), {recursive: true})
  if (o.pair) fs.mkdirSync(path.dirname(o.rsOut), {recursive: true})
  const res = generate({
    size: o.size,
    out: o.out,
    rsOut: o.pair ? o.rsOut : null,
    seed: o.seed,
    flows: o.flows,
    idleTimeoutSec: o.idleTimeoutSec,
    thinkMeanUs: 800_000,
    reconnectMeanUs: 50_000,
    idleFraction: 0.01,
    retransRate: 0.01,
    quiet: o.quiet,
  })
  const common = {generatorVersion: GENERATOR_VERSION, key, seed: o.seed, flows: o.flows, idleTimeoutSec: o.idleTimeoutSec,
    captureSeconds: res.captureSeconds, stats: res.stats, generateSeconds: res.seconds}
  const dm = {...common, role: 'director', bytes: res.director.bytes, frames: res.director.frames, pairedWith: o.pair ? o.rsOut : null}
  fs.writeFileSync(metaPath(o.out), JSON.stringify(dm, null, 2) + '\n')
  let rm = null
  if (res.realServer) {
    rm = {...common, role: 'real-server', bytes: res.realServer.bytes, frames: res.realServer.frames, clockOffsetUs: res.realServer.clockOffsetUs, pairedWith: o.out}
    fs.writeFileSync(metaPath(o.rsOut), JSON.stringify(rm, null, 2) + '\n')
  }
  return {reused: false, director: dm, realServer: rm}
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const o = parseArgs(process.argv.slice(2))
    const r = ensureGenerated(o)
    process.stdout.write(JSON.stringify({reused: r.reused, out: o.out, rsOut: o.pair ? o.rsOut : null,
      director: {bytes: r.director.bytes, frames: r.director.frames},
      realServer: r.realServer ? {bytes: r.realServer.bytes, frames: r.realServer.frames} : null,
      captureSeconds: r.director.captureSeconds, stats: r.director.stats, generateSeconds: r.director.generateSeconds}) + '\n')
  } catch (e) {
    process.stderr.write(`generate: ${e.message}\n`)
    process.exit(2)
  }
}
