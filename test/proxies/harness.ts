// Real nginx, HAProxy and Caddy in front of a real Fastify app, on loopback.
// (nginx also as a TCP balancer with its stream module, and curl as a client.)
//
// Each proxy gets a temp folder, its recipe from examples/recipes/ with the
// {{PLACEHOLDERS}} filled in, a wrapper config with the process-level settings
// (pid, logs, temp paths, source address), and runs in the foreground as a
// child of the test. It is ready when its ports accept connections, and is
// killed in the test's teardown whatever happened.

import { spawn, execFile, type ChildProcess } from 'node:child_process'
import cluster, { type Worker } from 'node:cluster'
import {
  accessSync, chmodSync, closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync,
  rmSync, writeFileSync
} from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import tls from 'node:tls'
import { promisify } from 'node:util'
import { buildApp, type Profiles, type Seen } from './app'

export type { Profiles, Seen, SeenProxyHeader } from './app'

/** The parts of a tap test the harness uses. */
export interface TestLike {
  teardown (fn: () => unknown): void
  comment (...message: unknown[]): void
  pass (message: string): boolean
  fail (message: string): boolean
}

export const RECIPES = resolve(__dirname, '..', '..', 'examples', 'recipes')

/** Client addresses: never 127.0.0.1, which is where Caddy connects from. */
export const CLIENT_A = '127.0.0.5'
export const CLIENT_B = '127.0.0.6'
/** The host name the clients ask for (the certificate is made for it). */
export const SITE = 'shop.example.test'

const STARTUP_TIMEOUT = 15_000
const STOP_TIMEOUT = 5_000
const POLL_INTERVAL = 20

type Binary = 'nginx' | 'haproxy' | 'caddy' | 'openssl' | 'curl'
/** A binary, or nginx's stream module (Debian's libnginx-mod-stream). */
type Requirement = Binary | 'nginx-stream'

/** Where Debian's libnginx-mod-stream puts the module. */
export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so'

// ----------------------------------------------------------------------------
// Finding the binaries

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin']

/** The binary's path, also looking in the sbin folders a non-root PATH lacks. */
export function findBinary (name: Binary): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean).concat(SBIN)
  for (const dir of dirs) {
    const file = join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {}
  }
  return null
}

function inCI (): boolean {
  const ci = process.env.CI
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false'
}

/**
 * True when every binary is installed. Otherwise the test fails, loudly,
 * unless PROXY_FIX_SKIP_REAL_PROXIES=1 outside CI: then it passes with a note
 * saying that the real proxies were skipped. The caller returns when false.
 */
export function haveBinaries (t: TestLike, names: Requirement[]): boolean {
  const missing = names.filter((name) => {
    if (name !== 'nginx-stream') return findBinary(name) === null
    try {
      accessSync(NGINX_STREAM_MODULE, constants.R_OK)
      return false
    } catch {
      return true
    }
  }).map((name) => name === 'nginx-stream' ? `nginx's stream module (${NGINX_STREAM_MODULE})` : name)
  if (missing.length === 0) return true
  const what = `${missing.join(', ')} not installed`
  if (!inCI() && process.env.PROXY_FIX_SKIP_REAL_PROXIES === '1') {
    t.pass(`real proxies skipped by PROXY_FIX_SKIP_REAL_PROXIES=1 (${what})`)
    return false
  }
  t.fail(`${what}: these tests run the real proxies. Install them ` +
    '(apt-get install -y nginx libnginx-mod-stream haproxy caddy openssl curl), or set ' +
    'PROXY_FIX_SKIP_REAL_PROXIES=1 to skip them outside CI')
  return false
}

// ----------------------------------------------------------------------------
// Temp folders, ports, certificates, templates

export function tempDir (t: TestLike, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fastify-proxy-fix-${name}-`))
  // nginx workers drop to an unprivileged user; let them look inside.
  chmodSync(dir, 0o755)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * `count` distinct ports that are free on `host` now. Each test file uses its
 * own addresses (127.0.N.x), so the only process that could take one before
 * the proxy binds it is one outside this suite listening on all addresses.
 */
export async function freePorts (host: string, count: number): Promise<number[]> {
  const servers: net.Server[] = []
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({ host, port: 0, exclusive: true }, resolve)
      })
    }
    return servers.map((server) => (server.address() as net.AddressInfo).port)
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  }
}

export interface Certificate {
  cert: string
  key: string
  /** Certificate and key in one file, as HAProxy's `crt` wants them. */
  both: string
  /** The certificate's PEM text, for a client's `ca`. */
  pem: string
}

/** A self-signed certificate for SITE, made by openssl now. */
export async function makeCertificate (dir: string): Promise<Certificate> {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  const both = join(dir, 'cert-and-key.pem')
  await promisify(execFile)(findBinary('openssl') ?? 'openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', `/CN=${SITE}`, '-addext', `subjectAltName=DNS:${SITE}`
  ])
  const pem = readFileSync(cert, 'utf8')
  writeFileSync(both, pem + readFileSync(key, 'utf8'))
  return { cert, key, both, pem }
}

/** A recipe from examples/recipes/ with every {{NAME}} replaced. */
export function renderRecipe (recipe: string, vars: Record<string, string | number>): string {
  const text = readFileSync(join(RECIPES, recipe), 'utf8')
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (placeholder, name: string) => {
    const value = vars[name]
    if (value === undefined) throw new Error(`${recipe}: no value for ${placeholder}`)
    return String(value)
  })
}

// ----------------------------------------------------------------------------
// Running a proxy

export interface Listener { host: string, port: number }

export interface Proxy {
  name: string
  dir: string
  /** Everything the proxy logged so far. */
  log (): string
}

interface ProcessSpec {
  name: string
  dir: string
  command: string
  args: string[]
  env?: NodeJS.ProcessEnv
  /** Log files the proxy writes itself, besides its stdout and stderr. */
  logFiles?: string[]
  listeners: Listener[]
}

const running = new Set<ChildProcess>()
// Last resort if the test process dies without running its teardowns.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

function readLog (file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

async function canConnect ({ host, port }: Listener): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = net.connect({ host, port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}

/** `0A00007F:1F90`: how /proc/net/tcp writes 127.0.0.10:8080 on a little-endian host. */
function procAddress ({ host, port }: Listener): string {
  const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0')
  return host.split('.').reverse().map((octet) => hex(Number(octet), 2)).join('') + ':' + hex(port, 4)
}

/**
 * Who listens on an IPv4 address and port: the child (or a process it
 * started: nginx's master), another process, nobody yet; 'unknown' without
 * Linux's /proc. A successful connect alone could be some other server that
 * took the port, and the test would then talk to the wrong thing.
 */
function listenerOwner (pid: number, listener: Listener): 'child' | 'other' | 'none' | 'unknown' {
  let table: string
  try {
    table = readFileSync('/proc/net/tcp', 'utf8')
  } catch {
    return 'unknown'
  }
  const local = procAddress(listener)
  const inodes = new Set<string>()
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    // local_address, rem_address, st (0A = LISTEN) … inode
    if (fields[1] === local && fields[3] === '0A') inodes.add(`socket:[${fields[9]}]`)
  }
  if (inodes.size === 0) return 'none'
  let fds: string[]
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    return 'unknown'
  }
  for (const fd of fds) {
    try {
      if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return 'child'
    } catch {}
  }
  return 'other'
}

/** Whether the child listens there now; throws when another process does. */
async function isListening (child: ChildProcess, listener: Listener): Promise<boolean> {
  const owner = net.isIPv4(listener.host) ? listenerOwner(child.pid as number, listener) : 'unknown'
  if (owner === 'other') throw new Error(`another process listens on ${listener.host}:${listener.port}`)
  if (owner === 'unknown') return await canConnect(listener)
  return owner === 'child'
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT)
  await exited
  clearTimeout(timer)
}

async function startProcess (t: TestLike, spec: ProcessSpec): Promise<Proxy> {
  const output = join(spec.dir, 'output.log')
  const out = openSync(output, 'w')
  const child = spawn(spec.command, spec.args, {
    cwd: spec.dir,
    env: spec.env ?? process.env,
    stdio: ['ignore', out, out]
  })
  closeSync(out)
  running.add(child)
  child.once('exit', () => running.delete(child))
  t.teardown(() => stop(child))

  const files = [output, ...(spec.logFiles ?? [])]
  const log = (): string => files.map((file) => {
    const text = readLog(file).trimEnd()
    return text === '' ? '' : `--- ${file}\n${text}\n`
  }).join('')
  const proxy: Proxy = { name: spec.name, dir: spec.dir, log }

  let failure: Error | null = null
  child.once('error', (error) => { failure = error })
  const deadline = Date.now() + STARTUP_TIMEOUT
  const pending = [...spec.listeners]
  while (pending.length > 0) {
    if (failure === null && (child.exitCode !== null || child.signalCode !== null)) {
      failure = new Error(`exited with ${child.exitCode ?? child.signalCode} before listening`)
    }
    if (failure === null && Date.now() > deadline) {
      failure = new Error(`not listening on ${pending.map((l) => `${l.host}:${l.port}`).join(', ')} after ${STARTUP_TIMEOUT} ms`)
    }
    if (failure === null && child.pid !== undefined) {
      try {
        if (await isListening(child, pending[0])) {
          pending.shift()
          continue
        }
      } catch (error) {
        failure = error as Error
      }
    }
    if (failure !== null) {
      const reason = `${spec.name} failed to start: ${(failure as Error).message}`
      t.comment(`${reason}\n${spec.command} ${spec.args.join(' ')}\n${log() || '(it logged nothing)\n'}`)
      throw new Error(`${reason} (its log is above)`)
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL))
  }
  return proxy
}

// ----------------------------------------------------------------------------
// The three proxies

export interface ProxyOptions {
  /** The file under examples/recipes/ (more than one for HAProxy is allowed). */
  recipe: string
  /** Values for the recipe's {{PLACEHOLDERS}}: `LISTEN_*` ones (`host:port`,
   *  `[v6]:port`) are where the test polls for readiness. */
  vars: Record<string, string | number>
}

/** The `LISTEN_*` addresses of a recipe's values. */
function listenersOf (vars: ProxyOptions['vars']): Listener[] {
  return Object.entries(vars).filter(([name]) => name.startsWith('LISTEN_')).map(([, value]) => {
    const text = String(value)
    const colon = text.lastIndexOf(':')
    return { host: text.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(text.slice(colon + 1)) }
  })
}

export interface NginxOptions extends ProxyOptions {
  /** The source address towards the next hop (`proxy_bind`). */
  bind: string
  /** The recipe is a TCP `server` block for the stream module: it goes in
   *  `stream {}` (with the module loaded), not in `http {}`. */
  stream?: boolean
}

export async function startNginx (t: TestLike, options: NginxOptions): Promise<Proxy> {
  const dir = tempDir(t, 'nginx')
  const site = join(dir, 'site.conf')
  writeFileSync(site, renderRecipe(options.recipe, options.vars))
  const errorLog = join(dir, 'error.log')
  const temp = (name: string): string => `${name}_temp_path ${join(dir, name)};`
  const block = options.stream === true
    ? ['stream {']
    : ['http {', '  access_log off;', `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`]
  writeFileSync(join(dir, 'nginx.conf'), [
    ...(options.stream === true ? [`load_module ${NGINX_STREAM_MODULE};`] : []),
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${errorLog} notice;`,
    'worker_processes 1;',
    'events { worker_connections 256; }',
    ...block,
    `  proxy_bind ${options.bind};`,
    `  include ${site};`,
    '}',
    ''
  ].join('\n'))
  return await startProcess(t, {
    name: `nginx (${options.recipe})`,
    dir,
    command: findBinary('nginx') ?? 'nginx',
    // -e: the error log before the config is read (else /var/log/nginx).
    args: ['-p', dir, '-e', errorLog, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    logFiles: [errorLog],
    listeners: listenersOf(options.vars)
  })
}

export interface HaproxyOptions extends ProxyOptions {
  /** The source address towards the next hop (`source`). */
  source: string
}

export async function startHaproxy (t: TestLike, options: HaproxyOptions): Promise<Proxy> {
  const dir = tempDir(t, 'haproxy')
  const global = join(dir, 'global.cfg')
  const recipe = join(dir, 'recipe.cfg')
  writeFileSync(global, [
    'global',
    '    maxconn 256',
    '',
    'defaults',
    '    mode http',
    '    timeout connect 5s',
    '    timeout client 30s',
    '    timeout server 30s',
    `    source ${options.source}`,
    ''
  ].join('\n'))
  writeFileSync(recipe, renderRecipe(options.recipe, options.vars))
  return await startProcess(t, {
    name: `haproxy (${options.recipe})`,
    dir,
    command: findBinary('haproxy') ?? 'haproxy',
    // -db: foreground, logs on stderr.
    args: ['-db', '-f', global, '-f', recipe],
    listeners: listenersOf(options.vars)
  })
}

export interface CaddyOptions extends ProxyOptions {
  /** The address Caddy listens on (`default_bind`). Caddy 2.6 cannot choose its source address. */
  bind: string
}

export async function startCaddy (t: TestLike, options: CaddyOptions): Promise<Proxy> {
  const dir = tempDir(t, 'caddy')
  const recipe = join(dir, 'recipe.Caddyfile')
  writeFileSync(recipe, renderRecipe(options.recipe, options.vars))
  writeFileSync(join(dir, 'Caddyfile'), [
    '{',
    '\tadmin off',
    '\tauto_https disable_redirects',
    '\tskip_install_trust',
    `\tstorage file_system ${join(dir, 'data')}`,
    `\tdefault_bind ${options.bind}`,
    '\tservers {',
    '\t\tprotocols h1 h2',
    '\t}',
    '}',
    '',
    `import ${recipe}`,
    ''
  ].join('\n'))
  return await startProcess(t, {
    name: `caddy (${options.recipe})`,
    dir,
    command: findBinary('caddy') ?? 'caddy',
    args: ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'],
    env: {
      ...process.env,
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, 'config'),
      XDG_DATA_HOME: join(dir, 'data')
    },
    // Caddy listens on every port of its recipe at its bind address.
    listeners: Object.entries(options.vars).filter(([name]) => name.endsWith('_PORT')).map(([, port]) => ({ host: options.bind, port: Number(port) }))
  })
}

// ----------------------------------------------------------------------------
// The app

export interface App extends Listener {
  /** host:port (`[v6]:port`), for a recipe's {{APP}}. */
  address: string
  /** Every answer the app gave so far, in order (health checks included). */
  requests: Seen[]
  /** The app's log lines at warn and above (JSON text), in order. */
  logs: string[]
  /** The peer address of every TCP connection the app accepted, in order. */
  connections: string[]
}

export interface StartAppOptions {
  /** Serve HTTPS (HTTP/2 and HTTP/1.1) with this certificate for SITE. */
  tls?: Certificate
}

/** A listening Fastify app with one route per profile (GET /<profile>). */
export async function startApp (t: TestLike, host: string, profiles: Profiles, options: StartAppOptions = {}): Promise<App> {
  const requests: Seen[] = []
  const logs: string[] = []
  const tls = options.tls === undefined ? undefined : { cert: options.tls.pem, key: readFileSync(options.tls.key, 'utf8') }
  const app = buildApp(profiles, { tls, requests, logs })
  t.teardown(() => app.close())
  await app.listen({ host, port: 0 })
  const connections: string[] = []
  app.server.on('connection', (socket: net.Socket) => { connections.push(socket.remoteAddress ?? '') })
  const { port } = app.server.address() as net.AddressInfo
  return { host, port, address: `${net.isIPv6(host) ? `[${host}]` : host}:${port}`, requests, logs, connections }
}

export interface ClusterApp extends Omit<App, 'requests' | 'logs' | 'connections'> {
  /** The worker processes' ids. */
  pids: number[]
}

/**
 * The app as `workers` node:cluster workers sharing one port, the usual
 * production shape; this test process is the primary. Profiles must be plain
 * data (they are passed to the workers as JSON).
 */
export async function startClusterApp (t: TestLike, host: string, workers: number, profiles: Profiles): Promise<ClusterApp> {
  const [port] = await freePorts(host, 1)
  // Round-robin hand-out of connections by the primary (Linux's default, made explicit).
  cluster.schedulingPolicy = cluster.SCHED_RR
  cluster.setupPrimary({ exec: join(__dirname, 'cluster-worker.ts') })
  const started: Worker[] = []
  t.teardown(async () => {
    await Promise.all(started.map(async (worker) => {
      if (worker.process.exitCode !== null || worker.process.signalCode !== null) return
      const exited = new Promise((resolve) => worker.once('exit', resolve))
      worker.process.kill('SIGTERM')
      await exited
    }))
  })
  const env = { PROXY_FIX_CLUSTER_APP: JSON.stringify({ host, port, profiles }) }
  await Promise.all(Array.from({ length: workers }, async () => {
    const worker = cluster.fork(env)
    started.push(worker)
    running.add(worker.process)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cluster worker ${String(worker.process.pid)} not listening after ${STARTUP_TIMEOUT} ms`)), STARTUP_TIMEOUT)
      worker.once('listening', () => { clearTimeout(timer); resolve() })
      worker.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`cluster worker exited with ${String(code ?? signal)} before listening`))
      })
    })
  }))
  return { host, port, address: `${host}:${port}`, pids: started.map((worker) => worker.process.pid as number) }
}

// ----------------------------------------------------------------------------
// Clients

export interface Get {
  host: string
  port: number
  path: string
  /** The client's source address. */
  from: string
  /** Header lines in order; a name may repeat. */
  headers?: Array<[string, string]>
  /** HTTPS, trusting this certificate (PEM) for SITE. */
  ca?: string
  /** A keep-alive agent to send it through; by default, a connection of its own. */
  agent?: http.Agent
}

function checkReply (status: number | undefined, body: string): Seen {
  if (status !== 200) throw new Error(`HTTP ${String(status)}: ${body}`)
  return JSON.parse(body) as Seen
}

/** One HTTP/1.1 request on its own connection. */
export async function get (options: Get): Promise<Seen> {
  return (await getWithPort(options)).seen
}

/** As `get`, also saying which local port the client's connection had, and whether the agent reused it. */
export async function getWithPort (options: Get): Promise<{ seen: Seen, localPort: number, reused: boolean }> {
  const lib = options.ca === undefined ? http : https
  return await new Promise((resolve, reject) => {
    const request = lib.request({
      host: options.host,
      port: options.port,
      path: options.path,
      localAddress: options.from,
      agent: options.agent ?? false,
      ...(options.ca === undefined ? {} : { ca: options.ca, servername: SITE })
    })
    const grouped = new Map<string, string[]>()
    for (const [name, value] of options.headers ?? []) {
      grouped.set(name, [...(grouped.get(name) ?? []), value])
    }
    // An array value is sent as one header line per element.
    for (const [name, values] of grouped) request.setHeader(name, values.length === 1 ? values[0] : values)
    request.once('error', reject)
    request.once('response', (response) => {
      const localPort = response.socket.localPort as number
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.once('error', reject)
      response.once('end', () => {
        try {
          resolve({ seen: checkReply(response.statusCode, body), localPort, reused: request.reusedSocket })
        } catch (error) {
          reject(error)
        }
      })
    })
    request.end()
  })
}

export interface Get2 extends Get {
  ca: string
  /** The :authority pseudo-header (HTTP/2's Host). */
  authority: string
}

/** One HTTP/2 request over TLS; fails unless the proxy negotiated h2. */
export async function get2 (options: Get2): Promise<Seen> {
  const session = http2.connect(`https://${options.authority}`, {
    createConnection: () => tls.connect({
      socket: net.connect({ host: options.host, port: options.port, localAddress: options.from }),
      servername: SITE,
      ca: options.ca,
      ALPNProtocols: ['h2']
    })
  })
  try {
    return await new Promise((resolve, reject) => {
      session.once('error', reject)
      session.once('connect', () => {
        const alpn = (session.socket as tls.TLSSocket).alpnProtocol
        if (alpn !== 'h2') {
          reject(new Error(`the proxy negotiated ${String(alpn)}, not h2`))
          return
        }
        const headers: http2.OutgoingHttpHeaders = { ':path': options.path, ':authority': options.authority }
        for (const [name, value] of options.headers ?? []) headers[name] = value
        const stream = session.request(headers)
        let status: number | undefined
        let body = ''
        stream.setEncoding('utf8')
        stream.once('response', (h) => { status = h[':status'] })
        stream.on('data', (chunk: string) => { body += chunk })
        stream.once('error', reject)
        stream.once('end', () => {
          try {
            resolve(checkReply(status, body))
          } catch (error) {
            reject(error)
          }
        })
        stream.end()
      })
    })
  } finally {
    session.close()
  }
}

export interface Raw {
  host: string
  port: number
  /** The client's source address. */
  from: string
  /** Written in one piece as soon as the connection is open. */
  data: Buffer | string
}

export interface RawReply {
  /** Every byte the server sent before the connection closed. */
  received: string
  /** The socket error that ended the connection (`ECONNRESET`…), or null for a clean close. */
  error: string | null
}

const RAW_TIMEOUT = 10_000

/**
 * Bytes sent as they are on one TCP connection; resolves when the server
 * closes it. Fails if the server keeps it open for RAW_TIMEOUT ms: every
 * use sends something the server must answer or close at once.
 */
export async function sendRaw (options: Raw): Promise<RawReply> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect({ host: options.host, port: options.port, localAddress: options.from })
    const chunks: Buffer[] = []
    let error: string | null = null
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the server kept the connection open for ${RAW_TIMEOUT} ms`))
    }, RAW_TIMEOUT)
    socket.once('connect', () => socket.write(options.data))
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.once('error', (e: NodeJS.ErrnoException) => { error = e.code ?? e.message })
    socket.once('close', () => {
      clearTimeout(timer)
      resolve({ received: Buffer.concat(chunks).toString('latin1'), error })
    })
  })
}

/** What the app saw, from a whole raw reply (it must be a 200). */
export function rawBody (received: string): Seen {
  const [head, body] = received.split('\r\n\r\n', 2)
  if (!/^HTTP\/1\.[01] 200 /.test(head)) throw new Error(`not a 200: ${JSON.stringify(received.slice(0, 200))}`)
  return JSON.parse(body) as Seen
}

export interface CurlResult {
  /** curl's exit code: 0, or e.g. 52 (the server closed without a reply). */
  code: number
  stdout: string
  stderr: string
}

/** curl with these arguments; never throws for curl's own failures. */
export async function runCurl (args: string[]): Promise<CurlResult> {
  return await new Promise((resolve) => {
    execFile(findBinary('curl') ?? 'curl', ['--silent', '--show-error', '--max-time', '10', ...args], (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

// ----------------------------------------------------------------------------
// Reading the answers

/** The fields every scenario asserts, without the debugging extras. */
export function view (seen: Seen): Omit<Seen, 'pid' | 'rawHeaders'> {
  const { pid, rawHeaders, ...rest } = seen
  return rest
}

/** The header lines named `name` (any case) as they arrived, in order. */
export function headerLines (seen: Seen, name: string): string[] {
  const lines: string[] = []
  for (let i = 0; i < seen.rawHeaders.length; i += 2) {
    if (seen.rawHeaders[i].toLowerCase() === name.toLowerCase()) lines.push(seen.rawHeaders[i + 1])
  }
  return lines
}
