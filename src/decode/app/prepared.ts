/**
 * The few most recent prepared statements of a connection (MySQL by numeric id, PostgreSQL by
 * name), so "execute statement 7" can be shown as the query it runs. A fixed ring: old entries
 * are overwritten, memory stays constant.
 */
import {ByteSlot} from './slot.js'

const SIZE = 4

export class PreparedRing {
  private readonly ids = new Float64Array(SIZE).fill(-1)
  private readonly names: ByteSlot[] = []
  private readonly texts: ByteSlot[] = []
  private next = 0

  constructor(textBytes: number) {
    for (let i = 0; i < SIZE; i++) {
      this.names.push(new ByteSlot(64))
      this.texts.push(new ByteSlot(textBytes))
    }
  }

  addById(id: number, text: ByteSlot): void {
    const i = this.next
    this.next = (i + 1) % SIZE
    this.ids[i] = id
    this.names[i].clear()
    this.texts[i].copyFrom(text)
  }

  addByName(d: Uint8Array, nameOff: number, nameLen: number, textOff: number, textLen: number, textTotal: number): void {
    // The unnamed statement is replaced by every Parse: reuse its entry rather than fill the ring.
    let i = this.find(d, nameOff, nameLen)
    if (i < 0) {
      i = this.next
      this.next = (i + 1) % SIZE
    }
    this.ids[i] = -2
    this.names[i].set(d, nameOff, nameLen)
    this.texts[i].set(d, textOff, textLen, textTotal)
  }

  /** The statement text for a MySQL id, or null. */
  byId(id: number): ByteSlot | null {
    for (let i = 0; i < SIZE; i++) if (this.ids[i] === id) return this.texts[i]
    return null
  }

  /** The statement text for a PostgreSQL name, or null. */
  byName(d: Uint8Array, nameOff: number, nameLen: number): ByteSlot | null {
    const i = this.find(d, nameOff, nameLen)
    return i < 0 ? null : this.texts[i]
  }

  private find(d: Uint8Array, off: number, len: number): number {
    for (let i = 0; i < SIZE; i++) if (this.ids[i] === -2 && this.names[i].equals(d, off, len)) return i
    return -1
  }
}
