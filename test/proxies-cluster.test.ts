// The app as node:cluster workers behind nginx (examples/recipes/nginx/site.conf):
// requests from two client addresses each resolve to their own client, in
// every worker.

import t from 'tap'
import {
  CLIENT_A, CLIENT_B, freePorts, get, haveBinaries, makeCertificate,
  startClusterApp, startNginx, tempDir, view
} from './proxies/harness'

// This file's addresses: 127.0.5.x.
const NGINX = '127.0.5.10'
const APP = '127.0.5.100'
const WORKERS = 2
// Round-robin hands connections to the workers in turn, and nginx opens one
// connection per request: A, A, B, B… gives each client every worker.
const ORDER = [CLIENT_A, CLIENT_A, CLIENT_B, CLIENT_B]
const ROUNDS = 3

t.test('8. clustered app behind nginx', async (t) => {
  if (!haveBinaries(t, ['nginx', 'openssl'])) return
  const cert = await makeCertificate(tempDir(t, 'cluster-cert'))
  const app = await startClusterApp(t, APP, WORKERS, { app: { trustedProxies: NGINX } })
  const [httpPort, httpsPort] = await freePorts(NGINX, 2)
  await startNginx(t, {
    recipe: 'nginx/site.conf',
    vars: {
      LISTEN_HTTP: `${NGINX}:${httpPort}`,
      LISTEN_HTTPS: `${NGINX}:${httpsPort}`,
      CERT: cert.cert,
      KEY: cert.key,
      APP: app.address
    },
    bind: NGINX
  })

  const workersSeen = new Map<string, Set<number>>([[CLIENT_A, new Set()], [CLIENT_B, new Set()]])
  for (let round = 0; round < ROUNDS; round++) {
    for (const client of ORDER) {
      const seen = await get({
        host: NGINX,
        port: httpPort,
        path: '/app',
        from: client,
        headers: [['Host', 'shop.example.test'], ['X-Forwarded-For', '6.6.6.6']]
      })
      t.strictSame(view(seen), {
        ip: client,
        ips: [NGINX, client],
        hostname: 'shop.example.test',
        host: 'shop.example.test',
        port: null,
        protocol: 'http',
        originalIp: NGINX,
        originalHost: 'shop.example.test'
      }, `round ${round + 1}, client ${client}`)
      workersSeen.get(client)?.add(seen.pid)
    }
  }
  for (const [client, pids] of workersSeen) {
    t.strictSame([...pids].sort(), [...app.pids].sort(), `every worker answered ${client}`)
  }
})
