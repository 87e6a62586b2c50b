// The package as users get it: `npm pack` of a clean copy of the project (so
// `prepack` builds dist/ from scratch), then a fresh project that requires it
// from CommonJS, imports it from ESM, and type-checks against it with
// moduleResolution node16, nodenext and bundler. The fresh project links only
// the packed package's declared dependencies, so an undeclared import fails.
// Nothing is fetched from the network.
import t from 'tap'
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, sep } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = join(__dirname, '..')
const modules = join(root, 'node_modules')

/** Runs a command; on failure the error message carries its output. */
async function sh (file: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } })
    return stdout
  } catch (error) {
    const e = error as { stdout?: string, stderr?: string, message: string }
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n${e.message}`)
  }
}

function link (name: string, into: string): void {
  const target = join(into, name)
  mkdirSync(dirname(target), { recursive: true })
  symlinkSync(join(modules, name), target, 'junction')
}

const base = mkdtempSync(join(tmpdir(), 'fastify-proxy-fix-pack-'))
t.teardown(() => rmSync(base, { recursive: true, force: true }))

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const source = join(base, 'source')
const consumer = join(base, 'consumer')
let packed: { filename: string, files: Array<{ path: string }> }
let manifest: Record<string, any>

t.before(async () => {
  // A clean checkout: what CI or a contributor has before `npm install`.
  const skip = new Set(['node_modules', '.git', '.tap', 'dist', 'coverage'])
  cpSync(root, source, { recursive: true, filter: (path) => !skip.has(relative(root, path).split(sep)[0]) })
  symlinkSync(modules, join(source, 'node_modules'), 'junction')
  packed = JSON.parse(await sh(npm, ['pack', '--json', '--pack-destination', base], source))[0]

  const installed = join(consumer, 'node_modules', 'fastify-proxy-fix')
  mkdirSync(installed, { recursive: true })
  await sh('tar', ['-xzf', join(base, packed.filename), '-C', installed, '--strip-components=1'], base)
  manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
  const own = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})])
  for (const name of [...own, 'typescript', '@types/node']) link(name, join(consumer, 'node_modules'))
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
})

t.test('the tarball holds the compiled JavaScript, declarations, README, LICENSE and package.json, nothing else', async (t) => {
  const modulesIn = readdirSync(join(source, 'lib')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3))
  const expected = [
    'LICENSE', 'README.md', 'package.json',
    ...modulesIn.flatMap((m) => [`dist/${m}.js`, `dist/${m}.d.ts`]),
    'dist/index.mjs', 'dist/index.d.mts'
  ].sort()
  t.same(packed.files.map((f) => f.path).sort(), expected)
  for (const { path } of packed.files) {
    if (!path.startsWith('dist/')) continue
    const text = readFileSync(join(consumer, 'node_modules', 'fastify-proxy-fix', path), 'utf8')
    t.notMatch(text, /sourceMappingURL/, `${path} points at no source map`)
  }
})

t.test('package.json: exports with types/import/require, MIT, engines, fastify peer range = plugin metadata', async (t) => {
  t.same(manifest.exports['.'], {
    import: { types: './dist/index.d.mts', default: './dist/index.mjs' },
    require: { types: './dist/index.d.ts', default: './dist/index.js' }
  })
  t.equal(manifest.license, 'MIT')
  t.match(readFileSync(join(consumer, 'node_modules', 'fastify-proxy-fix', 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} fastify-proxy-fix contributors/)
  t.ok(manifest.engines.node, 'engines.node is set')
  t.ok(manifest.keywords.includes('fastify'))
  // Installing the tarball runs nothing (npm 11 warns about `prepare`); packing builds.
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) {
    t.notOk(manifest.scripts?.[hook], `no ${hook} script runs when the package is installed`)
  }
  t.equal(manifest.scripts.prepack, 'npm run build', 'npm pack and npm publish build dist/ first')
  t.notOk(manifest.dependencies?.fastify, 'fastify is a peer, not a dependency')
  const meta = JSON.parse(await sh(process.execPath, ['-e',
    "process.stdout.write(JSON.stringify(require('fastify-proxy-fix')[Symbol.for('plugin-meta')]))"], consumer))
  t.equal(manifest.peerDependencies.fastify, meta.fastify, 'the peer range is the fastify-plugin range')
})

t.test('require() from CommonJS', async (t) => {
  writeFileSync(join(consumer, 'cjs.cjs'), `
const assert = require('node:assert')
const Fastify = require('fastify')
const proxyFix = require('fastify-proxy-fix')
assert.equal(proxyFix.default, proxyFix)
assert.equal(proxyFix.proxyFix, proxyFix)
assert.equal(typeof proxyFix.createResolver, 'function')
assert.equal(proxyFix.codes.INVALID_HOPS, 'FST_PROXY_FIX_INVALID_HOPS')
assert.ok(Object.isFrozen(proxyFix.codes), 'one app cannot change the codes another matches on')
assert.ok(new proxyFix.ProxyFixError('X', 'y') instanceof Error)
assert.throws(() => require('fastify-proxy-fix/dist/resolve.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' })
const app = Fastify()
app.register(proxyFix, { trustedProxies: 'loopback' })
app.get('/', async (request) => ({ ip: request.ip, originalIp: request.originalIp, hostname: request.hostname }))
app.inject({ url: '/', headers: { host: 'backend', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'shop.example' } })
  .then((response) => console.log(JSON.stringify({ from: require.resolve('fastify-proxy-fix'), body: response.json() })))
`)
  const out = JSON.parse(await sh(process.execPath, ['cjs.cjs'], consumer))
  t.equal(out.from, join(consumer, 'node_modules', 'fastify-proxy-fix', 'dist', 'index.js'))
  t.same(out.body, { ip: '203.0.113.7', originalIp: '127.0.0.1', hostname: 'shop.example' })
})

t.test('import from ESM: default, named proxyFix, createResolver, ProxyFixError and codes, one module instance with require()', async (t) => {
  writeFileSync(join(consumer, 'esm.mjs'), `
import assert from 'node:assert'
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import proxyFix, { proxyFix as named, createResolver, ProxyFixError, codes } from 'fastify-proxy-fix'
assert.equal(named, proxyFix)
assert.equal(ProxyFixError, proxyFix.ProxyFixError)
assert.equal(codes, proxyFix.codes)
const failing = Fastify()
failing.register(proxyFix, { trustedProxies: 'loopback', hops: 0 })
await assert.rejects(failing.ready(), (error) => error instanceof ProxyFixError && error.code === codes.INVALID_HOPS)
assert.equal(createRequire(import.meta.url)('fastify-proxy-fix'), proxyFix)
const app = Fastify()
await app.register(proxyFix, { trustedProxies: 'loopback' })
app.get('/', async (request) => ({ ip: request.ip, protocol: request.protocol }))
const response = await app.inject({ url: '/', headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' } })
const resolved = createResolver({ trustedProxies: 'loopback' })({ socket: { remoteAddress: '127.0.0.1' }, headers: { 'x-forwarded-for': '198.51.100.1' } })
console.log(JSON.stringify({ from: import.meta.resolve('fastify-proxy-fix'), body: response.json(), ip: resolved.ip }))
`)
  const out = JSON.parse(await sh(process.execPath, ['esm.mjs'], consumer))
  t.match(out.from, /\/node_modules\/fastify-proxy-fix\/dist\/index\.mjs$/)
  t.same(out.body, { ip: '203.0.113.7', protocol: 'https' })
  t.equal(out.ip, '198.51.100.1')
})

// What a TypeScript user writes. `@ts-expect-error` fails the check when the
// line below it compiles, so the wrong options must be errors.
const ESM_USER = `
import Fastify from 'fastify'
import proxyFix, { proxyFix as named, createResolver, type ProxyFixOptions, type ResolvedRequest } from 'fastify-proxy-fix'

const options: ProxyFixOptions = { trustedProxies: ['loopback', '10.0.0.0/8'], hops: 2, headers: { port: 'x-forwarded-port' } }
const app = Fastify()
await app.register(proxyFix, options)
await app.register(named, { trustedProxies: 'loopback', clientIpHeader: 'cf-connecting-ip' })
// @ts-expect-error hops is a number
await app.register(proxyFix, { trustedProxies: 'loopback', hops: '2' })
// @ts-expect-error onInvalid takes 'ignore' or 'reject'
await app.register(proxyFix, { trustedProxies: 'loopback', onInvalid: 'drop' })
// @ts-expect-error trustedProxies is required
export const missing: ProxyFixOptions = { hops: 1 }

app.get('/', async (request) => {
  const ip: string = request.ip
  const originalIp: string = request.originalIp
  const originalHost: string = request.originalHost
  const prefix: string = request.forwardedPrefix
  // @ts-expect-error originalIp is a string (declaration merging applies; it is not any)
  const wrong: number = request.originalIp
  return { ip, originalIp, originalHost, prefix, wrong }
})

const resolveClient = createResolver(options)
export const resolved: ResolvedRequest = resolveClient({ socket: { remoteAddress: '10.0.0.1' }, headers: {} })
export const address: string | undefined = resolved.ip
`

const CJS_USER = `
import Fastify from 'fastify'
import proxyFix = require('fastify-proxy-fix')
import type { ProxyFixOptions } from 'fastify-proxy-fix'

const options: ProxyFixOptions = { trustedProxies: 'loopback' }
const app = Fastify()
app.register(proxyFix, options)
app.register(proxyFix.default, options)
app.register(proxyFix.proxyFix, options)
// @ts-expect-error a header option is a name or false
app.register(proxyFix, { trustedProxies: 'loopback', headers: { for: true } })
app.get('/', async (request) => {
  const originalIp: string = request.originalIp
  // @ts-expect-error originalIp is a string
  const wrong: number = request.originalIp
  return { originalIp, wrong }
})
export const resolver: proxyFix.ProxyResolver = proxyFix.createResolver(options)
`

function tsconfig (compilerOptions: Record<string, unknown>, files: string[]): string {
  return JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'ES2022', types: ['node'], ...compilerOptions },
    files
  })
}

t.test('TypeScript: moduleResolution node16, nodenext and bundler, from ESM and CommonJS', async (t) => {
  writeFileSync(join(consumer, 'user-esm.mts'), ESM_USER)
  writeFileSync(join(consumer, 'user-cjs.cts'), CJS_USER)
  writeFileSync(join(consumer, 'user-bundler.ts'), ESM_USER + '\nimport cjs = require(\'fastify-proxy-fix\')\nexport const same: typeof proxyFix = cjs\n')
  writeFileSync(join(consumer, 'tsconfig.node16.json'), tsconfig({ module: 'node16', moduleResolution: 'node16' }, ['user-esm.mts', 'user-cjs.cts']))
  writeFileSync(join(consumer, 'tsconfig.nodenext.json'), tsconfig({ module: 'nodenext', moduleResolution: 'nodenext' }, ['user-esm.mts', 'user-cjs.cts']))
  writeFileSync(join(consumer, 'tsconfig.bundler.json'), tsconfig({ module: 'preserve', moduleResolution: 'bundler' }, ['user-bundler.ts']))
  const tsc = join(consumer, 'node_modules', 'typescript', 'bin', 'tsc')
  // node16 also checks the package's declaration files themselves and traces
  // which of them each import resolves to; the other two modes only need the
  // user's view (skipLibCheck halves their time).
  const runs = [
    ['node16', '--traceResolution', '--skipLibCheck', 'false'],
    ['nodenext', '--skipLibCheck', 'true'],
    ['bundler', '--skipLibCheck', 'true']
  ]
  const results = await Promise.allSettled(runs.map(([mode, ...flags]) =>
    sh(process.execPath, [tsc, '-p', `tsconfig.${mode}.json`, ...flags], consumer)))
  results.forEach((result, i) => {
    t.equal(result.status, 'fulfilled', `${runs[i][0]}: ${result.status === 'rejected' ? String(result.reason).slice(0, 4000) : 'type-checks'}`)
  })
  // Each entry point brings its own declarations: ESM the .d.mts, CommonJS the .d.ts.
  const traced = results[0].status === 'fulfilled' ? results[0].value : ''
  t.match(traced, /Module name 'fastify-proxy-fix' was successfully resolved to '[^']*node_modules\/fastify-proxy-fix\/dist\/index\.d\.mts'/)
  t.match(traced, /Module name 'fastify-proxy-fix' was successfully resolved to '[^']*node_modules\/fastify-proxy-fix\/dist\/index\.d\.ts'/)
})
