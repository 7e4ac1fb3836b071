#!/usr/bin/env node
// Short-flow capture generator: N health-check style TCP connections, one after another — SYN, SYN-ACK, then
// the checker's RST — as a real server sees them (classic pcap, µs, Ethernet, 54-byte frames). This is the
// capture where memory that grows with every flow ever seen shows: each flow is over after 100 µs, so the live
// set is a handful while the finished ones pile up.
//
// Every flow has its own 4-tuple (client 10.200.x.y, ports 1024–65535, one address per 64,512 flows), so no
// SYN reuses the ports of an earlier connection; the checker opens `--rate` connections per second of capture
// time (default 10,000: 2 M flows fit in 200 s, inside the 300 s idle timeout, so before flows were released
// on close none of them ever left the table).
//
// Usage: node bench/short-flows.js --flows N --out FILE [--rate R] [--port P]
// Prints one JSON line describing what was written.

import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const SERVER = ((10 << 24) | (1 << 16) | (0 << 8) | 11) >>> 0
const CLIENT_BASE = ((10 << 24) | (200 << 16)) >>> 0
const PORTS = 65536 - 1024
const SERVER_MAC = [0x52, 0x54, 0x00, 0x5e, 0x00, 0x11]
const GATEWAY_MAC = [0x00, 0x1c, 0x73, 0x0b, 0x00, 0x01]
const EPOCH_START_US = 1_700_000_000 * 1e6
const FRAME = 54
const RECORD = 16 + FRAME
const CHUNK_FLOWS = 100_000

function sum16(b, from, to, acc) {
  for (let i = from; i < to; i += 2) acc += (b[i] << 8) | b[i + 1]
  return acc
}
function fold(acc) {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16)
  return ~acc & 0xffff
}

/** One frame record at `p`: Ethernet, IPv4 (no options), TCP (no options, no payload). */
function frame(b, p, tsUs, srcMac, dstMac, src, dst, sport, dport, seq, ack, flags, ipId) {
  b.writeUInt32LE(Math.floor(tsUs / 1e6), p)
  b.writeUInt32LE(tsUs % 1e6, p + 4)
  b.writeUInt32LE(FRAME, p + 8)
  b.writeUInt32LE(FRAME, p + 12)
  const e = p + 16
  for (let i = 0; i < 6; i++) {
    b[e + i] = dstMac[i]
    b[e + 6 + i] = srcMac[i]
  }
  b.writeUInt16BE(0x0800, e + 12)
  const ipo = e + 14
  b[ipo] = 0x45
  b[ipo + 1] = 0
  b.writeUInt16BE(40, ipo + 2)
  b.writeUInt16BE(ipId & 0xffff, ipo + 4)
  b.writeUInt16BE(0x4000, ipo + 6)
  b[ipo + 8] = 64
  b[ipo + 9] = 6
  b.writeUInt16BE(0, ipo + 10)
  b.writeUInt32BE(src, ipo + 12)
  b.writeUInt32BE(dst, ipo + 16)
  b.writeUInt16BE(fold(sum16(b, ipo, ipo + 20, 0)), ipo + 10)
  const t = ipo + 20
  b.writeUInt16BE(sport, t)
  b.writeUInt16BE(dport, t + 2)
  b.writeUInt32BE(seq >>> 0, t + 4)
  b.writeUInt32BE(ack >>> 0, t + 8)
  b[t + 12] = 0x50
  b[t + 13] = flags
  b.writeUInt16BE(flags & 0x04 ? 0 : 64240, t + 14)
  b.writeUInt16BE(0, t + 16)
  b.writeUInt16BE(0, t + 18)
  // Pseudo-header + segment.
  let acc = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + 20
  acc = sum16(b, t, t + 20, acc)
  b.writeUInt16BE(fold(acc), t + 16)
}

export function generateShortFlows({flows, out, rate = 10_000, port = 80}) {
  if (!(flows > 0) || !out) throw new Error('usage: node bench/short-flows.js --flows N --out FILE [--rate R] [--port P]')
  fs.mkdirSync(path.dirname(out), {recursive: true})
  const fd = fs.openSync(out, 'w')
  const head = Buffer.alloc(24)
  head.writeUInt32LE(0xa1b2c3d4, 0)
  head.writeUInt16LE(2, 4)
  head.writeUInt16LE(4, 6)
  head.writeUInt32LE(262144, 16)
  head.writeUInt32LE(1, 20)
  fs.writeSync(fd, head)
  const buf = Buffer.alloc(CHUNK_FLOWS * 3 * RECORD)
  const spacing = 1e6 / rate
  for (let start = 0; start < flows; start += CHUNK_FLOWS) {
    const n = Math.min(CHUNK_FLOWS, flows - start)
    let p = 0
    for (let k = 0; k < n; k++) {
      const i = start + k
      const client = (CLIENT_BASE + 1 + Math.floor(i / PORTS)) >>> 0
      const cport = 1024 + (i % PORTS)
      const t = EPOCH_START_US + Math.round(i * spacing)
      const iss = Math.imul(i + 1, 0x9e3779b1) >>> 0
      const irs = Math.imul(i + 7, 0x85ebca6b) >>> 0
      frame(buf, p, t, GATEWAY_MAC, SERVER_MAC, client, SERVER, cport, port, iss, 0, 0x02, i)
      frame(buf, p + RECORD, t + 40, SERVER_MAC, GATEWAY_MAC, SERVER, client, port, cport, irs, iss + 1, 0x12, 0)
      frame(buf, p + 2 * RECORD, t + 90, GATEWAY_MAC, SERVER_MAC, client, SERVER, cport, port, iss + 1, 0, 0x04, i + 1)
      p += 3 * RECORD
    }
    fs.writeSync(fd, buf, 0, p)
  }
  fs.closeSync(fd)
  return {file: out, flows, frames: flows * 3, bytes: 24 + flows * 3 * RECORD, seconds: flows / rate}
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = {}
  const a = process.argv.slice(2)
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--flows') o.flows = Number(a[++i])
    else if (a[i] === '--out') o.out = path.resolve(a[++i])
    else if (a[i] === '--rate') o.rate = Number(a[++i])
    else if (a[i] === '--port') o.port = Number(a[++i])
    else {
      process.stderr.write(`unknown option ${a[i]}\nusage: node bench/short-flows.js --flows N --out FILE [--rate R] [--port P]\n`)
      process.exit(2)
    }
  }
  try {
    process.stdout.write(`${JSON.stringify(generateShortFlows(o))}\n`)
  } catch (err) {
    process.stderr.write(`${err.message}\n`)
    process.exit(2)
  }
}
