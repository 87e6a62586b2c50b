/**
 * Micro-benchmark: parseForwarded against the forwarded-parse package.
 *
 *   node -r ./node_modules/@isaacs/ts-node-temp-fork-for-pr-2009/register/transpile-only bench/forwarded.ts
 *
 * Each case is first checked to give the same answer from both parsers, then
 * warmed up, then timed in ROUNDS rounds of its iteration count with
 * process.hrtime.bigint(); the median ns/op is reported. Set BENCH_SCALE
 * (e.g. 0.1) to shorten a run.
 */
import { deepStrictEqual } from 'node:assert'
import parse from 'forwarded-parse'
import { parseForwarded } from '../lib/forwarded'

const ROUNDS = 7
const SCALE = Number(process.env.BENCH_SCALE ?? 1)

interface Case { name: string, header: string, iterations: number }

const chain = Array.from({ length: 50 }, (_, k) =>
  k % 5 === 4 ? `for="[2001:db8::${k.toString(16)}]:${4000 + k}";proto=https` : `for=198.51.100.${k};by=_proxy${k}`
).join(', ')

const cases: Case[] = [
  { name: 'single element', header: 'for=192.0.2.60;proto=https;host=example.com', iterations: 1e6 },
  {
    name: '3 elements, quoted IPv6',
    header: 'for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https, for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com',
    iterations: 1e6
  },
  { name: '50 elements', header: chain, iterations: 1e5 }
]

type Parser = (header: string) => unknown

const parsers: Array<[string, Parser]> = [
  ['parseForwarded', parseForwarded],
  ['forwarded-parse', parse]
]

let sink = 0 // keeps results observable so the loop is not optimised away

function round (fn: Parser, header: string, iterations: number): number {
  const start = process.hrtime.bigint()
  for (let n = 0; n < iterations; n++) {
    const result = fn(header) as unknown[]
    sink += result.length
  }
  return Number(process.hrtime.bigint() - start) / iterations
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1]
}

console.log(`node ${process.version}, ${ROUNDS} rounds, median ns/op`)
for (const { name, header, iterations } of cases) {
  const count = Math.max(1, Math.round(iterations * SCALE))
  deepStrictEqual(parseForwarded(header), parse(header)) // same answer first
  const results: string[] = []
  for (const [label, fn] of parsers) {
    round(fn, header, Math.max(1, count >> 2)) // warm-up
    const times: number[] = []
    for (let r = 0; r < ROUNDS; r++) times.push(round(fn, header, count))
    results.push(`${label} ${median(times).toFixed(1)} ns`)
  }
  console.log(`${name} (${header.length} chars, ${count} iterations): ${results.join(' | ')}`)
}
if (sink === 0) console.log('unreachable')
