/**
 * LINKTYPE_* values we decode (tcpdump.org link-layer header types). 12 and 14 are the DLT_RAW
 * values of some BSDs that still turn up in pcap files; libpcap and Wireshark read them as raw IP.
 */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  DLT_RAW_12: 12,
  DLT_RAW_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const
export type Linktype = (typeof LINKTYPE)[keyof typeof LINKTYPE]

/** Names for the link types seen in practice but not decoded, so reports can say what they were. */
const OTHER_NAMES: Readonly<Record<number, string>> = {
  6: 'IEEE802_5',
  8: 'SLIP',
  9: 'PPP',
  10: 'FDDI',
  50: 'PPP_HDLC',
  51: 'PPP_ETHER',
  104: 'C_HDLC',
  105: 'IEEE802_11',
  107: 'FRELAY',
  127: 'IEEE802_11_RADIOTAP',
  129: 'ARCNET_LINUX',
  192: 'PPI',
  195: 'IEEE802_15_4_WITHFCS',
  239: 'NFLOG',
  274: 'PKTAP',
}

const NAMES: Readonly<Record<number, string>> = (() => {
  const names: Record<number, string> = {...OTHER_NAMES}
  for (const [name, value] of Object.entries(LINKTYPE)) names[value] = name
  return names
})()

/** 'ETHERNET', 'LINUX_SLL2', …; 'LINKTYPE_<n>' for values we have no name for. */
export function linktypeName(lt: number): string {
  return NAMES[lt] ?? `LINKTYPE_${lt}`
}

/** True when `decodeFrame` understands this link type (others stop with Stop.Unsupported). */
export function isDecodableLinktype(lt: number): boolean {
  switch (lt) {
    case LINKTYPE.NULL:
    case LINKTYPE.ETHERNET:
    case LINKTYPE.DLT_RAW_12:
    case LINKTYPE.DLT_RAW_14:
    case LINKTYPE.RAW:
    case LINKTYPE.LOOP:
    case LINKTYPE.LINUX_SLL:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
    case LINKTYPE.LINUX_SLL2:
      return true
    default:
      return false
  }
}
