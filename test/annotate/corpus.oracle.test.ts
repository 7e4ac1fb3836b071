/**
 * The pcapng copier on the third-party corpus, judged by tshark: every frame of every pcapng file tshark reads
 * cleanly gets a comment (so every packet block is rewritten, PBs and SPBs converted), and tshark must show the
 * same frames — time, length, interface, the old comments followed by ours — and no new complaint. By default
 * the pcapng test generator's files (every block type and option, both byte orders) and a multi-interface file;
 * LVSCOPE_ANNOTATE_CORPUS=1 for all of them.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {copyPcapngAnnotated} from '../../src/capture/pcapng-writer.js'
import {hasTshark} from '../helpers/cli.js'
import {CORPUS} from '../helpers/shared.js'

const tmp = mkdtempSync(join(tmpdir(), 'lvscope-annotate-corpus-'))
const SEP = '\u001e'
const CURATED = /pcapng-test-generator__le__|pcapng-test-generator__be__test20[0-9]|multi-interface/

function corpusPcapng(): string[] {
  const manifest = join(CORPUS, 'manifest.tsv')
  if (!existsSync(manifest)) return []
  const lines = readFileSync(manifest, 'utf8').split('\n')
  const head = lines[0].split('\t')
  const col = (name: string): number => head.indexOf(name)
  const all = lines
    .slice(1)
    .map((l) => l.split('\t'))
    .filter((c) => c[col('format')] === 'pcapng' && c[col('tshark_rc')] === '0' && !c[col('tshark_error')] && Number(c[col('size')]) < 3_000_000)
    .map((c) => c[col('file')])
  return process.env.LVSCOPE_ANNOTATE_CORPUS ? all : all.filter((f) => CURATED.test(f))
}

function rows(file: string): {rows: string[][]; stderr: string} {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', `aggregator=${SEP}`, '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.interface_id', '-e', 'frame.comment'], {encoding: 'utf8', maxBuffer: 256 * 1024 * 1024})
  return {rows: r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')), stderr: r.stderr.split('\n').filter((l) => l && !/^Running as user "root"/.test(l)).join('\n')}
}

const files = corpusPcapng()

describe.skipIf(!hasTshark() || files.length === 0)('pcapng copier on the corpus, judged by tshark', () => {
  for (const f of files) {
    it(f, async () => {
      const input = join(CORPUS, 'files', f)
      const chunks: Uint8Array[] = []
      const res = await copyPcapngAnnotated(input, (b) => chunks.push(Buffer.from(b)), {section: ['lvscope: test'], frame: (n) => [`lvscope: test #${n}`], drop: () => false})
      expect(res.damage).toBe(null)
      const out = join(tmp, f.replace(/\//g, '_'))
      writeFileSync(out, Buffer.concat(chunks))
      const before = rows(input)
      const after = rows(out)
      expect(after.stderr).toBe(before.stderr)
      expect(after.rows.length).toBe(before.rows.length)
      let ours = 0
      for (let i = 0; i < before.rows.length; i++) {
        const [t0, ...rest0] = before.rows[i]
        const [t1, ...rest1] = after.rows[i]
        // A Simple Packet Block has no time; as the EPB that carries its comment, it has time 0.
        expect(t1).toBe(t0 === '' && t1 === '0.000000000' ? t1 : t0)
        expect(rest1.slice(0, 3)).toEqual(rest0.slice(0, 3))
        const old = rest0[3] ? rest0[3].split(SEP) : []
        const now = rest1[3] ? rest1[3].split(SEP) : []
        // tshark lists a custom block as a record of its own; it gets no comment from us.
        if (now.length === old.length) {
          expect(now).toEqual(old)
          continue
        }
        expect(now).toEqual([...old, `lvscope: test #${++ours}`])
      }
      expect(ours).toBe(res.frames)
    }, 60_000)
  }
})
