// The ESM entry. Node's `import` of the CommonJS build gives the plugin as the
// default export; the named exports are spelled out here because Node cannot
// see them in `module.exports = proxyFix`. Both entries share one module
// instance, so there is no dual-package hazard.

import proxyFix from './index.js'

export default proxyFix
export { proxyFix }
export const createResolver = proxyFix.createResolver
export const ProxyFixError = proxyFix.ProxyFixError
export type ProxyFixError = InstanceType<typeof ProxyFixError>
export const codes = proxyFix.codes
export type {
  InvalidValue, ProxyEndpoint, ProxyFixHeaders, ProxyFixOptions, ProxyHeader, ProxyResolver, ProxyTLV, RawRequest, ResolvedRequest, TrustFunction
} from './index.js'
