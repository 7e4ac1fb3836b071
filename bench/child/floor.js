#!/usr/bin/env node
// The floor: the fastest record walk plain Node can do on a classic pcap. Read big chunks, hop over
// 16-byte record headers, count frames — no decoding, no per-record work beyond one length read.
// Usage: node bench/child/floor.js FILE [chunkMiB]   → one JSON line on stdout.
import fs from 'node:fs'

const file = process.argv[2]
const chunk = Number(process.argv[3] ?? 4) * 1024 * 1024
const t0 = process.hrtime.bigint()
const fd = fs.openSync(file, 'r')
let buf = Buffer.allocUnsafe(chunk)

let have = fs.readSync(fd, buf, 0, buf.length, null)
if (have < 24) throw new Error(`${file}: too short for a pcap header`)
const magic = buf.readUInt32LE(0)
let le
if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true
else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false
else throw new Error(`${file}: not a classic pcap (magic ${magic.toString(16)})`)

let p = 24
let frames = 0
let bytes = have
for (;;) {
  // Hop over every complete record in the buffer.
  if (le) {
    while (p + 16 <= have) {
      const len = buf[p + 8] | (buf[p + 9] << 8) | (buf[p + 10] << 16) | (buf[p + 11] << 24)
      const next = p + 16 + (len >>> 0)
      if (next > have) break
      p = next
      frames++
    }
  } else {
    while (p + 16 <= have) {
      const len = (buf[p + 8] << 24) | (buf[p + 9] << 16) | (buf[p + 10] << 8) | buf[p + 11]
      const next = p + 16 + (len >>> 0)
      if (next > have) break
      p = next
      frames++
    }
  }
  // Keep the partial record, refill behind it.
  const rest = have - p
  if (rest > 0) buf.copy(buf, 0, p, have)
  have = rest
  p = 0
  if (have === buf.length) {
    // A record larger than the chunk: grow (bounded by what the file can hold).
    const bigger = Buffer.allocUnsafe(buf.length * 2)
    buf.copy(bigger, 0, 0, have)
    buf = bigger
  }
  const n = fs.readSync(fd, buf, have, buf.length - have, null)
  if (n === 0) break
  bytes += n
  have += n
}
fs.closeSync(fd)
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
process.stdout.write(JSON.stringify({frames, bytes, seconds, trailing: have, maxRssKiB: process.resourceUsage().maxRSS}) + '\n')
