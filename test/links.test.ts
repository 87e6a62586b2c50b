// The documentation's links hold: every relative link and every `#anchor` in
// README.md, CONTRIBUTING.md, docs/*.md and bench/README.md points at a file
// that exists and, for a Markdown target, at a heading it has (slugged the way
// GitHub does). And docs/recipes.md (or, for the PROXY protocol ones,
// docs/proxy-protocol.md) quotes, verbatim, every recipe file the real-proxy
// tests run, so the pages cannot drift from what is tested.
import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(__dirname, '..')

/** The documentation files checked, relative to the repository root. */
function documents (): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)
  return ['README.md', 'CONTRIBUTING.md', 'bench/README.md', ...docs.sort()].filter((f) => existsSync(join(root, f)))
}

/** The Markdown outside fenced code blocks, line by line (code lines are blanked, so line numbers stay). */
function prose (markdown: string): string[] {
  let fence: string | null = null
  return markdown.split('\n').map((line) => {
    const opening = /^ {0,3}(`{3,}|~{3,})/.exec(line)
    if (fence === null) {
      if (opening !== null) {
        fence = opening[1]
        return ''
      }
      return line
    }
    if (opening !== null && opening[1][0] === fence[0] && opening[1].length >= fence.length && line.trim() === opening[1]) fence = null
    return ''
  })
}

/** GitHub's anchor for a heading's text: lower case, punctuation dropped, spaces made hyphens. */
function slug (heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link or image shows its text
    .replace(/<[^>]+>/g, '') // HTML tags show nothing
    .replace(/[`*]/g, '') // code and emphasis marks
  return text.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats get -1, -2, …) and HTML ids and names. */
function anchors (markdown: string): Set<string> {
  const out = new Set<string>()
  const seen = new Map<string, number>()
  for (const line of prose(markdown)) {
    const heading = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line)
    if (heading !== null) {
      const base = slug(heading[1])
      const count = seen.get(base) ?? 0
      seen.set(base, count + 1)
      out.add(count === 0 ? base : `${base}-${count}`)
    }
    for (const [, id] of line.matchAll(/<[a-z][^>]*\s(?:id|name)="([^"]+)"/gi)) out.add(id)
  }
  return out
}

interface Link {
  line: number
  target: string
}

/** The link targets of a Markdown text: inline links and images, and reference definitions; not in code. */
function links (markdown: string): Link[] {
  const out: Link[] = []
  const lines = prose(markdown)
  // Inline code may hold text that looks like a link; blank it, keeping offsets.
  const text = lines.join('\n').replace(/(`+)[\s\S]*?\1/g, (code) => code.replace(/[^\n]/g, ' '))
  const lineAt = (offset: number): number => text.slice(0, offset).split('\n').length
  for (const match of text.matchAll(/\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+"[^"]*")?\s*\)/g)) {
    out.push({ line: lineAt(match.index ?? 0), target: match[1].replace(/^<|>$/g, '') })
  }
  for (const match of text.matchAll(/^ {0,3}\[[^\]]+\]:[ \t]+(\S+)/gm)) {
    out.push({ line: lineAt(match.index ?? 0), target: match[1].replace(/^<|>$/g, '') })
  }
  return out
}

/** What is wrong with one link of `file` (relative to the root), or null. */
function problem (file: string, target: string, read: (path: string) => string | null): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null // https:, mailto:: not checked offline
  const hash = target.indexOf('#')
  const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash))
  const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1))
  const resolved = path === '' ? file : relative(root, resolve(root, dirname(file), path)).split('\\').join('/')
  if (resolved.startsWith('..')) return `${target}: points outside the repository`
  const content = read(resolved)
  if (content === null) return `${target}: ${resolved} does not exist`
  if (anchor === null) return null
  if (!resolved.endsWith('.md')) return `${target}: an anchor into a file that is not Markdown`
  if (!anchors(content).has(anchor)) return `${target}: ${resolved} has no heading with the anchor #${anchor}`
  return null
}

/** A file's text; '' for a directory; null when it does not exist. */
function readRepo (path: string): string | null {
  const full = join(root, path)
  if (!existsSync(full)) return null
  try {
    return readFileSync(full, 'utf8')
  } catch {
    return '' // a directory
  }
}

t.test('the checker itself', async (t) => {
  t.equal(slug("Migrating from Fastify's `trustProxy` and Express's `trust proxy`"),
    'migrating-from-fastifys-trustproxy-and-expresss-trust-proxy')
  t.equal(slug('Quick start: nginx on the same machine'), 'quick-start-nginx-on-the-same-machine')
  t.equal(slug('`createResolver(options)`: without Fastify'), 'createresolveroptions-without-fastify')
  t.equal(slug('X-Real-IP with clientIpHeader'), 'x-real-ip-with-clientipheader')
  t.equal(slug('The [Forwarded](x.md) header — RFC 7239'), 'the-forwarded-header--rfc-7239')
  t.same([...anchors('# A\n## A\n```\n# not a heading\n```\n### B ##\n<a id="here"></a>\n')], ['a', 'a-1', 'b', 'here'])

  const page = [
    '# Title',
    'See [ok](#title), [missing](#nope), [file](README.md), [gone](docs/gone.md),',
    '[web](https://example.com), ![img](bench/none.svg) and `[code](#not-a-link)`.',
    '```md',
    '[in a fence](#also-not-a-link)',
    '```',
    '[ref]: docs/none.md'
  ].join('\n')
  const targets = links(page).map((l) => l.target)
  t.same(targets, ['#title', '#nope', 'README.md', 'docs/gone.md', 'https://example.com', 'bench/none.svg', 'docs/none.md'])
  const files: Record<string, string> = { 'page.md': page, 'README.md': '# fastify-proxy-fix\n' }
  const read = (path: string): string | null => files[path] ?? null
  t.same(targets.map((target) => problem('page.md', target, read) !== null),
    [false, true, false, true, false, true, true], 'broken links and anchors are reported, good ones are not')
  t.match(problem('docs/a.md', '../README.md#nope', read), /README\.md has no heading with the anchor #nope/)
  t.equal(problem('docs/a.md', '../README.md#fastify-proxy-fix', read), null)
  t.match(problem('docs/a.md', '../../x.md', read), /outside the repository/)
})

for (const file of documents()) {
  t.test(`${file}: every relative link and anchor resolves`, async (t) => {
    const markdown = readFileSync(join(root, file), 'utf8')
    const found = links(markdown)
    const broken = found.map((link) => ({ link, why: problem(file, link.target, readRepo) }))
      .filter((b) => b.why !== null)
      .map((b) => `${file}:${b.link.line}: ${b.why as string}`)
    t.same(broken, [], `${found.length} links checked`)
  })
}

t.test('docs/recipes.md or docs/proxy-protocol.md quotes every recipe file verbatim', async (t) => {
  const recipes = join(root, 'examples', 'recipes')
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)])
  const pages = ['recipes.md', 'proxy-protocol.md'].map((name) => readFileSync(join(root, 'docs', name), 'utf8'))
  const all = files(recipes).map((f) => relative(recipes, f).split('\\').join('/')).sort()
  t.ok(all.length > 0, 'there are recipes')
  for (const recipe of all) {
    const text = readFileSync(join(recipes, recipe), 'utf8').trimEnd()
    const page = pages.find((page) => page.includes(`examples/recipes/${recipe}`))
    t.ok(page !== undefined, `${recipe}: a page names it`)
    t.ok(page?.includes('\n' + text + '\n```'), `${recipe}: the page quotes it whole, in a code block`)
  }
})
