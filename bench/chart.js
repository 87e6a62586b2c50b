'use strict'

// A dependency-free SVG bar chart of a bench/results.json: requests per
// second end to end, and the core's cost of one request.

const WIDTH = 760
const BAR = 22
const GAP = 10
const LABEL = 270
const PLOT = WIDTH - LABEL - 150

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** One panel of horizontal bars; returns its SVG and height. */
function panel (title, bars, y, format) {
  const max = Math.max(...bars.map((b) => b.value))
  let svg = `<text x="10" y="${y + 16}" class="title">${escape(title)}</text>\n`
  let at = y + 30
  for (const bar of bars) {
    const width = Math.max(1, Math.round((bar.value / max) * PLOT))
    svg += `<text x="${LABEL - 8}" y="${at + 16}" class="label" text-anchor="end">${escape(bar.label)}</text>\n`
    svg += `<rect x="${LABEL}" y="${at}" width="${width}" height="${BAR}" class="${bar.ours ? 'ours' : 'other'}"/>\n`
    svg += `<text x="${LABEL + width + 6}" y="${at + 16}" class="value">${escape(format(bar))}</text>\n`
    at += BAR + GAP
  }
  return { svg, height: at - y }
}

function chart (results) {
  let body = ''
  let y = 10
  const e2e = results.e2e?.variants
  if (e2e) {
    const bars = Object.entries(e2e).map(([id, v]) => ({
      label: v.label, value: v.median, ours: id.startsWith('plugin'), ratio: v.vsBare
    }))
    const part = panel('End to end: requests per second (median, higher is better)', bars, y,
      (b) => `${b.value.toLocaleString('en-US')}  (${b.ratio.toFixed(2)}× bare)`)
    body += part.svg
    y += part.height + 10
  }
  const core = results.core
  if (core) {
    const bars = [
      { label: 'resolve(), 2 entries', value: core['resolve-2'].ns, ours: true },
      { label: 'resolve(), 10,000 entries', value: core['resolve-10k'].ns, ours: true },
      { label: 'proxy-addr all(), 2 entries', value: core['proxyaddr-2'].ns, ours: false }
    ]
    const part = panel('Core: one request, ns (median, lower is better)', bars, y, (b) => `${Math.round(b.value)} ns`)
    body += part.svg
    y += part.height
    const far = core['proxyaddr-10k'].ns
    body += `<text x="${LABEL}" y="${y + 4}" class="note">proxy-addr all() with 10,000 entries: ${escape((far / 1000).toFixed(0))} µs (off the scale)</text>\n`
    y += 20
  }
  const footer = results.machine ? `${results.machine.node}, ${results.machine.cpu}, ${results.date.slice(0, 10)}` : ''
  body += `<text x="10" y="${y + 12}" class="note">${escape(footer)}</text>\n`
  y += 22
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="system-ui, sans-serif">
<style>
.title { font-size: 15px; font-weight: 600; fill: #222; }
.label { font-size: 13px; fill: #333; }
.value { font-size: 12px; fill: #333; }
.note { font-size: 11px; fill: #666; }
.ours { fill: #2b7bb9; }
.other { fill: #9aa5b1; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
${body}</svg>
`
}

module.exports = { chart }
