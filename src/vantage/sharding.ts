/** How many flow shards (threads) a capture is worth; see decode/shard.ts for how frames are split. */
import {statSync} from 'node:fs'

/** Below this a shard costs more (a thread, a second read of the file) than it saves. */
export const SHARD_MIN_BYTES = 64 * 1024 * 1024
/** Every shard re-reads and peeks at the whole file, so more than a few stop paying. */
export const MAX_SHARDS = 4

/** Shards for one capture given the threads there are for it: one for stdin, small or unreadable files. */
export function shardsFor(file: string, threads: number): number {
  if (file === '-' || threads <= 1) return 1
  let size: number
  try {
    const st = statSync(file)
    if (!st.isFile()) return 1
    size = st.size
  } catch {
    return 1 // the scan reports why it cannot be read
  }
  if (size < SHARD_MIN_BYTES) return 1
  return Math.max(1, Math.min(MAX_SHARDS, threads, Math.ceil(size / SHARD_MIN_BYTES)))
}
