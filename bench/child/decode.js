#!/usr/bin/env node
// read (+ decode) in a process of its own, so its peak RSS is its own. Uses the compiled modules:
// dist/capture/reader.js readCapture(path, onRecord) and dist/decode/decode.js decodeRecord(rec, pkt)
// with one reused Packet. Usage: node bench/child/decode.js read|decode FILE → one JSON line.
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const [mode, file] = process.argv.slice(2)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const load = (rel) => import(pathToFileURL(path.join(root, 'dist', rel)).href)

const {readCapture} = await load('capture/reader.js')
let frames = 0
let tcp = 0
let payload = 0
let onRecord
if (mode === 'decode') {
  const {decodeRecord} = await load('decode/decode.js')
  const {Packet} = await load('decode/packet.js')
  const pkt = new Packet()
  onRecord = (rec) => {
    decodeRecord(rec, pkt)
    frames++
    // Use the result so the work cannot be optimised away, and as a sanity check on the decode.
    if (pkt.stop === 0 && pkt.proto === 6) {
      tcp++
      payload += pkt.payloadLen
    }
  }
} else {
  onRecord = () => {
    frames++
  }
}
const t0 = process.hrtime.bigint()
const summary = await readCapture(file, onRecord)
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
process.stdout.write(JSON.stringify({frames, packets: summary?.packets, tcp, payload, warnings: summary?.warnings?.length ?? 0,
  seconds, maxRssKiB: process.resourceUsage().maxRSS}) + '\n')
