'use strict'

// Two builds of the library side by side, in one process: the normal
// request (the one's time over the other's, paired), then every hostile
// shape and forged chain of bench/hostile.js as each build's multiple of
// the same yardstick (a sticky-regex pass, `net.isIP('10.0.0.1')` per
// entry), each build paired with it in turn. For a change to the core: how
// far it moved each figure, measured in the same minutes.
//
//   node bench/compare.js OTHER_DIST [--long]     prints a Markdown table
//
// OTHER_DIST is another build's dist/ (`git worktree add ../old <commit>`,
// then `npm ci && npm run build` there; any build whose options.js and
// resolve.js export `normalizeOptions` and `resolve(config, peer, headers)`).
// This build is BENCH_LIB or dist/.

const path = require('node:path')
const { LIB, SMALL, PEER, HEADERS, SHAPES, CHAINS } = require('./inputs')
const { paired } = require('./timing')
const { regexPass, isIPs, ISIP_PER } = require('./hostile')

function load (dir) {
  const { normalizeOptions } = require(path.join(dir, 'options.js'))
  const { resolve } = require(path.join(dir, 'resolve.js'))
  return { normalizeOptions, resolve }
}

function run (other, { long = false } = {}) {
  const settings = long ? { rounds: 61, warmUpMs: 300 } : { rounds: 25, warmUpMs: 120 }
  const builds = [['other', load(other)], ['this', load(LIB)]]
  const [theirs, ours] = builds.map(([, build]) => {
    const config = build.normalizeOptions({ trustedProxies: SMALL })
    return () => build.resolve(config, PEER, HEADERS)
  })
  const normal = paired(ours, theirs, { ...settings, rounds: settings.rounds * 2 })

  const rows = []
  const measure = (name, make, yardstick, per = 1, entries = 1) => {
    const row = { name }
    for (const [key, build] of builds) row[key] = paired(make(build), yardstick, { ...settings, per }).ratio / entries
    rows.push(row)
  }
  for (const shape of SHAPES) {
    const headers = { [shape.header]: shape.value }
    measure(`${shape.header}: ${shape.name}`, (build) => {
      const config = build.normalizeOptions({ trustedProxies: SMALL, ...shape.options })
      return () => build.resolve(config, PEER, headers)
    }, regexPass(shape.value))
  }
  for (const chain of CHAINS) {
    const headers = { [chain.header]: chain.value }
    measure(`forged chain, ${chain.name} (\`net.isIP\` per entry)`, (build) => {
      const config = build.normalizeOptions(chain.options)
      return () => build.resolve(config, chain.peer, headers)
    }, isIPs, ISIP_PER, chain.count)
  }
  return { normal, rows }
}

if (require.main === module) {
  const other = process.argv[2]
  if (other === undefined || other.startsWith('--')) {
    process.stderr.write('usage: node bench/compare.js OTHER_DIST [--long]\n')
    process.exit(2)
  }
  const { normal, rows } = run(path.resolve(other), { long: process.argv.includes('--long') })
  const lines = [
    `this build: ${LIB}; the other: ${path.resolve(other)}; node ${process.version}`,
    '',
    `The normal request: this build ${normal.subjectNs.toFixed(0)} ns, the other ${normal.yardstickNs.toFixed(0)} ns (${normal.ratio.toFixed(2)}×, paired)`,
    '',
    '| shape (sticky-regex passes) or chain (`net.isIP` per entry) | the other | this build |',
    '|---|---:|---:|',
    ...rows.map((row) => `| ${row.name} | ${row.other.toFixed(2)} | ${row.this.toFixed(2)} |`)
  ]
  process.stdout.write(lines.join('\n') + '\n')
}

module.exports = { run }
