// The recipes that the documentation quotes are the files the proxy tests run:
// every file under examples/recipes/ is run by a test and quoted verbatim by
// docs/recipes.md (and by README.md wherever it names the file).

import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { RECIPES } from './proxies/harness'

const root = resolve(__dirname, '..')
const docs = ['docs/recipes.md', 'README.md'].filter((file) => existsSync(join(root, file)))

function files (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)])
}

const recipes = files(RECIPES).map((file) => relative(RECIPES, file).split('\\').join('/')).sort()
const tests = readdirSync(__dirname)
  .filter((file) => file.startsWith('proxies-') && file.endsWith('.test.ts'))
  .map((file) => readFileSync(join(__dirname, file), 'utf8'))
  .join('\n')

// The "Placeholders" section of docs/recipes.md, up to the next heading.
const placeholders = readFileSync(join(root, 'docs/recipes.md'), 'utf8').split('### Placeholders')[1]?.split('\n#')[0] ?? ''

t.ok(recipes.length > 0, 'there are recipes')
t.ok(docs.includes('docs/recipes.md'), 'docs/recipes.md exists')

for (const recipe of recipes) {
  t.test(recipe, async (t) => {
    const text = readFileSync(join(RECIPES, recipe), 'utf8').trimEnd()
    t.ok(tests.includes(`recipe: '${recipe}'`), 'a proxy test runs it')
    for (const doc of docs) {
      const markdown = readFileSync(join(root, doc), 'utf8')
      if (doc !== 'docs/recipes.md' && !markdown.includes(`examples/recipes/${recipe}`)) continue
      t.ok(markdown.includes(`examples/recipes/${recipe}`), `${doc} names it`)
      t.ok(markdown.includes('\n' + text + '\n```'), `${doc} quotes it verbatim in a code block`)
    }
    for (const [placeholder] of text.matchAll(/\{\{[A-Z_]+\}\}/g)) {
      t.ok(placeholders.includes(`\`${placeholder}\``), `docs/recipes.md's Placeholders table has ${placeholder}`)
    }
  })
}
