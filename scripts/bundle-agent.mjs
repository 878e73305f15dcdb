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
// The package's bins are run by path (`npx canh` in this folder, `./canh-agent.mjs`): npm makes
// a dependency's bins executable when it links them, but never the project's own, and tsc
// writes its output 0644 on a fresh clone.
for (const bin of [`${outdir}canh-agent.mjs`, ...(defaultOut ? [new URL('../dist/cli/canh.js', import.meta.url).pathname] : [])]) chmodSync(bin, 0o755);
process.stdout.write(`agent bundle: ${outdir}canh-agent.mjs\n`);
