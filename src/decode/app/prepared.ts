/**
 * The few most recent prepared statements of a connection (MySQL by numeric id, PostgreSQL by
 * name), so "execute statement 7" can be shown as the query it runs. A fixed ring: old entries
 * are overwritten, memory stays bounded. Nothing is allocated until the first statement is
 * prepared (most connections never prepare one), and `clear()` keeps what was allocated for reuse.
 */
import {ByteSlot} from './slot.js'

const SIZE = 4

export class PreparedRing {
  /** Statement id per entry: ≥ 0 MySQL id, -2 named (PostgreSQL), -1 empty. Null until first use. */
  private ids: Float64Array | null = null
  private readonly names: ByteSlot[] = []
  private readonly texts: ByteSlot[] = []
  private next = 0

  constructor(private readonly textBytes: number) {}

  /** Forget every statement (a recycled connection). */
  clear(): void {
    this.ids?.fill(-1)
    this.next = 0
  }

  private entries(): Float64Array {
    if (this.ids) return this.ids
    for (let i = 0; i < SIZE; i++) {
      this.names.push(new ByteSlot(64))
      this.texts.push(new ByteSlot(this.textBytes))
    }
    this.ids = new Float64Array(SIZE).fill(-1)
    return this.ids
  }

  addById(id: number, text: ByteSlot): void {
    const ids = this.entries()
    const i = this.next
    this.next = (i + 1) % SIZE
    ids[i] = id
    this.names[i].clear()
    this.texts[i].copyFrom(text)
  }

  addByName(d: Uint8Array, nameOff: number, nameLen: number, textOff: number, textLen: number, textTotal: number): void {
    const ids = this.entries()
    // The unnamed statement is replaced by every Parse: reuse its entry rather than fill the ring.
    let i = this.find(d, nameOff, nameLen)
    if (i < 0) {
      i = this.next
      this.next = (i + 1) % SIZE
    }
    ids[i] = -2
    this.names[i].set(d, nameOff, nameLen)
    this.texts[i].set(d, textOff, textLen, textTotal)
  }

  /** The statement text for a MySQL id, or null. */
  byId(id: number): ByteSlot | null {
    const ids = this.ids
    if (ids) for (let i = 0; i < SIZE; i++) if (ids[i] === id) return this.texts[i]
    return null
  }

  /** The statement text for a PostgreSQL name, or null. */
  byName(d: Uint8Array, nameOff: number, nameLen: number): ByteSlot | null {
    const i = this.find(d, nameOff, nameLen)
    return i < 0 ? null : this.texts[i]
  }

  private find(d: Uint8Array, off: number, len: number): number {
    const ids = this.ids
    if (ids) for (let i = 0; i < SIZE; i++) if (ids[i] === -2 && this.names[i].equals(d, off, len)) return i
    return -1
  }
}
