'use strict'

// Paired timing: a subject and its yardstick, batch by batch in the same
// process, one right after the other (CPU time per batch, in µs, over
// batches of a few milliseconds). A shared machine's speed swings from
// minute to minute; a ratio of two batches timed a few milliseconds apart
// does not. The figure is the median over rounds of the per-round ratio.

/** Every result lands here, so that no loop is optimised away. */
let sink = null

function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Nanoseconds of CPU time for `iterations` calls of `op`: CPU time, not
 *  wall time, so that a batch during which another process had the core is
 *  not longer for it (on a loaded 2-core machine, many are). */
function batch (op, iterations) {
  const start = process.cpuUsage()
  for (let i = 0; i < iterations; i++) sink = op()
  const used = process.cpuUsage(start)
  return (used.user + used.system) * 1000
}

/** Calls `op` for about `ms` milliseconds, so that it is optimised before anything is timed. */
function warmUp (op, ms) {
  const end = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6))
  let iterations = 1
  while (process.hrtime.bigint() < end) {
    batch(op, iterations)
    if (iterations < 4096) iterations *= 2
  }
}

/** How many calls of `op` take about `ms` milliseconds (the fastest of a few tries). */
function calibrate (op, ms) {
  let iterations = 1
  while (true) {
    const ns = Math.max(1000, Math.min(batch(op, iterations), batch(op, iterations), batch(op, iterations)))
    if (ns >= ms * 1e6 / 8 || iterations >= 2 ** 30) return Math.max(1, Math.round(iterations * ms * 1e6 / ns))
    iterations *= 2
  }
}

/**
 * Times `subject` and `yardstick` alternately, `rounds` times (which goes
 * first alternates too). Returns the median of the per-round ratios
 * (subject's time per call / yardstick's) and each one's median time per
 * call in ns. A yardstick that makes `per` calls of what it measures (to
 * keep the cost of calling it out of a cheap one) counts as `per` calls.
 */
function paired (subject, yardstick, { rounds = 31, batchMs = 2, warmUpMs = 150, per = 1 } = {}) {
  warmUp(subject, warmUpMs)
  warmUp(yardstick, warmUpMs / 3)
  const n = calibrate(subject, batchMs)
  const m = calibrate(yardstick, batchMs)
  const ratios = []
  const subjectNs = []
  const yardstickNs = []
  for (let r = 0; r < rounds; r++) {
    let a, b
    if (r & 1) {
      b = batch(yardstick, m) / m / per
      a = batch(subject, n) / n
    } else {
      a = batch(subject, n) / n
      b = batch(yardstick, m) / m / per
    }
    ratios.push(a / b)
    subjectNs.push(a)
    yardstickNs.push(b)
  }
  return {
    ratio: median(ratios),
    subjectNs: median(subjectNs),
    yardstickNs: median(yardstickNs),
    spread: [Math.min(...ratios), Math.max(...ratios)]
  }
}

/** Keeps `sink` observable. */
process.on('exit', () => { if (sink === Symbol.for('never')) console.log('') })

module.exports = { median, paired }
