// One worker of the clustered app (scenario 8): the same app as the other
// scenarios, listening on the port the primary shares between its workers.

import { buildApp, type Profiles } from './app'

const { host, port, profiles } = JSON.parse(process.env.PROXY_FIX_CLUSTER_APP ?? '{}') as {
  host: string
  port: number
  profiles: Profiles
}

buildApp(profiles).listen({ host, port }).catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
