'use strict'
// Coverage is measured on the library only (examples, benches and test
// helpers are exercised but not held to 100%).
const { readdirSync } = require('node:fs')
const { join } = require('node:path')

const sources = readdirSync(join(__dirname, '..', 'lib'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => `lib/${f}`)

module.exports = () => sources
