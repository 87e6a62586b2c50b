// Errors are values a user can act on: a stable `code`, and a message that
// names the offending entry.

export class ProxyFixError extends Error {
  readonly code: string

  constructor (code: string, message: string) {
    super(message)
    this.name = 'ProxyFixError'
    this.code = code
  }
}

export const codes = Object.freeze({
  OPTIONS: 'FST_PROXY_FIX_OPTIONS',
  TRUSTED_PROXIES_REQUIRED: 'FST_PROXY_FIX_TRUSTED_PROXIES_REQUIRED',
  INVALID_TRUSTED_PROXY: 'FST_PROXY_FIX_INVALID_TRUSTED_PROXY',
  INVALID_HOPS: 'FST_PROXY_FIX_INVALID_HOPS',
  INVALID_HEADER_NAME: 'FST_PROXY_FIX_INVALID_HEADER_NAME',
  INVALID_ON_INVALID: 'FST_PROXY_FIX_INVALID_ON_INVALID',
  INVALID_FORWARDED: 'FST_PROXY_FIX_INVALID_FORWARDED',
  CONFLICTING_OPTIONS: 'FST_PROXY_FIX_CONFLICTING_OPTIONS',
  TRUST_PROXY_CONFLICT: 'FST_PROXY_FIX_TRUST_PROXY_CONFLICT',
  INVALID_HEADER: 'FST_PROXY_FIX_INVALID_HEADER',
  INVALID_PROXY_PROTOCOL: 'FST_PROXY_FIX_INVALID_PROXY_PROTOCOL',
  PROXY_PROTOCOL_SERVER: 'FST_PROXY_FIX_PROXY_PROTOCOL_SERVER'
} as const)

/** A short, printable excerpt of untrusted text for error messages and logs:
 *  at most `max` characters, then `...` when cut; control and non-ASCII characters (and
 *  the quote and backslash that would make the excerpt ambiguous) escaped. */
export function excerpt (text: string, max = 64): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    let piece: string
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) {
      piece = text[i]
    } else if (c < 0x100) {
      piece = '\\x' + c.toString(16).padStart(2, '0')
    } else {
      piece = '\\u' + c.toString(16).padStart(4, '0')
    }
    if (out.length + piece.length > max) return out + '...'
    out += piece
  }
  return out
}
