/**
 * Packet bytes reach terminals and HTML: everything that came off the wire goes through one of these.
 */

/** Terminal-safe: control characters (incl. ESC, CR, DEL, C1) become \xNN; backslash is doubled. */
export function escapeTerminal(s: string): string {
  return s.replace(/[\\\u0000-\u001f\u007f-\u009f]/g, (c) =>
    c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  )
}

const HTML: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}

/** HTML text and attribute safe. */
export function escapeHtml(s: string): string {
  return escapeTerminal(s).replace(/[&<>"']/g, (c) => HTML[c] ?? c)
}

/** Printable rendering of payload bytes (UTF-8 where valid, \xNN otherwise), shortened to `max` chars. */
export function printableBytes(data: Uint8Array, off: number, len: number, max = 120): string {
  const end = Math.min(data.length, off + len)
  const text = new TextDecoder('utf-8', {fatal: false}).decode(data.subarray(off, end))
  const safe = escapeTerminal(text.replace(/\uFFFD/g, '?'))
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe
}
