// The recipes that the documentation quotes are the files the proxy tests run:
// every file under examples/recipes/ is run by a test and quoted verbatim by
// docs/recipes.md.

import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { RECIPES } from './proxies/harness'

const root = resolve(__dirname, '..')
const readme = readFileSync(join(root, 'docs', 'recipes.md'), 'utf8')

function files (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)])
}

const recipes = files(RECIPES).map((file) => relative(RECIPES, file).split('\\').join('/')).sort()
const tests = readdirSync(__dirname)
  .filter((file) => file.startsWith('proxies-') && file.endsWith('.test.ts'))
  .map((file) => readFileSync(join(__dirname, file), 'utf8'))
  .join('\n')

// The README's "Placeholders" table, up to the next heading.
const placeholders = readme.split('## Placeholders')[1]?.split('\n#')[0] ?? ''

t.ok(recipes.length > 0, 'there are recipes')
t.ok(placeholders.includes('| placeholder |'), 'docs/recipes.md has a Placeholders table')

for (const recipe of recipes) {
  t.test(recipe, async (t) => {
    const text = readFileSync(join(RECIPES, recipe), 'utf8').trimEnd()
    t.ok(tests.includes(`recipe: '${recipe}'`), 'a proxy test runs it')
    t.ok(readme.includes(`examples/recipes/${recipe}`), 'docs/recipes.md names it')
    t.ok(readme.includes('\n' + text + '\n```'), 'docs/recipes.md quotes it verbatim in a code block')
    for (const [placeholder] of text.matchAll(/\{\{[A-Z_]+\}\}/g)) {
      t.ok(placeholders.includes(`\`${placeholder}\``), `the Placeholders table has ${placeholder}`)
    }
  })
}
