'use strict'

// The allowlists and the request every benchmark uses.
//
// The large allowlist is 10,000 CIDR blocks, IPv4 and IPv6 mixed, generated
// from a fixed seed so every run (and every machine) gets the same list. It
// contains 127.0.0.1 (the benchmark's socket peer) and 10.0.0.0/8 (the proxy
// in the chain) and, by construction, nothing that covers the client
// 203.0.113.7, so the request resolves exactly as with the small list.

const SMALL = ['127.0.0.1', '10.0.0.0/8']

const CLIENT = '203.0.113.7'
const HEADERS = {
  'x-forwarded-for': `${CLIENT}, 10.1.2.3`,
  'x-forwarded-host': 'shop.example.com',
  'x-forwarded-proto': 'https'
}
const PEER = '127.0.0.1'
/** What every server behind a trusted peer must answer. */
const EXPECTED = { ip: CLIENT, hostname: 'shop.example.com', protocol: 'https' }

/** A small deterministic PRNG (mulberry32): same seed, same list. */
function random (seed) {
  let a = seed >>> 0
  return function next () {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const CLIENT_V4 = (203 << 24 | 0 << 16 | 113 << 8 | 7) >>> 0

function v4Block (next) {
  const prefix = 16 + Math.floor(next() * 17) // /16 … /32, like published cloud and CDN ranges
  const size = 2 ** (32 - prefix)
  const address = Math.floor(next() * 2 ** 32)
  const start = address - (address % size)
  if (CLIENT_V4 >= start && CLIENT_V4 < start + size) return null // never trust the client
  const text = [start >>> 24, (start >>> 16) & 255, (start >>> 8) & 255, start & 255].join('.')
  return prefix === 32 && next() < 0.5 ? text : `${text}/${prefix}`
}

function v6Block (next) {
  // Global unicast (2000::/3), so no block reaches the IPv4-mapped range.
  const prefix = 32 + Math.floor(next() * 97) // /32 … /128
  const groups = []
  for (let g = 0; g < 8; g++) {
    let value = Math.floor(next() * 65536)
    if (g === 0) value = 0x2000 | (value & 0x1fff)
    const bitsKept = Math.min(16, Math.max(0, prefix - 16 * g))
    value = bitsKept === 0 ? 0 : value & ~((1 << (16 - bitsKept)) - 1) & 0xffff
    groups.push(value.toString(16))
  }
  // Mix spellings: full, and compressed when the tail is zero.
  let text = groups.join(':')
  if (next() < 0.5) text = text.replace(/(?::0)+$/, '::')
  return prefix === 128 && next() < 0.5 ? text : `${text}/${prefix}`
}

/** 10,000 entries (about 60% IPv4, 40% IPv6), including SMALL. */
function largeAllowlist (size = 10000, seed = 20240229) {
  const next = random(seed)
  const entries = new Set(SMALL)
  while (entries.size < size) {
    const entry = next() < 0.6 ? v4Block(next) : v6Block(next)
    if (entry !== null) entries.add(entry)
  }
  // Spread the two known entries through the list rather than at its head.
  const list = [...entries].slice(SMALL.length)
  list.splice(Math.floor(list.length / 3), 0, SMALL[0])
  list.splice(Math.floor((2 * list.length) / 3), 0, SMALL[1])
  return list
}

module.exports = { SMALL, CLIENT, PEER, HEADERS, EXPECTED, largeAllowlist }
