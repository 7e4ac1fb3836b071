import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * The project's shared/ folder (corpus, docs) sits beside the repository, in development and in CI alike;
 * LVSCOPE_SHARED overrides it.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const SHARED = process.env.LVSCOPE_SHARED ?? [join(ROOT, '..', 'shared'), '/work/shared'].find((p) => existsSync(p)) ?? join(ROOT, '..', 'shared')
export const CORPUS = join(SHARED, 'corpus')
export const CORPUS_FILES = join(CORPUS, 'files')
