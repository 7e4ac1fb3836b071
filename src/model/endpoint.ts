/**
 * A transport endpoint as a value: stages join on these (by `sameEndpoint`, or `endpointKey` inside one
 * stage's own maps), never on text built by another stage. `text` is the rendering the report shows.
 */
export interface Endpoint {
  readonly ip: string
  readonly port: number
}

/** The endpoint of "10.0.0.1:80" or "[2001:db8::1]:80"; null when the text is not one. */
export function parseEndpoint(text: string): Endpoint | null {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text)
  if (v6) return {ip: v6[1], port: Number(v6[2])}
  const v4 = /^([^:\s[\]]+):(\d+)$/.exec(text)
  if (v4) return {ip: v4[1], port: Number(v4[2])}
  return null
}

export function endpointText(e: Endpoint): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.ip === b.ip
}

/** A map key for one stage's own index (not a join key between stages). */
export function endpointKey(e: Endpoint): string {
  return `${e.ip}#${e.port}`
}

/** A connection through the VIP: the client endpoint and the virtual service. */
export interface FlowId {
  readonly client: Endpoint
  readonly service: Endpoint
}

export function flowKey(f: FlowId): string {
  return `${endpointKey(f.client)}>${endpointKey(f.service)}`
}
