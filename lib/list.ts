// Comma-separated header lists (`X-Forwarded-*`), read from the right: the
// rightmost element is the one the nearest proxy wrote. Several header lines
// arrive joined with ', ', as Node joins them.

export type HeaderValue = string | string[] | undefined
export type RequestHeaders = Record<string, HeaderValue>

const hasOwn = Object.prototype.hasOwnProperty

/**
 * One header's value as a string (repeated lines joined as Node joins them);
 * undefined when absent. Only own properties are read.
 *
 * `value` is `headers[name]`. resolve() reads it at each call site: V8 then
 * keeps one inline cache per header name there, where the one read in here,
 * shared by every name, is a megamorphic lookup of about 100 instructions.
 */
export function headerText (headers: RequestHeaders, name: string, value: HeaderValue = headers[name]): string | undefined {
  if (value === undefined || !hasOwn.call(headers, name)) return undefined
  if (typeof value === 'string') return value
  return Array.isArray(value) ? value.join(', ') : undefined
}

function isSpace (c: number): boolean {
  return c === 32 || c === 9
}

/** The first index in [start, end) that is not a space or tab, or `end`. */
export function skipSpaces (text: string, start: number, end: number): number {
  while (start < end && isSpace(text.charCodeAt(start))) start++
  return start
}

/** Where text[start, end) ends without its trailing spaces and tabs. */
export function trimSpacesEnd (text: string, start: number, end: number): number {
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--
  return end
}

/**
 * The comma before the list element that ends at `end`, or -1 when that
 * element is the first. `firstComma` is `text.indexOf(',')`, found once per
 * text: most lists have one element, and then nothing is read backwards.
 */
export function commaBefore (text: string, end: number, firstComma: number): number {
  if (firstComma < 0 || firstComma >= end) return -1
  let i = end - 1
  while (text.charCodeAt(i) !== 44) i-- // (a loop: V8's lastIndexOf is a slow call)
  return i
}

/** The rightmost element of a list, without the spaces and tabs around it. */
export function lastElement (text: string): string {
  const start = skipSpaces(text, commaBefore(text, text.length, text.indexOf(',')) + 1, text.length)
  const end = trimSpacesEnd(text, start, text.length)
  return start === 0 && end === text.length ? text : text.slice(start, end)
}
