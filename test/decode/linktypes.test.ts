import {describe, expect, it} from 'vitest'
import {LINKTYPE, isDecodableLinktype, linktypeName} from '../../src/decode/linktypes.js'

describe('link types', () => {
  it('names the decoded types by their LINKTYPE_ name', () => {
    expect(linktypeName(1)).toBe('ETHERNET')
    expect(linktypeName(113)).toBe('LINUX_SLL')
    expect(linktypeName(276)).toBe('LINUX_SLL2')
    expect(linktypeName(0)).toBe('NULL')
    expect(linktypeName(108)).toBe('LOOP')
    expect(linktypeName(228)).toBe('IPV4')
    expect(linktypeName(12)).toBe('DLT_RAW_12')
    expect(linktypeName(127)).toBe('IEEE802_11_RADIOTAP')
    expect(linktypeName(65000)).toBe('LINKTYPE_65000')
  })

  it('decodable = exactly the LINKTYPE table', () => {
    const decodable = new Set<number>(Object.values(LINKTYPE))
    expect(decodable).toEqual(new Set([0, 1, 12, 14, 101, 108, 113, 228, 229, 276]))
    for (let lt = 0; lt < 1024; lt++) expect(isDecodableLinktype(lt), String(lt)).toBe(decodable.has(lt))
  })
})
