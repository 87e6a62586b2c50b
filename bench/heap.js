'use strict'

// Memory: does the heap grow under load? A server (bench/server.js, its own
// process, --expose-gc) takes a warm-up, then BENCH_HEAP_DURATION seconds
// (60) of autocannon with the benchmark request. Every BENCH_HEAP_EVERY
// seconds (10) the server runs a full GC and reports its heap; the first
// and last figures are compared. Writes bench/results-heap.json.
//
//   npm run bench:heap
//   BENCH_HEAP_SERVERS (default bare,plugin,plugin-10k: bare Fastify is the control)

const { fork } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const autocannon = require('autocannon')
const { HEADERS } = require('./allowlist')

const DURATION = Number(process.env.BENCH_HEAP_DURATION ?? 60)
const EVERY = Number(process.env.BENCH_HEAP_EVERY ?? 10)
const SERVERS = (process.env.BENCH_HEAP_SERVERS ?? 'bare,plugin,plugin-10k').split(',')

function start (variant) {
  const child = fork(path.join(__dirname, 'server.js'), [variant], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('message', (message) => resolve({ child, port: message.port }))
  })
}

function heapAfterGC (server) {
  return new Promise((resolve) => {
    server.child.once('message', (message) => resolve(message.memory.heapUsed))
    server.child.send('gc')
  })
}

const load = (port, duration) => autocannon({ url: `http://127.0.0.1:${port}/`, headers: HEADERS, connections: 100, pipelining: 10, duration })

const mb = (bytes) => (bytes / 1048576).toFixed(2)

async function measure (variant) {
  const server = await start(variant)
  try {
    await load(server.port, 5) // warm-up: JIT, pools, caches
    const samples = [{ second: 0, heapUsed: await heapAfterGC(server) }]
    let requests = 0
    for (let second = EVERY; second <= DURATION; second += EVERY) {
      const result = await load(server.port, EVERY)
      if (result.errors || result.non2xx) throw new Error(`${variant}: ${result.errors} errors, ${result.non2xx} non-2xx`)
      requests += result['2xx']
      samples.push({ second, heapUsed: await heapAfterGC(server) })
      process.stderr.write(`${variant} ${second}s: ${mb(samples.at(-1).heapUsed)} MB after GC\n`)
    }
    const growth = samples.at(-1).heapUsed - samples[0].heapUsed
    return { variant, requests, samples, growthBytes: growth, growthBytesPer1kRequests: Number((growth / requests * 1000).toFixed(2)) }
  } finally {
    server.child.kill()
  }
}

async function main () {
  const results = []
  for (const variant of SERVERS) results.push(await measure(variant))
  console.log(`\nheap after a full GC, before and after ${DURATION} s of autocannon -c 100 -p 10\n`)
  console.log('| server | requests | heap before | heap after | growth |')
  console.log('|---|---:|---:|---:|---:|')
  for (const r of results) {
    console.log(`| ${r.variant} | ${r.requests.toLocaleString('en-US')} | ${mb(r.samples[0].heapUsed)} MB | ${mb(r.samples.at(-1).heapUsed)} MB | ${(r.growthBytes / 1024).toFixed(1)} KB |`)
  }
  fs.writeFileSync(path.join(__dirname, 'results-heap.json'), JSON.stringify({ date: new Date().toISOString(), duration: DURATION, results }, null, 2) + '\n')
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
