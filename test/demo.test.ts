// The README's first command: the demo must show the plugin doing its job.
import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

t.test('npm run demo: trusted chain, spoofed entry, malformed host, direct client', async (t) => {
  t.ok(existsSync(join(__dirname, '..', 'dist', 'index.js')), 'dist/ is built (npm test builds before tap)')
  const demo = require('../examples/demo.js')
  const seen = await demo()
  t.same(seen, [
    { ip: '127.0.0.5', originalIp: '127.0.0.2', hostname: 'shop.example', protocol: 'https' },
    { ip: '127.0.0.5', originalIp: '127.0.0.2', hostname: 'shop.example', protocol: 'https' },
    { ip: '127.0.0.6', originalIp: '127.0.0.2', hostname: 'shop.example', protocol: 'https' },
    { ip: '127.0.0.9', originalIp: '127.0.0.9', hostname: 'shop.example', protocol: 'http' }
  ])
})
