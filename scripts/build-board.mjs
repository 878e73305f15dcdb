#!/usr/bin/env node
// Ships the web board with the build: collector/board/* and the vendored uPlot (MIT) go to
// dist/collector/board/, where dist/collector/http/board-assets.js serves them from. The
// collector fetches nothing from the internet: every file the board loads is here.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { transform } from 'esbuild';

const require = createRequire(import.meta.url);
const src = new URL('../collector/board/', import.meta.url).pathname;
const out = new URL('../dist/collector/board/', import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// Scripts and styles are minified for the wire (plain ES2017 stays ES2017: old office
// browsers); the readable sources stay in collector/board/.
for (const f of readdirSync(src)) {
  const loader = f.endsWith('.js') ? 'js' : f.endsWith('.css') ? 'css' : null;
  if (!loader) {
    copyFileSync(src + f, out + f);
    continue;
  }
  const { code } = await transform(readFileSync(src + f, 'utf8'), { loader, minify: true, target: loader === 'js' ? 'es2017' : 'chrome58', charset: 'utf8', legalComments: 'none' });
  writeFileSync(out + f, code);
}
const vendor = {
  'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
  'uPlot.LICENSE.txt': 'uplot/LICENSE',
};
for (const [name, from] of Object.entries(vendor)) copyFileSync(require.resolve(from), out + name);
process.stdout.write(`board: ${out}\n`);
