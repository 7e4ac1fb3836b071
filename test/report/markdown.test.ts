/**
 * Markdown that renders the same in GitHub, GitLab and Jira: every sample's report is parsed with markdown-it
 * (CommonMark + GFM tables and strikethrough, linkify on) and its structure checked; capture text that tries to
 * break out (pipes, backticks, HTML, links, entities, ~~, bidi and invisible characters, ESC) renders as
 * literal text, escaped exactly once — the same visible form as the terminal's.
 */
import MarkdownIt, {type Token} from 'markdown-it'
import {beforeAll, describe, expect, it} from 'vitest'

import {renderMarkdown} from '../../src/report/markdown.js'
import type {Report} from '../../src/report/report.js'
import {renderTerminal} from '../../src/report/terminal.js'
import {escapeTerminal} from '../../src/util/escape.js'
import {runCli} from '../helpers/cli.js'
import {HOSTILE, hostileMysql, hostilePostgres, tempDir} from './hostile.js'
import {SAMPLE_NAMES, goldenReport, sampleArgs, sampleReport} from './samples.js'

const md = new MarkdownIt({html: true, linkify: true})

/** The blocks of a document: headings with their text, tables with their cell texts, bullet lists with their items. */
interface Block {
  type: 'heading' | 'table' | 'list' | 'paragraph'
  level?: number
  text?: string
  rows?: string[][]
  items?: string[]
}

function blocks(tokens: Token[]): Block[] {
  const out: Block[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (t.type === 'heading_open') out.push({type: 'heading', level: Number(t.tag.slice(1)), text: tokens[i + 1].content})
    else if (t.type === 'table_open') {
      const rows: string[][] = []
      for (; tokens[i].type !== 'table_close'; i++) {
        if (tokens[i].type === 'tr_open') rows.push([])
        if (tokens[i].type === 'inline') rows[rows.length - 1].push(textOf(tokens[i]))
      }
      out.push({type: 'table', rows})
    } else if (t.type === 'bullet_list_open') {
      const items: string[] = []
      for (let depth = 0; ; i++) {
        if (tokens[i].type === 'bullet_list_open') depth++
        if (tokens[i].type === 'bullet_list_close' && --depth === 0) break
        if (tokens[i].type === 'inline') items.push(textOf(tokens[i]))
      }
      out.push({type: 'list', items})
    } else if (t.type === 'paragraph_open' && tokens[i - 1]?.type !== 'list_item_open') out.push({type: 'paragraph', text: textOf(tokens[i + 1])})
  }
  return out
}

/** What a reader sees of an inline token: its text and code, with the kinds of markup it produced. */
function textOf(t: Token): string {
  return (t.children ?? []).map((c) => (c.type === 'text' || c.type === 'code_inline' || c.type === 'text_special' ? c.content : c.type === 'softbreak' ? '\n' : `<${c.type}>`)).join('')
}

function markupKinds(tokens: Token[]): Set<string> {
  const kinds = new Set<string>()
  const walk = (ts: Token[]): void => {
    for (const t of ts) {
      kinds.add(t.type)
      if (t.children) walk(t.children)
    }
  }
  walk(tokens)
  return kinds
}

describe('Markdown structure of every sample', () => {
  for (const name of SAMPLE_NAMES) {
    // The golden JSON is the CLI's report (goldens.test.ts holds them equal).
    it(name, () => {
      const r = goldenReport(name)
      const text = renderMarkdown(r)
      const b = blocks(md.parse(text, {}))
      const headings = b.filter((x) => x.type === 'heading')
      expect(headings.slice(0, 5).map((x) => [x.level, x.text])).toEqual([
        [1, 'lvscope report'],
        [2, 'Captures'],
        [2, 'IPVS timeouts'],
        [2, 'Wireshark artifacts'],
        [2, 'Findings'],
      ])
      expect(b[1]).toEqual({type: 'paragraph', text: `<strong_open>Verdict:<strong_close> ${r.verdict}`})
      const tables = b.filter((x) => x.type === 'table')
      // Captures table: a header and one row per capture, five cells each.
      expect(tables[0].rows?.map((row) => row.length)).toEqual(Array(r.captures.length + 1).fill(5))
      expect(tables[0].rows?.slice(1).map((row) => row[0])).toEqual(r.captures.map((c) => c.file))
      if (r.findings.length === 0) return
      // Findings table, then per finding: its heading, its evidence table (one row per frame) and its filter list.
      expect(tables[1].rows?.[0]).toEqual(['#', 'time (UTC)', 'kind', 'flow', 'sender', 'cause', 'confidence'])
      expect(tables[1].rows?.slice(1).map((row) => [row[0], row[5]])).toEqual(r.findings.map((f, i) => [String(i + 1), f.cause]))
      const h3 = headings.filter((x) => x.level === 3)
      expect(h3.map((x) => x.text)).toEqual(r.findings.map((f, i) => `${i + 1}. ${f.summary}`))
      r.findings.forEach((f, i) => {
        const ev = tables[2 + i].rows ?? []
        expect(ev[0]).toEqual(['file', 'frame', 'time (UTC)', 'what'])
        expect(ev.slice(1)).toEqual(f.evidence.map((e) => [e.file, String(e.frame), e.time, e.what]))
      })
      const lists = b.filter((x) => x.type === 'list').map((x) => x.items ?? [])
      for (const f of r.findings) {
        for (const w of f.wireshark?.frames ?? []) expect(lists.some((l) => l.includes(`${w.file}: ${w.filter}`)), w.filter).toBe(true)
      }
    })
  }

  it('the CLI writes the same Markdown as the renderer (--format md)', () => {
    const name = 'idle-expiry-mysql'
    const cli = runCli(['analyze', ...sampleArgs(name), '--format', 'md'])
    expect(cli.code).toBe(0)
    const r = sampleReport(name)
    expect(cli.stdout).toBe(renderMarkdown({...r}))
  })
})

describe('hostile capture text in Markdown and the terminal', () => {
  let reports: Report[] = []
  beforeAll(() => {
    reports = [hostileMysql(tempDir('lvscope-md-')), hostilePostgres(tempDir('lvscope-md-'))].map((args) => {
      const r = runCli(['analyze', ...args, '--format', 'json'])
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as Report
    })
  })

  it('the decoded protocol text reaches the report unescaped (escaping is the renderers\' job)', () => {
    expect(reports[0].findings[0].application?.lastCommand).toBe(`COM_QUERY select '${HOSTILE}'`)
    expect(reports[1].findings[0].application?.serverError).toBe(`ERROR 42601 (42601): ${HOSTILE}`)
  })

  it('renders as literal text: no HTML, link, code span, emphasis or strikethrough, the same visible form as the terminal', () => {
    for (const r of reports) {
      const text = renderMarkdown(r)
      const tokens = md.parse(text, {})
      const kinds = markupKinds(tokens)
      for (const k of ['html_inline', 'html_block', 'link_open', 'image', 's_open', 'em_open']) expect(kinds.has(k), k).toBe(false)
      // The only code spans are ours (the Fix line's commands and the filters), never inside capture text.
      const html = md.render(text)
      expect(html).not.toMatch(/<script|<img|<svg|<a |<del|<s>/)
      const items = blocks(tokens).flatMap((b) => b.items ?? [])
      const app = r.findings[0].application
      for (const [label, value] of [
        ['Last ' + app?.protocol + ' command: ', app?.lastCommand],
        ['Server error: ', app?.serverError],
      ] as const) {
        if (!value) continue
        expect(items).toContain(`${label}${escapeTerminal(value)}`)
      }
      // Bidi/invisible characters and ESC never appear raw; each shows as its escape, exactly once.
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]/)
      const rendered = items.join('\n')
      for (const v of ['\\x1b[2J', '\\u202eR\\u202c', '\\u2066I\\u2069', 'Z\\u200bL\\u2028P\\u2029B\\ufeff', '&lt;b&gt;&', '~~s~~', '|`x`**b**[l](http://e.x/)']) expect(rendered).toContain(v)
      expect(rendered).not.toContain('\\\\x1b')
    }
  })

  it('a pipe in capture text does not add table cells', () => {
    const r = structuredClone(reports[0])
    r.findings[0].evidence[0].what = 'a | b | c'
    r.captures[0].file = 'x|y.pcap'
    const tables = blocks(md.parse(renderMarkdown(r), {})).filter((b) => b.type === 'table')
    expect(tables[0].rows?.[1]).toHaveLength(5)
    expect(tables[0].rows?.[1][0]).toBe('x|y.pcap')
    expect(tables[2].rows?.[1]).toEqual([r.findings[0].evidence[0].file, String(r.findings[0].evidence[0].frame), r.findings[0].evidence[0].time, 'a | b | c'])
  })

  it('the terminal shows ESC as \\x1b once and no raw control or bidi character', () => {
    for (const r of reports) {
      const out = renderTerminal(r)
      expect(out).toContain('\\x1b[2J')
      expect(out).not.toContain('\\\\x1b')
      expect(out).toContain('\\u202eR\\u202c')
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]/)
    }
    // And through the CLI.
    const cli = runCli(['analyze', ...hostileMysql(tempDir('lvscope-md-'))])
    expect(cli.code).toBe(0)
    expect(cli.stdout).toContain(`last mysql command: COM_QUERY select '${escapeTerminal(HOSTILE)}'`)
    expect(cli.stdout).not.toMatch(/[\u001b\u202e\u2066\u200b\ufeff]/)
  })
})
