/**
 * The CLI under misuse, as a user runs it: every bad flag value, bad output and bad folder entry gets a clear
 * one-line reason and the documented exit code (1 input, 2 usage), never 70 or a stack trace; stderr carries no
 * raw control byte whatever the file names hold.
 */
import {closeSync, copyFileSync, linkSync, mkdirSync, openSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {execFileSync, spawnSync} from 'node:child_process'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {REPO_ROOT, runCli, type CliResult} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'lvscope-misuse-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
const SAMPLE = join(REPO_ROOT, 'samples/idle-expiry-mysql')
const DIRECTOR = join(SAMPLE, 'director.pcapng')
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

function clean(r: CliResult): void {
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /)
  expect(r.stderr).not.toMatch(CONTROL)
}

function usage(args: string[], reason: string | RegExp): void {
  const r = runCli(args)
  clean(r)
  expect(r.code, r.stderr).toBe(2)
  expect(r.stderr.split('\n')[0]).toMatch(reason)
}

/** A copy of the director sample cut in the middle of a record. */
function truncated(name: string): string {
  const p = join(dir, name)
  writeFileSync(p, readFileSync(DIRECTOR).subarray(0, 4000))
  return p
}

describe('dedupe never destroys its input (issue 19 item 1)', () => {
  it('refuses an output that is the input, by name, symlink or hard link, and leaves it intact', () => {
    const victim = join(dir, 'victim.pcapng')
    copyFileSync(DIRECTOR, victim)
    symlinkSync(victim, join(dir, 'victim-sym.pcapng'))
    linkSync(victim, join(dir, 'victim-hard.pcapng'))
    for (const out of [victim, join(dir, 'victim-sym.pcapng'), join(dir, 'victim-hard.pcapng')]) {
      const r = runCli(['dedupe', victim, '-o', out])
      clean(r)
      expect(r.code).toBe(2)
      expect(r.stderr).toBe(`lvscope: ${out}: is the input ${victim} (same file); give another output name\n`)
    }
    expect(readFileSync(victim)).toEqual(readFileSync(DIRECTOR))
  })

  it('keeps the previous output when the input turns out unreadable', () => {
    const out = join(dir, 'kept.pcapng')
    writeFileSync(out, 'previous output')
    const bad = join(dir, 'not-a-capture.pcap')
    writeFileSync(bad, 'hello world, no capture here')
    const r = runCli(['dedupe', bad, '-o', out])
    clean(r)
    expect(r.code).toBe(1)
    expect(readFileSync(out, 'utf8')).toBe('previous output')
  })

  it('refuses -o - clearly', () => usage(['dedupe', DIRECTOR, '-o', '-'], /^lvscope: -o -: dedupe writes a capture file, not stdout/))
})

describe('write errors are exit 1 with the path and the reason (item 4)', () => {
  it('-o /dev/full', () => {
    const r = runCli(['dedupe', DIRECTOR, '-o', '/dev/full'])
    clean(r)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('lvscope: /dev/full: cannot write: ENOSPC (no space left on device)\n')
  })

  it('-o /proc/self/status', () => {
    const r = runCli(['dedupe', DIRECTOR, '-o', '/proc/self/status'])
    clean(r)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^lvscope: \/proc\/self\/status: cannot \w.*: E[A-Z]+ \(.+\)\n$/)
  })
})

describe('a failed write to stdout is exit 1 with the reason (item 4)', () => {
  for (const args of [['info', DIRECTOR], ['flows', DIRECTOR, '--json'], ['analyze', SAMPLE, '--timeouts', '6,3,30', '--format', 'json']]) {
    it(`${args[0]} > /dev/full`, () => {
      const full = openSync('/dev/full', 'w')
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/run.js'), ...args], {cwd: REPO_ROOT, stdio: ['ignore', full, 'pipe'], encoding: 'utf8'})
      closeSync(full)
      expect(r.status).toBe(1)
      expect(r.stderr).toBe('lvscope: stdout: cannot write: ENOSPC (no space left on device)\n')
    })
  }
})

describe('bad folder entries are warnings; the run goes on (item 4)', () => {
  const d = join(dir, 'incident')
  mkdirSync(d)
  copyFileSync(DIRECTOR, join(d, 'director.pcapng'))
  copyFileSync(join(SAMPLE, 'rs1.pcap.gz'), join(d, 'rs1.pcap.gz'))
  symlinkSync('gone.pcap', join(d, 'dangling.pcap'))
  symlinkSync('loop-b', join(d, 'loop-a'))
  symlinkSync('loop-a', join(d, 'loop-b'))
  for (const args of [['analyze', d, '--timeouts', '6,3,30', '--format', 'json'], ['artifacts', d, '--json'], ['correlate', d, '--json'], ['info', d, '--json']]) {
    it(args[0], () => {
      const r = runCli(args)
      clean(r)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toContain(`lvscope: warning: ${join(d, 'dangling.pcap')}: skipped: ENOENT (no such file or directory)\n`)
      expect(r.stderr).toContain(`lvscope: warning: ${join(d, 'loop-a')}: skipped: ELOOP (too many symbolic links encountered)\n`)
      expect(() => JSON.parse(r.stdout)).not.toThrow()
    })
  }
})

describe('--config is bounded and never blocks (item 3)', () => {
  it('refuses a FIFO with no writer at once', () => {
    const fifo = join(dir, 'config.fifo')
    execFileSync('mkfifo', [fifo])
    // A read that blocks is killed after 30 s, and fails the test instead of hanging it.
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/run.js'), 'analyze', SAMPLE, '--config', fifo], {cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000})
    expect(r.signal).toBeNull()
    expect(r.status).toBe(1)
    expect(r.stderr).toBe(`lvscope: ${fifo}: --config wants a regular file (ipvsadm/keepalived/proc text), this is a FIFO\n`)
  })

  it('refuses /dev/zero', () => {
    // The unbounded read this replaces grew past 6 GiB: killed after 30 s, it fails the test.
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/run.js'), 'analyze', SAMPLE, '--config', '/dev/zero'], {cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000})
    expect(r.signal).toBeNull()
    expect(r.status).toBe(1)
    expect(r.stderr).toBe('lvscope: /dev/zero: --config wants a regular file (ipvsadm/keepalived/proc text), this is a device\n')
  })
})

describe('every command reports reader damage the same way (item 6)', () => {
  const cut = truncated('cut.pcapng')
  const warning = `lvscope: warning: ${cut}: truncated block at byte 3948: header says 100 bytes, 52 present\n`
  for (const args of [['dedupe', cut, '-o', join(dir, 'cut.clean.pcapng')], ['correlate', cut], ['flows', cut], ['artifacts', cut], ['analyze', cut, '--format', 'json'], ['info', cut]]) {
    it(args[0], () => {
      const r = runCli(args)
      clean(r)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr.split(warning).length - 1, r.stderr).toBe(1)
    })
  }
})

describe('flag values are checked (item 7)', () => {
  const cases: [string[], RegExp][] = [
    [['--timeouts', ''], /--timeouts wants three values TCP,TCPFIN,UDP/],
    [['--timeouts', '0x10,3,30'], /--timeouts: each value must be a decimal whole number, got "0x10"/],
    [['--timeouts', '99999999999999999999,3,30'], /--timeouts: each value must be between 0 and 21474836/],
    [['--kernel', 'banana'], /kernel version must look like 6\.1/],
    [['--keepalived-version', 'x.y'], /keepalived version must look like 2\.2\.8/],
    [['--persistence-mask', '999.1.1.1'], /--persistence-mask must be a dotted IPv4 netmask/],
    [['--persistence', '0x10'], /must be a decimal whole number, got "0x10"/],
    [['--clock-offset', 'nofile=3'], /--clock-offset nofile=…: nofile is not among the captures given/],
    [['--clock-offset', `${DIRECTOR}=0x1`], /--clock-offset wants FILE=SECONDS/],
    [['--director', '/etc/passwd'], /--director \/etc\/passwd: not a pcap, pcapng or gzip capture file/],
    [['--director', DIRECTOR, '--real-server', DIRECTOR], /given as both --director and --real-server/],
  ]
  for (const [flags, reason] of cases) it(`analyze ${flags.join(' ')}`, () => usage(['analyze', SAMPLE, ...flags], reason))
  it('flows --port 70000', () => usage(['flows', DIRECTOR, '--port', '70000'], /--port must be between 0 and 65535, got "70000"/))
  it('flows --host not-an-ip', () => usage(['flows', DIRECTOR, '--host', 'not-an-ip'], /not an IPv4 or IPv6 address: "not-an-ip"/))
  it('accepts good values, a kernel release string and an offset named through its folder', () => {
    const r = runCli(['analyze', SAMPLE, '--timeouts', '6,3,30', '--kernel', '5.4.0-150-generic', '--keepalived-version', '2.2.8', '--persistence-mask', '255.255.255.0', '--clock-offset', `${join(SAMPLE, 'rs1.pcap.gz')}=0.001`, '--format', 'json'])
    expect(r.code, r.stderr).toBe(0)
    const flows = runCli(['flows', DIRECTOR, '--host', '10.77.0.10', '--port', '3306', '--json'])
    expect(flows.code, flows.stderr).toBe(0)
    expect(JSON.parse(flows.stdout).flows.length).toBeGreaterThan(0)
  })
})

describe('file names are escaped on stderr (item 8)', () => {
  it('a name holding ESC]0;…BEL ESC[2J reaches stderr as \\xNN text', () => {
    const evil = join(dir, 'evil\u001b]0;pwned\u0007\u001b[2J.pcapng')
    writeFileSync(evil, readFileSync(DIRECTOR).subarray(0, 4000))
    for (const args of [['flows', evil], ['info', evil, join(dir, 'missing\u001b[2J.pcap')], ['dedupe', evil, '-o', join(dir, 'out\u001b[2J.pcapng')]]) {
      const r = runCli(args)
      clean(r)
      expect(r.stdout).not.toMatch(CONTROL)
      expect(r.stderr).toContain('evil\\x1b]0;pwned\\x07\\x1b[2J.pcapng')
    }
  })
})

describe('usage messages keep their reason (item 9)', () => {
  it('flows --limit -1', () => usage(['flows', DIRECTOR, '--limit', '-1'], /^lvscope: Parsing --limit: .*decimal whole number, got "-1"$/))
  it('dedupe without -o', () => usage(['dedupe', DIRECTOR], /^lvscope: .*Missing required flag output/))
})

describe('stdin and directories where a file is wanted (item 10)', () => {
  it('correlate - is a usage error', () => usage(['correlate', '-'], /give files, not - \(stdin\)/))
  it('a second - is a usage error', () => usage(['info', '-', '-'], /- \(stdin\) given twice/))
  it('flows <dir> is a usage error', () => usage(['flows', SAMPLE], /is a directory; this command reads one capture file/))
  it('dedupe <dir> is a usage error', () => {
    usage(['dedupe', SAMPLE, '-o', join(dir, 'x.pcapng')], /is a directory/)
    expect(() => statSync(join(dir, 'x.pcapng'))).toThrow()
  })
})
