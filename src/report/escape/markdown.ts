import {INVISIBLE_CLASS, visibleChar} from '../../util/escape.js'

/**
 * Markdown (CommonMark + GFM: GitHub, GitLab, Jira's Markdown) text for capture- or config-derived strings, in one
 * pass: what renders is exactly what the terminal shows (controls as \x1b, bidi as \u202e, backslash as \\).
 * Markup characters are backslash-escaped; `<`, `>`, `&` become entities, so neither HTML nor an entity
 * (`&lt;b&gt;` stays literal) gets through; `://`, `www.` and `@` are broken with entities so no autolink forms.
 */
const MARKDOWN = new RegExp(`[\\\\${INVISIBLE_CLASS}]|[\`*_[\\]|~#<>&]|:(?=//)|(?<=\\bwww)\\.|@`, 'gu')

const INVISIBLE = new RegExp(`^[\\\\${INVISIBLE_CLASS}]$`)

const ENTITY: Record<string, string> = {'<': '&lt;', '>': '&gt;', '&': '&amp;', ':': '&#58;', '.': '&#46;', '@': '&#64;'}

function mdChar(c: string): string {
  const e = ENTITY[c]
  if (e) return e
  // The visible form of a control is itself text: `\x1b` renders literally, `\\` renders one backslash,
  // so the backslash of the visible form is escaped too (`\\x1b` renders `\x1b`).
  if (INVISIBLE.test(c)) return visibleChar(c).replace(/\\/g, '\\\\')
  return `\\${c}`
}

/** One capture- or config-derived string as inline Markdown (a table cell, a list item, a heading). */
export function escapeMarkdown(s: string): string {
  return s.replace(MARKDOWN, mdChar)
}

/** lvscope's own wording (recommendations) keeps its `code` spans; embedded values still lose any control or HTML. */
export function escapeMarkdownOwn(s: string): string {
  return s.replace(new RegExp(`[\\\\${INVISIBLE_CLASS}]|[<>&|]`, 'g'), mdChar)
}
