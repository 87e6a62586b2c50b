// The recipes that the documentation quotes are the files the proxy tests run:
// every file under examples/recipes/ is run by a test and quoted verbatim by
// docs/recipes.md or, for the PROXY protocol ones, docs/proxy-protocol.md
// (each page with a Placeholders table naming every placeholder it quotes).

import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { RECIPES } from './proxies/harness'

const root = resolve(__dirname, '..')

/** The pages that quote recipes, with their "Placeholders" table (up to the next heading). */
const pages = ['docs/recipes.md', 'docs/proxy-protocol.md'].map((path) => {
  const text = readFileSync(join(root, path), 'utf8')
  const placeholders = text.split(/^#+ Placeholders$/m)[1]?.split('\n#')[0] ?? ''
  return { path, text, placeholders }
})

function files (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)])
}

const recipes = files(RECIPES).map((file) => relative(RECIPES, file).split('\\').join('/')).sort()
const tests = readdirSync(__dirname)
  .filter((file) => file.startsWith('proxies-') && file.endsWith('.test.ts'))
  .map((file) => readFileSync(join(__dirname, file), 'utf8'))
  .join('\n')

t.ok(recipes.length > 0, 'there are recipes')
for (const page of pages) {
  t.ok(page.placeholders.includes('| placeholder |'), `${page.path} has a Placeholders table`)
}

for (const recipe of recipes) {
  t.test(recipe, async (t) => {
    const text = readFileSync(join(RECIPES, recipe), 'utf8').trimEnd()
    t.ok(tests.includes(`recipe: '${recipe}'`), 'a proxy test runs it')
    const quoting = pages.filter((page) => page.text.includes(`examples/recipes/${recipe}`) && page.text.includes('\n' + text + '\n```'))
    t.ok(quoting.length > 0, `${pages.map((page) => page.path).join(' or ')} names it and quotes it verbatim in a code block`)
    for (const page of quoting) {
      for (const [placeholder] of text.matchAll(/\{\{[A-Z_]+\}\}/g)) {
        t.ok(page.placeholders.includes(`\`${placeholder}\``), `${page.path}: the Placeholders table has ${placeholder}`)
      }
    }
  })
}
