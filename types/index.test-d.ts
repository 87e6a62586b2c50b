import Fastify, { type FastifyRequest } from 'fastify'
import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import proxyFix, { ProxyFixError, codes, createResolver, type ProxyFixOptions, type ProxyHeader, type TrustFunction } from '..'
import cjs = require('..')

const app = Fastify()

// Every form of the allowlist.
app.register(proxyFix, { trustedProxies: 'loopback' })
app.register(proxyFix, { trustedProxies: 'loopback, 10.0.0.0/8' })
app.register(proxyFix, { trustedProxies: ['loopback', '2001:db8::/32'] })
app.register(proxyFix, { trustedProxies: (address: string, hop: number) => address === '10.0.0.1' && hop < 2 })
app.register(proxyFix, {
  trustedProxies: ['10.0.0.0/8'],
  hops: 2,
  headers: { for: 'x-forwarded-for', host: false, proto: 'x-forwarded-proto', port: 'x-forwarded-port', prefix: false },
  onInvalid: 'reject'
})
app.register(proxyFix, { trustedProxies: 'loopback', forwarded: true })
app.register(proxyFix, { trustedProxies: 'loopback', clientIpHeader: 'cf-connecting-ip' })
app.register(proxyFix, { trustedProxies: 'loopback', proxyProtocol: true, proxyProtocolTimeout: 5000 })
app.register(proxyFix, { trustedProxies: 'loopback', proxyProtocol: 'optional' })
app.register(proxyFix, { trustedProxies: 'loopback', proxyProtocol: false })

// The CommonJS shape: the plugin itself, `.default` and `.proxyFix`.
expectType<typeof proxyFix>(cjs)
expectType<typeof proxyFix>(cjs.default)
expectType<typeof proxyFix>(cjs.proxyFix)
app.register(cjs.proxyFix, { trustedProxies: 'loopback' })

// Options are checked.
expectError(app.register(proxyFix, {}))
expectError(app.register(proxyFix, { trustedProxies: 42 }))
expectError(app.register(proxyFix, { trustedProxies: 'loopback', hops: '2' }))
expectError(app.register(proxyFix, { trustedProxies: 'loopback', headers: { for: true } }))
expectError(app.register(proxyFix, { trustedProxies: 'loopback', headers: { host: 1 } }))
expectError(app.register(proxyFix, { trustedProxies: 'loopback', onInvalid: 'drop' }))
expectError(app.register(proxyFix, { trustedProxies: 'loopback', forwarded: 'yes' }))
expectError(app.register(proxyFix, { trustedProxies: 'loopback', clientIpHeader: false }))
expectError(app.register(proxyFix, { trustedProxies: (address: number) => true }))
expectError(app.register(proxyFix, { trustedProxies: async (address: string) => true }))
expectError(app.register(proxyFix, { trustedProxies: 'loopback', proxyProtocol: 'v2' }))
expectError(app.register(proxyFix, { trustedProxies: 'loopback', proxyProtocol: 1 }))
expectError(app.register(proxyFix, { trustedProxies: 'loopback', proxyProtocolTimeout: '10s' }))

expectAssignable<ProxyFixOptions>({ trustedProxies: 'loopback' })
expectNotAssignable<ProxyFixOptions>({ hops: 1 })
expectAssignable<TrustFunction>((address: string, hop: number) => hop === 0)

// The decorations, through declaration merging.
app.get('/', async (request) => {
  expectType<string>(request.ip)
  expectType<string>(request.originalIp)
  expectType<string>(request.originalHost)
  expectType<string>(request.forwardedPrefix)
  expectType<string>(request.hostname)
  expectType<'http' | 'https'>(request.protocol)
  expectType<ProxyHeader | null>(request.proxyProtocol)
  const header = request.proxyProtocol
  if (header !== null) {
    expectType<1 | 2>(header.version)
    expectType<'proxy' | 'local'>(header.command)
    expectType<string | undefined>(header.source?.address)
    expectType<number | undefined>(header.destination?.port)
    expectType<boolean>(header.ssl)
    // An AWS VPC endpoint id: TLV 0xEA, whose value starts with the subtype 0x01.
    const vpce = header.tlvs.find((tlv) => tlv.type === 0xea)
    expectType<Buffer | undefined>(vpce?.value)
    expectError(header.tlvs.push({ type: 1, value: Buffer.alloc(0) }))
  }
  return 'ok'
})
expectType<string>(({} as FastifyRequest).originalIp)

// Errors an app can tell apart without copying strings.
expectType<'FST_PROXY_FIX_INVALID_HOPS'>(codes.INVALID_HOPS)
expectType<typeof ProxyFixError>(cjs.ProxyFixError)
expectType<typeof codes>(cjs.codes)
const caught: unknown = new Error('x')
if (caught instanceof ProxyFixError) {
  expectType<string>(caught.code)
  expectType<string>(caught.message)
}

// The framework-free resolver.
const resolveRequest = createResolver({ trustedProxies: 'loopback' })
const resolved = resolveRequest({ socket: { remoteAddress: '127.0.0.1' }, headers: { 'x-forwarded-for': '203.0.113.7' } })
expectType<string | undefined>(resolved.ip)
expectType<string[]>(resolved.ips)
expectType<'http' | 'https'>(resolved.protocol)
expectType<number | null>(resolved.port)
expectType<{ header: string, value: string } | null>(resolved.invalid)
expectType<ProxyHeader | null>(resolved.proxyProtocol)
