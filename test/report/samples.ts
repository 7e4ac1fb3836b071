/** The lab samples with the flags their expected.json gives, and their report as the CLI writes it. */
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import type {Report} from '../../src/report/report.js'
import {REPO_ROOT, runCli} from '../helpers/cli.js'

export const SAMPLE_NAMES = readdirSync(join(REPO_ROOT, 'samples')).filter((n) => existsSync(join(REPO_ROOT, 'samples', n, 'expected.json')))

export function sampleArgs(name: string): string[] {
  const exp = JSON.parse(readFileSync(join(REPO_ROOT, 'samples', name, 'expected.json'), 'utf8')) as {analyzeFlags: string[]}
  return [`samples/${name}`, ...exp.analyzeFlags]
}

/** `analyze --format json` of a sample, with the version stamp pinned (goldens outlive releases). */
export function sampleReport(name: string): Report {
  const r = runCli(['analyze', ...sampleArgs(name), '--format', 'json'])
  if (r.code !== 0) throw new Error(`analyze ${name}: exit ${r.code}: ${r.stderr}`)
  return {...(JSON.parse(r.stdout) as Report), generatedBy: 'lvscope'}
}

/** A sample's pinned report (test/samples/golden), which goldens.test.ts holds equal to the CLI's. */
export function goldenReport(name: string): Report {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'test/samples/golden', `${name}.json`), 'utf8')) as Report
}

const ENTITIES: Record<string, string> = {amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'"}

/** The text a reader sees in an HTML page of ours: style dropped, one line per block, entities decoded. */
export function htmlText(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/g, '')
    .replace(/<(title|desc)\b[^>]*>[\s\S]*?<\/\1>/g, (m) => (m.startsWith('<title>') ? m : ''))
    .replace(/<\/(p|h[1-6]|li|tr|dt|dd|text|summary|figcaption|th|td|title)>|<br>/g, (m) => (m === '</td>' || m === '</th>' ? ' | ' : '\n'))
    .replace(/<[^>]+>/g, '')
    .replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ENTITIES[e])
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l !== '')
    .join('\n')
    .concat('\n')
}
