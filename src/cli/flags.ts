/**
 * Flag value types shared by every command: each parses, checks its range and says in its help what it accepts,
 * in one place. Numbers are decimal only (`0x10` is refused, not read as 16 s), so a typo cannot change a
 * verdict; a bad value is a usage error (exit 2) naming the flag and what it wanted.
 */
import {Errors, Flags} from '@oclif/core'

import {ipv4ToString, ipv6ToString, parseIPv4, parseIPv6} from '../decode/format.js'

const DECIMAL = /^\d+$/

function fail(message: string): never {
  throw new Errors.CLIError(message)
}

/** A non-negative decimal integer within [min, max]. */
function decimal(input: string, min: number, max: number, what: string): number {
  const s = input.trim()
  if (!DECIMAL.test(s)) fail(`${what} must be a decimal whole number, got "${input}"`)
  const n = Number(s)
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(`${what} must be between ${min} and ${max}, got "${input}"`)
  return n
}

/** An integer flag: decimal digits only, within [min, max] (both shown in the help). */
export function decimalFlag(opts: {description: string; min: number; max: number}) {
  return Flags.custom<number>({
    description: `${opts.description} (${opts.min}–${opts.max})`,
    helpValue: '<n>',
    parse: async (input) => decimal(input, opts.min, opts.max, 'the value'),
  })
}

/**
 * The largest IPVS timeout any kernel accepts: ip_vs_ctl.c refuses more than INT_MAX / HZ seconds, 21,474,836 at
 * HZ 100 (smaller at higher HZ).
 */
export const MAX_IPVS_TIMEOUT = Math.floor(2147483647 / 100)

/** --timeouts TCP,TCPFIN,UDP: three decimal seconds as `ipvsadm --set` takes them (0 = keep that one). */
export const timeoutsFlag = Flags.custom<string>({
  description: `IPVS timeouts TCP,TCPFIN,UDP in decimal seconds as set by ipvsadm --set (0 = unknown; each at most ${MAX_IPVS_TIMEOUT})`,
  helpValue: 'TCP,TCPFIN,UDP',
  parse: async (input) => {
    const parts = input.split(',')
    if (parts.length !== 3) fail(`--timeouts wants three values TCP,TCPFIN,UDP (e.g. 900,120,300; 0 = unknown), got "${input}"`)
    return parts.map((p) => decimal(p, 0, MAX_IPVS_TIMEOUT, '--timeouts: each value')).join(',')
  },
})

/** A dotted version (5.4, 2.2.8), optionally followed by a kernel release suffix such as -150-generic. */
function versionFlag(what: string, example: string, suffix: boolean) {
  const re = suffix ? /^(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?(?:[-+~_][0-9A-Za-z._+~-]*)?$/ : /^v?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?$/
  return Flags.custom<string>({
    description: `${what}, e.g. ${example}`,
    helpValue: example,
    parse: async (input) => {
      const s = input.trim()
      if (!re.test(s)) fail(`${what} must look like ${example} (decimal MAJOR.MINOR[.PATCH]), got "${input}"`)
      return s.replace(/^v/, '')
    },
  })
}

export const kernelFlag = versionFlag('director kernel version', '6.1', true)
export const keepalivedVersionFlag = versionFlag('keepalived version', '2.2.8', false)

/** --persistence-mask: a contiguous IPv4 netmask in dotted decimal, as ipvsadm -M takes it. */
export const netmaskFlag = Flags.custom<string>({
  description: 'persistence netmask (ipvsadm -M), a dotted IPv4 netmask such as 255.255.255.0',
  helpValue: '255.255.255.0',
  parse: async (input) => {
    const bad = (): never => fail(`--persistence-mask must be a dotted IPv4 netmask such as 255.255.255.0, got "${input}"`)
    let n = 0
    try {
      n = parseIPv4(input)
    } catch {
      bad()
    }
    // Contiguous: the inverted mask plus one is a power of two.
    const inv = ~n >>> 0
    if ((inv & (inv + 1)) !== 0) bad()
    return ipv4ToString(n)
  },
})

/** A TCP/UDP port number. */
export const portFlag = Flags.custom<number>({
  description: 'port number (0–65535)',
  helpValue: '<port>',
  parse: async (input) => decimal(input, 0, 65535, '--port'),
})

/** An IPv4 or IPv6 address, returned in the form the flow table prints (so comparisons are exact). */
export const addressFlag = Flags.custom<string>({
  description: 'IPv4 or IPv6 address',
  helpValue: '<address>',
  parse: async (input) => {
    const s = input.trim()
    try {
      return s.includes(':') ? ipv6ToString(parseIPv6(s)) : ipv4ToString(parseIPv4(s))
    } catch {
      return fail(`not an IPv4 or IPv6 address: "${input}"`)
    }
  },
})

/** The most a capture's clock can be off and still be placed: ten years. */
const MAX_CLOCK_OFFSET = 10 * 365 * 86400

export interface ClockOffset {
  file: string
  seconds: number
}

/** --clock-offset FILE=SECONDS; which FILE is checked against the inputs once they are known. */
export const clockOffsetFlag = Flags.custom<ClockOffset>({
  description: 'FILE=SECONDS: capture time minus reference time, decimal seconds (overrides the estimate)',
  helpValue: 'FILE=SECONDS',
  parse: async (input) => {
    const i = input.lastIndexOf('=')
    const text = input.slice(i + 1).trim()
    if (i <= 0 || !/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text)) fail(`--clock-offset wants FILE=SECONDS (decimal, e.g. rs1.pcap=-0.25), got "${input}"`)
    const seconds = Number(text)
    if (Math.abs(seconds) > MAX_CLOCK_OFFSET) fail(`--clock-offset: at most ${MAX_CLOCK_OFFSET} s (ten years) either way, got "${input}"`)
    return {file: input.slice(0, i), seconds}
  },
})
