import t from 'tap'
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'
import { endpointAt, ipAt, portAt } from '../lib/ip'
import { parseEndpoint, parseIP } from './helpers'
import { forwardedNode, isObfuscated } from '../lib/forwarded'

t.test('IPv4: four decimal octets without leading zeros, nothing else', async (t) => {
  const cases: Array<[string, string | null]> = [
    ['203.0.113.7', '203.0.113.7'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['10.0.0.1', '10.0.0.1'],
    ['010.0.0.1', null],
    ['10.00.0.1', null],
    ['1.2.3', null],
    ['10.1', null],
    ['1.2.3.4.5', null],
    ['0x7f.0.0.1', null],
    ['167772161', null],
    ['256.0.0.1', null],
    ['1.2.3.256', null],
    ['1.2.3.1000', null],
    ['1..2.3', null],
    ['1.2.3.', null],
    ['.1.2.3', null],
    ['1.2.3.4 ', null],
    [' 1.2.3.4', null],
    ['1.2.3.-4', null],
    ['1.2.3.4a', null],
    ['', null],
    ['١.٢.٣.٤', null]
  ]
  for (const [input, expected] of cases) t.equal(parseIP(input), expected, JSON.stringify(input))
})

t.test('IPv6: RFC 4291 text forms, returned in RFC 5952 form', async (t) => {
  const cases: Array<[string, string | null]> = [
    ['::1', '::1'],
    ['::', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
    ['fe80::', 'fe80::'],
    ['1::', '1::'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:cb00:7107', '203.0.113.7'],
    ['0:0:0:0:0:ffff:127.0.0.1', '127.0.0.1'],
    ['::1.2.3.4', '::102:304'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['2001:db8::a:0:0:0', '2001:db8:0:0:a::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:0:0:2:0:0:3', '1::2:0:0:3'],
    ['1::2::3', null],
    [':::', null],
    ['1:::2', null],
    [':1', null],
    ['1:', null],
    ['1::2:3:4:5:6:7:8', null],
    ['1:2:3:4:5:6:7', null],
    ['1:2:3:4:5:6:7:8:9', null],
    ['00000::1', null],
    ['12345::', null],
    ['g::1', null],
    ['fe80::1%eth0', null],
    ['fe80::1%', null],
    ['[::1]', null],
    ['::01.2.3.4', null],
    ['::1.2.3', null],
    ['1:2:3:4:5:6:7:1.2.3.4', null],
    ['1:2:3:4:5:6::1.2.3.4', null],
    ['::ffff:1.2.3.4:5', null],
    [':', null]
  ]
  for (const [input, expected] of cases) t.equal(parseIP(input), expected, JSON.stringify(input))
})

t.test('list entries: optional port, brackets for IPv6', async (t) => {
  const cases: Array<[string, string | null]> = [
    ['203.0.113.7:4711', '203.0.113.7'],
    ['203.0.113.7:65535', '203.0.113.7'],
    ['203.0.113.7:1', '203.0.113.7'],
    ['203.0.113.7:0', null],
    ['203.0.113.7:65536', null],
    ['203.0.113.7:080', null],
    ['203.0.113.7:', null],
    ['203.0.113.7:port', null],
    ['[2001:db8::1]:4711', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[::ffff:127.0.0.1]:80', '127.0.0.1'],
    ['2001:db8::1', '2001:db8::1'],
    ['[2001:db8::1]:', null],
    ['[2001:db8::1]4711', null],
    ['[2001:db8::1', null],
    ['[1.2.3.4]', null],
    ['[fe80::1%eth0]', null],
    ['[]', null],
    ['[2001:db8::1]:_obf', null],
    ['1.2.3.4:80:80', null],
    ['1.2.3.4 :80', null],
    ['::1:80', '::1:80'],
    [`[${':'.repeat(16000)}]`, null],
    [`${'1'.repeat(16000)}`, null],
    ['unknown', null],
    ['_hidden', null],
    ['', null]
  ]
  for (const [input, expected] of cases) t.equal(parseEndpoint(input), expected, JSON.stringify(input))
  // A Forwarded node (RFC 7239 section 6) also takes an obfuscated port.
  const node = (value: string): string | null => forwardedNode(value)?.toString() ?? null
  t.equal(node('[2001:db8::1]:_p-1.x'), '2001:db8::1', 'RFC 7239 obfuscated port')
  t.equal(node('192.0.2.43:_p1'), '192.0.2.43')
  t.equal(node('192.0.2.43:_'), null, 'an obfuscated port needs a character after _')
  t.equal(node('192.0.2.43:_a/b'), null)
  t.equal(node('2001:db8::1'), null, 'IPv6 must be bracketed')
  t.equal(node('unknown'), 'hidden')
  t.equal(node('UNKNOWN:80'), 'hidden')
  t.equal(node('_x:_y'), 'hidden')
  t.equal(node('unknown:0'), null)
})

t.test('an address in part of a longer text is read from that part only', async (t) => {
  // Headers are parsed in place: what follows the part must never be read into it.
  const cases: Array<[string, number, number, string | null]> = [
    ['2001:db8::1abc', 0, 11, '2001:db8::1'],
    ['2001:db8::abc', 0, 9, null], // '2001:db8:' ends in a single colon
    ['1:2:3:4:5:6:7:8', 0, 14, null],
    ['::ffff:1.2.3.45', 0, 14, '1.2.3.4'],
    ['x::1:2y', 1, 6, '::1:2'],
    ['10.0.0.12', 0, 8, '10.0.0.1'],
    ['[::1]:8080', 1, 4, '::1'],
    ['1.2.3.4.5', 2, 9, '2.3.4.5'],
    ['a::', 0, 2, null]
  ]
  for (const [text, start, end, expected] of cases) {
    t.equal(ipAt(text, start, end)?.toString() ?? null, expected, `${JSON.stringify(text)} [${start}, ${end})`)
  }
  t.equal(endpointAt('203.0.113.7:80, x', 0, 14)?.toString(), '203.0.113.7')
  t.equal(endpointAt('[2001:db8::1]:443 ', 0, 17)?.toString(), '2001:db8::1')
  t.equal(endpointAt('[2001:db8::1]:4431', 0, 17)?.toString(), '2001:db8::1')
})

t.test('obfuscated names of any length', async (t) => {
  for (const n of [1, 63, 64, 65, 200, 16000]) {
    const name = '_' + 'aZ9.-_'.repeat(n).slice(0, n)
    t.equal(isObfuscated(name), true, `${n + 1} characters`)
    for (const bad of ['!', ':', ' ', '\u00e9', '\u0161']) {
      const at = n >> 1
      const spoiled = name.slice(0, at + 1) + bad + name.slice(at + 1)
      t.equal(isObfuscated(spoiled), false, `${n + 2} characters with ${JSON.stringify(bad)} inside`)
    }
  }
  const inside = 'x_' + 'a'.repeat(100) + ':80'
  t.equal(isObfuscated(inside.slice(1, -3)), true)
  t.equal(isObfuscated(inside), false)
  t.equal(isObfuscated('_'), false, 'at least one character after _')
  t.equal(isObfuscated('_a\n'), false, 'no line feed at the end')
})

t.test('ports are 1-65535 in plain decimal', async (t) => {
  t.equal(portAt('8080', 0, 4), 8080)
  t.equal(portAt('0', 0, 1), -1)
  t.equal(portAt('123456', 0, 6), -1)
  t.equal(portAt('', 0, 0), -1)
  t.equal(portAt('8a', 0, 2), -1)
  t.equal(portAt('+80', 0, 3), -1)
})

t.test('agrees with net.isIP, and with ipaddr.js on what both accept', async (t) => {
  const samples = [
    '1.2.3.4', '01.2.3.4', '::', '::1', '1::', 'a:b:c:d:e:f:0:1', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
    '::ffff:10.0.0.1', '::ffff:0a00:0001', 'ffff::', '0::0', '1.2.3.4.5', '1:2:3:4:5:6:7:8:9', '1:2::3:4::5',
    '255.255.255.255', '256.1.1.1', '1.2.3', 'fe80::1', 'FE80::1', '2001:db8:85a3::8a2e:370:7334', '::1.2.3.4',
    '1::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', 'x', '', '::ffff:1.2.3.04', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9:0', '1:2:3:4:5:6:7:8:',
    ':1::', ':::1', '1:::', '::1:', '1::2:', 'a:b:c:d:e:f:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '12345::', '::.1.2.3', '1.2.3.4::'
  ]
  for (const s of samples) {
    const mine = parseIP(s)
    t.equal(mine !== null, isIP(s) !== 0, `net.isIP agrees on ${JSON.stringify(s)}`)
    if (mine === null || !ipaddr.isValid(s)) continue
    let theirs = ipaddr.process(s).toString()
    if (theirs.includes(':')) theirs = ipaddr.IPv6.parse(theirs).toRFC5952String()
    // ipaddr.js reads '::1.2.3.4' (IPv4-compatible) as IPv4-mapped; RFC 4291 does not.
    if (s === '::1.2.3.4' || s === '1::1.2.3.4') continue
    t.equal(mine, theirs, `ipaddr.js agrees on ${JSON.stringify(s)}`)
  }
})
