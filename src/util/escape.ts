/**
 * Capture and config text reaches terminals, Markdown and HTML. Each output context has one escaper, applied once,
 * at the renderer: decoders and the report keep the text as it came (JSON escapes what it must by itself).
 * This module holds the characters no context may show raw, and the terminal's escaper.
 */

/**
 * Characters that move the cursor or reorder or hide text: C0/C1 controls, DEL, and the bidi and invisible
 * format characters (U+202E RLO, U+2066–U+2069 isolates, U+200B–U+200F, U+2028/U+2029, U+FEFF, soft hyphen, …).
 * A regexp character-class body, shared by every context's escaper.
 */
export const INVISIBLE_CLASS = '\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u202a-\\u202e\\u2028\\u2029\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb'

/** The visible stand-in of an invisible character or a backslash: `\x1b`, `\u202e`, `\\`. */
export function visibleChar(c: string): string {
  if (c === '\\') return '\\\\'
  const n = c.charCodeAt(0)
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`
}

const TERMINAL = new RegExp(`[\\\\${INVISIBLE_CLASS}]`, 'g')

/** Terminal-safe: controls (ESC, CR, DEL, C1) as \xNN, bidi/invisible format characters as \uNNNN, backslash doubled. */
export function escapeTerminal(s: string): string {
  return s.replace(TERMINAL, visibleChar)
}
