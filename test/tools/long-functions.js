#!/usr/bin/env node
// Lists the functions of src/ longer than MAX_LINES, from a function's first line to its closing brace, longest first:
// `node test/tools/long-functions.js [limit]` (limit 0 lists every function). test/node/function-length.test.js holds
// src/ to the limit.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const MAX_LINES = 90;

const sourcesIn = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesIn(path);
    return entry.name.endsWith('.ts') ? [{ file: path, source: readFileSync(path, 'utf8') }] : [];
  });

/** The name a function is known by: its own, or that of the variable, property or class member it is assigned to. */
const nameOf = (node) => {
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) {
    return parent.name.getText();
  }
  return '(anonymous)';
};

/** Functions of `files` (default: every .ts under `root`) over `limit` lines, longest first. */
export function longFunctions(root, files = sourcesIn(root), limit = MAX_LINES) {
  const found = [];
  for (const { file, source } of files) {
    const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        const lines = last - first + 1;
        if (lines > limit) found.push({ file: relative(root, file), line: first + 1, name: nameOf(node), lines });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found.sort((a, b) => b.lines - a.lines);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const limit = process.argv[2] === undefined ? MAX_LINES : Number(process.argv[2]);
  const root = fileURLToPath(new URL('../../src', import.meta.url));
  const rows = longFunctions(root, undefined, limit);
  for (const { file, line, name, lines } of rows) console.log(`${String(lines).padStart(4)}  src/${file}:${line}  ${name}`);
  if (!rows.length) console.log(`no function in src/ is over ${limit} lines`);
}
