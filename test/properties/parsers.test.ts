// Property 4: the parsers never throw, whatever the string, and agree with
// independent oracles: Node's net.isIP (validity), ipaddr.js (canonical text
// and range matching) and the RFC 3986 / RFC 7230 grammars written as regular
// expressions in support.ts.
//
// Known oracle quirks, excluded on purpose:
// - net.isIP accepts zone ids (`fe80::1%eth0`); the contract does not.
// - ipaddr.js reads the deprecated IPv4-compatible form `::a.b.c.d` as
//   IPv4-mapped `::ffff:a.b.c.d`; such values are compared with the BigInt
//   model only.
// - ipaddr.js accepts octal, hex and short IPv4 (`010.0.0.1`, `0x7f.1`,
//   `1.2.3`); net.isIP and the contract do not, so "both accept" leaves them out.
import { equal, ok } from 'node:assert/strict'
import { isIP } from 'node:net'
import fc from 'fast-check'
import ipaddr from 'ipaddr.js'
import { ipAt, portAt } from '../../lib/ip'
import { parseEndpoint, parseIP } from '../helpers'
import { ProxyFixError } from '../../lib/errors'
import { lastElement } from '../../lib/list'
import { parseHost, parsePrefix, parseProto } from '../../lib/host'
import { compileAllowlist as compileTrust } from '../../lib/allowlist'
import {
  allowEntry, anyAddr, canonicalText, checkProperty, edge, entryFor, hostValue, hostile, inside, junkEntry,
  listElements, modelAddress, modelCidrs, modelEndpoint, modelHost, modelPort, modelPrefix, modelProto, named, portValue,
  prefixValue, protoValue, spell, spelling
} from './support'

/** One character changed, added or removed. */
function mutate (text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const piece = fc.constantFrom(':', '.', '::', '0', '00', 'f', 'F', 'g', '%', '[', ']', ' ', '1', '255', '256', '\u0000', '\ud800', '١')
  return fc.tuple(text, fc.nat(), piece, fc.nat({ max: 2 })).map(([value, at, p, how]) => {
    const i = at % (value.length + 1)
    if (how === 0) return value.slice(0, i) + value.slice(i + 1)
    if (how === 1) return value.slice(0, i) + p + value.slice(i)
    return value.slice(0, i) + p + value.slice(i + p.length)
  })
}

const spelled = fc.tuple(anyAddr, spelling).map(([addr, [style, bits]]) => spell(addr, style, bits))
const addressLike = fc.oneof(
  { weight: 4, arbitrary: spelled },
  { weight: 4, arbitrary: mutate(spelled) },
  { weight: 2, arbitrary: hostile },
  {
    weight: 1,
    arbitrary: fc.constantFrom('fe80::1%eth0', '::1%1', '::', '::1', '1::', '::ffff:0.0.0.0', '0.0.0.0', '255.255.255.255',
      '::1.2.3.4', '::ffff:1.2.3.4', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5::1.2.3.4')
  }
)

/** ipaddr.js's reading: canonical text, with IPv4-mapped written dotted. */
function ipaddrCanonical (text: string): string {
  const addr = ipaddr.parse(text)
  if (addr.kind() === 'ipv4') return addr.toString()
  const v6 = addr as ipaddr.IPv6
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toRFC5952String()
}

const IPV4_COMPATIBLE = /^::(\d+\.){3}\d+$/

checkProperty('parseIP never throws and accepts exactly what net.isIP accepts, zone ids aside', 5000,
  fc.property(addressLike, (text) => {
    const ours = parseIP(text)
    equal(ours !== null, isIP(text) !== 0 && !text.includes('%'), 'validity')
    if (ours === null) return
    const model = modelAddress(text)
    equal(ours, canonicalText(model as NonNullable<typeof model>), 'canonical text (BigInt model)')
    if (!IPV4_COMPATIBLE.test(text)) equal(ours, ipaddrCanonical(text), 'canonical text (ipaddr.js)')
  }))

checkProperty('parseEndpoint never throws and agrees with the model on ports and brackets', 5000,
  fc.property(fc.oneof(entryFor(anyAddr), mutate(entryFor(anyAddr)), junkEntry, hostile), (text) => {
    const ours = parseEndpoint(text)
    const model = modelEndpoint(text)
    equal(ours, model === null ? null : canonicalText(model))
  }))

/** ipaddr.js's range match, an IPv4 address seen as ::ffff:a.b.c.d against IPv6 ranges and back. */
function ipaddrMatches (text: string, cidr: string): boolean {
  let addr = ipaddr.parse(text)
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address()
  const [network, bits] = ipaddr.parseCIDR(cidr)
  if (addr.kind() === network.kind()) return addr.match(network, bits)
  if (addr.kind() === 'ipv4') return (addr as ipaddr.IPv4).toIPv4MappedAddress().match(network, bits)
  return false
}

/** An allowlist entry in a form ipaddr.js reads right (names expanded, RFC 5952 text). */
function forIpaddr (entry: string): string[] {
  const blocks = named(entry)
  if (blocks !== undefined) return blocks
  return modelCidrs(entry).map((cidr) => {
    const text = cidr.family === 4
      ? canonicalText({ family: 4, value: cidr.base })
      : new ipaddr.IPv6(Array.from({ length: 8 }, (_, k) => Number((cidr.base >> BigInt(112 - 16 * k)) & 0xffffn))).toRFC5952String()
    return `${text}/${cidr.bits}`
  })
}

const matcherCase = fc.array(allowEntry.filter(validAllowEntry), { minLength: 1, maxLength: 6 }).chain((entries) => {
  const cidrs = entries.flatMap(modelCidrs)
  const address = fc.oneof(inside(cidrs), edge(cidrs), anyAddr)
  return fc.record({
    entries: fc.constant(entries),
    addresses: fc.array(fc.tuple(address, spelling).map(([a, [style, bits]]) => spell(a, style, bits)), { minLength: 1, maxLength: 10 })
  })
})

checkProperty('the compiled allowlist matches as ipaddr.js does', 2000, fc.property(matcherCase, ({ entries, addresses }) => {
  const matcher = compileTrust(entries)
  const ranges = entries.flatMap(forIpaddr)
  for (const text of addresses) {
    const ip = ipAt(text, 0, text.length)
    ok(ip !== null, text)
    const ours = matcher.matches(ip as NonNullable<typeof ip>)
    const oracle = IPV4_COMPATIBLE.test(text)
      ? ranges.some((range) => ipaddrMatches(canonicalText(modelAddress(text) as NonNullable<ReturnType<typeof modelAddress>>), range))
      : ranges.some((range) => ipaddrMatches(text, range))
    equal(ours, oracle, `${text} in [${entries.join(', ')}]`)
  }
}), 'up to 10 addresses each')

/** The contract's allowlist entry: a name, or an address with an optional prefix length in range
 *  (96 or more for an IPv4-mapped address written in IPv6). */
function validAllowEntry (entry: string): boolean {
  if (named(entry.toLowerCase()) !== undefined) return true
  const [address, length, extra] = entry.split('/')
  if (extra !== undefined || modelAddress(address) === null) return false
  if (length === undefined) return true
  const mapped = address.includes(':') && modelAddress(address)?.family === 4
  return /^(0|[1-9]\d{0,2})$/.test(length) && Number(length) <= (address.includes(':') ? 128 : 32) && !(mapped && Number(length) < 96)
}

checkProperty('compileTrust accepts exactly the valid entries and fails with a coded error', 3000,
  fc.property(fc.oneof(allowEntry, mutate(allowEntry), hostile, fc.constantFrom('Loopback', 'PRIVATE', 'fe80::/10%eth0', '10.0.0.0/08', '::/129', '1.2.3.4/-1', 'constructor', '__proto__', 'toString', 'hasOwnProperty')), (entry) => {
    let error: unknown = null
    try {
      compileTrust([entry])
    } catch (e) {
      error = e
    }
    equal(error === null, validAllowEntry(entry), 'accepted')
    if (error !== null) ok(error instanceof ProxyFixError && error.code === 'FST_PROXY_FIX_INVALID_TRUSTED_PROXY', String(error))
  }))

/** The header scanners, on the rightmost element as the resolver uses them. */
checkProperty('header scanners never throw and agree with the RFC 3986 / contract grammars', 5000,
  fc.property(fc.oneof(hostValue, protoValue, portValue, prefixValue, hostile, mutate(hostValue), mutate(prefixValue)), (value) => {
    const element = listElements(value).pop() as string
    equal(lastElement(value), element, 'rightmost element')

    const host = modelHost(element)
    const parsed = parseHost(element)
    equal(parsed !== null, host !== null, `host ${JSON.stringify(element)}`)
    if (parsed !== null && host !== null) {
      equal(parsed.hostname, host.hostname)
      equal(parsed.port, host.port)
      equal(parsed.host, element)
    }
    equal(parseProto(element), modelProto(element), 'proto')
    equal(portAt(element, 0, element.length), modelPort(element) ?? -1, 'port')
    equal(parsePrefix(element), modelPrefix(element), 'prefix')
  }))
