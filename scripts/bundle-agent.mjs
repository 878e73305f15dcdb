#!/usr/bin/env node
// Bundles the agent into one ESM file (plus lazily loaded chunks) with esbuild:
// dist/agent/canh-agent.mjs. Minified and tree-shaken, it loads only what the agent
// runs, which keeps its memory small on old office PCs. It still needs Node.js; the
// self-contained Windows build wraps this same bundle.
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// CANH_BUNDLE_VERSION / CANH_BUNDLE_OUTDIR: another version into another folder (the
// self-update tests build a "next release" this way; releases use package.json's version).
const version = process.env.CANH_BUNDLE_VERSION ?? pkg.version;
const outdir = process.env.CANH_BUNDLE_OUTDIR ? `${process.env.CANH_BUNDLE_OUTDIR.replace(/\/+$/, '')}/` : new URL('../dist/agent-bundle/', import.meta.url).pathname;
const defaultOut = !process.env.CANH_BUNDLE_OUTDIR;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { 'canh-agent': new URL('../cli/canh-agent.ts', import.meta.url).pathname },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  define: { __CANH_VERSION__: JSON.stringify(version) },
  // CommonJS dependencies (systeminformation, ping) call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __canhRequire } from 'node:module'; const require = __canhRequire(import.meta.url);" },
  logLevel: 'warning',
});
// ASCII only, for what every agent loads (the entry and the chunks it imports statically): V8
// keeps each module's source text in the heap for lazy compilation, one byte a character when
// it is all Latin-1 and two otherwise, so one Vietnamese letter in a regular expression
// (esbuild escapes non-ASCII in strings, not in regex literals) doubled the 0.65 MB of the
// main file to 1.3 MB of the agent's heap. Write \uXXXX there. (Chunks loaded on demand,
// e.g. systeminformation on Windows, are third-party code and not checked.)
const eager = new Set(['canh-agent.mjs']);
for (const f of eager) {
  const text = readFileSync(`${outdir}${f}`, 'utf8');
  for (const m of text.matchAll(/\bfrom\s*"\.\/([\w.-]+\.mjs)"|\bimport\s*"\.\/([\w.-]+\.mjs)"/g)) eager.add(m[1] ?? m[2]);
  const at = text.search(/[^\t\n\r\x20-\x7e]/);
  if (at >= 0) {
    process.stderr.write(`bundle-agent: ${f} has a non-ASCII character near: ${JSON.stringify(text.slice(Math.max(0, at - 60), at + 20))}\n`);
    process.stderr.write('  write it as \\uXXXX in the source: the agent bundle stays ASCII to keep its heap small\n');
    process.exit(1);
  }
}
// The package's bins are run by path (`npx canh` in this folder, `./canh-agent.mjs`): npm makes
// a dependency's bins executable when it links them, but never the project's own, and tsc
// writes its output 0644 on a fresh clone.
for (const bin of [`${outdir}canh-agent.mjs`, ...(defaultOut ? [new URL('../dist/cli/canh.js', import.meta.url).pathname] : [])]) chmodSync(bin, 0o755);
process.stdout.write(`agent bundle: ${outdir}canh-agent.mjs\n`);
