/** One escaper per output context, each applied once: the visible form of a character is the same in all. */
import {describe, expect, it} from 'vitest'

import {escapeHtml, htmlId} from '../../src/report/escape/html.js'
import {escapeMarkdown, escapeMarkdownOwn} from '../../src/report/escape/markdown.js'
import {renderJson} from '../../src/report/json.js'
import type {Report} from '../../src/report/report.js'
import {escapeTerminal} from '../../src/util/escape.js'
import {goldenReport} from './samples.js'

const INVISIBLE = ['\u202e', '\u202c', '\u2066', '\u2069', '\u200b', '\u2028', '\u2029', '\ufeff', '\u001b', '\u0000', '\u007f', '\u009b', '\r', '\n', '\t']

describe('escapers', () => {
  it('terminal: controls as \\xNN, bidi and invisible as \\uNNNN, backslash doubled — nothing raw', () => {
    expect(escapeTerminal('a\u001b[2Jb')).toBe('a\\x1b[2Jb')
    expect(escapeTerminal('x\u202ey\u2066z\u2069\ufeff')).toBe('x\\u202ey\\u2066z\\u2069\\ufeff')
    expect(escapeTerminal('C:\\temp')).toBe('C:\\\\temp')
    for (const c of INVISIBLE) expect(escapeTerminal(`<${c}>`)).not.toContain(c)
    // Ordinary non-ASCII text stays as it is.
    expect(escapeTerminal('café → 日本')).toBe('café → 日本')
  })

  it('HTML: one pass for text, attributes and SVG text; the visible form of controls as in the terminal', () => {
    expect(escapeHtml(`"><img src=x onerror='a'>&amp;`)).toBe('&quot;&gt;&lt;img src=x onerror=&#39;a&#39;&gt;&amp;amp;')
    expect(escapeHtml('</svg><script>')).toBe('&lt;/svg&gt;&lt;script&gt;')
    for (const c of INVISIBLE) expect(escapeHtml(`a${c}b`)).toBe(`a${escapeTerminal(c)}b`)
    expect(htmlId('samples/x y"<.pcap')).toBe('samples_x_y___pcap')
  })

  it('Markdown: markup and entities neutralised, autolinks broken, controls in their visible form escaped once', () => {
    expect(escapeMarkdown('| `x` **b** _i_ [l](u) ~~s~~ # <b> &lt;')).toBe('\\| \\`x\\` \\*\\*b\\*\\* \\_i\\_ \\[l\\](u) \\~\\~s\\~\\~ \\# &lt;b&gt; &amp;lt;')
    expect(escapeMarkdown('see https://evil.example or www.evil.example or a@b.c')).toBe('see https&#58;//evil.example or www&#46;evil.example or a&#64;b.c')
    // ESC renders as \x1b: the source needs its backslash escaped, once.
    expect(escapeMarkdown('\u001b')).toBe('\\\\x1b')
    expect(escapeMarkdown('\u202e')).toBe('\\\\u202e')
    expect(escapeMarkdown('\\')).toBe('\\\\\\\\')
    // Our own wording keeps its code spans, but not HTML or a table break.
    expect(escapeMarkdownOwn('`ipvsadm --set 1 2 3` <x> | y')).toBe('`ipvsadm --set 1 2 3` &lt;x&gt; \\| y')
  })

  it('JSON: bidi and invisible characters as \\u escapes, and the document still parses to the same strings', () => {
    const r: Report = structuredClone(goldenReport('idle-expiry-mysql'))
    r.verdict = `x${INVISIBLE.join('')}y`
    const json = renderJson(r)
    for (const c of INVISIBLE) expect(json).not.toContain(c === '\n' ? `x${c}` : c)
    expect(json).toContain('\\u202e')
    expect((JSON.parse(json) as Report).verdict).toBe(r.verdict)
  })
})
