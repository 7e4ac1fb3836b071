import {INVISIBLE_CLASS, visibleChar} from '../../util/escape.js'

/**
 * HTML for capture- or config-derived strings, in one pass. The same function serves element text, quoted
 * attribute values and SVG <text>/<title>/<desc> (all parsed as HTML5 character data with entities): `&<>"'` become
 * entities, controls and bidi/invisible characters their visible form (\x1b, \u202e) as in the terminal.
 */
const HTML_RE = new RegExp(`[\\\\${INVISIBLE_CLASS}]|[&<>"']`, 'g')
const ENTITY: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}

export function escapeHtml(s: string): string {
  return s.replace(HTML_RE, (c) => ENTITY[c] ?? visibleChar(c))
}

/** An id or fragment built from report data: only [A-Za-z0-9_-] survive, so it is safe in any attribute and URL. */
export function htmlId(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_')
}
