// The code examples of README.md, CONTRIBUTING.md and docs/*.md, read from the pages themselves, so a test that runs or
// type-checks them fails when a page's example no longer works. A fenced block may be preceded by HTML comments the
// page does not show: `<!-- prelude: <code> -->` (declarations the example assumes, e.g. `declare const user: ...`),
// and a marker such as `<!-- typecheck: worker -->` or `<!-- example: <name> -->` that a test looks the block up by.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every page with examples. */
export const PAGES = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(root, 'docs')).filter((n) => n.endsWith('.md')).map((n) => `docs/${n}`)];

/** The fenced blocks of `page`: `{ page, line, lang, code, prelude, markers }`. */
export function blocksOf(page) {
  const lines = readFileSync(join(root, page), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body = [];
    for (i++; i < lines.length && lines[i] != '```'; i++) body.push(lines[i]);
    const comments = [];
    for (let j = start - 1; j >= 0 && /^<!-- .* -->$/.test(lines[j]); j--) comments.unshift(lines[j]);
    const prelude = comments.map((c) => /^<!-- prelude: (.*) -->$/.exec(c)?.[1]).filter(Boolean).join('\n');
    const markers = comments.map((c) => /^<!-- (\w+): (.*) -->$/.exec(c)).filter(Boolean).map(([, kind, value]) => `${kind}: ${value}`);
    blocks.push({ page, line: start + 1, lang: open[1], code: body.join('\n') + '\n', prelude, markers });
  }
  return blocks;
}

/** Every block of every page. */
export const allBlocks = () => PAGES.flatMap(blocksOf);

/** The one block marked `<!-- kind: value -->`. */
export function marked(kind, value) {
  const found = allBlocks().filter((b) => b.markers.includes(`${kind}: ${value}`));
  if (found.length != 1) throw new Error(`${found.length} blocks are marked <!-- ${kind}: ${value} -->`);
  return found[0];
}
