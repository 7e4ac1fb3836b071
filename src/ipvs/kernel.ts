/**
 * Kernel and keepalived version handling. IPVS behaviour changed at a few releases (see ipvs-model.md,
 * "Not confirmed from source" §1); callers pass a version string such as "5.10" or "4.19.0-25-amd64".
 */

export interface Version {
  major: number
  minor: number
  patch: number
}

/** Parse "5.10", "4.19.0-25-amd64", "v2.1.3", "Keepalived v2.2.8 (..)". Undefined when no digits are found. */
export function parseVersion(text: string): Version | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text)
  if (!m) return undefined
  return {major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? 0 : Number(m[3])}
}

/** a − b ordering: negative, zero or positive. */
export function compareVersion(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch
}

export function atLeast(v: Version, major: number, minor: number, patch = 0): boolean {
  return compareVersion(v, {major, minor, patch}) >= 0
}

/** The kernel the model assumes when the caller does not say: a current one (6.x rules). */
export const DEFAULT_KERNEL: Version = {major: 6, minor: 1, patch: 0}

/** Version-dependent kernel behaviours, resolved once from a version so rules read as booleans. */
export interface KernelTraits {
  /** ≥ 5.9 (04231e52d355, 857ca89711de): expire_nodest_conn reschedules the same packet; hooks only with services. */
  nodestReschedule: boolean
  hooksOnlyWithServices: boolean
  /**
   * c95c07836fa4 (5.16, stable 4.19/5.4/5.15 backports): the weight-0 port-reuse branch applies for any
   * conn_reuse_mode. We treat 4.19+ as fixed only when the caller says the stable backport is in; by version
   * alone only ≥ 5.16 counts (distribution kernels vary, so the option exists).
   */
  reuseWeightZeroAnyMode: boolean
  /** ack on a NONE entry: ES on modern kernels, CL on ≤ 3.10 (exact commit not identified). */
  ackNoneIsClose: boolean
  /** conn_reuse_mode exists (d752c3645717, 2015, believed 4.2). */
  hasConnReuseMode: boolean
  /** TTL is decremented on forward (8d8e20e2d7bb, believed 4.3). */
  decrementsTtl: boolean
}

export function kernelTraits(kernel: Version | string | undefined, stableBackports = false): KernelTraits {
  const v = (typeof kernel === 'string' ? parseVersion(kernel) : kernel) ?? DEFAULT_KERNEL
  return {
    nodestReschedule: atLeast(v, 5, 9),
    hooksOnlyWithServices: atLeast(v, 5, 9),
    reuseWeightZeroAnyMode: atLeast(v, 5, 16) || (stableBackports && atLeast(v, 4, 19)),
    ackNoneIsClose: !atLeast(v, 3, 11),
    hasConnReuseMode: atLeast(v, 4, 2),
    decrementsTtl: atLeast(v, 4, 3),
  }
}
