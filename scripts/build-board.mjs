#!/usr/bin/env node
// Ships the web board with the build (after tsc: it uses dist/collector/http/board-assets.js):
// the bundled script, the page, styles and icon, and the vendored uPlot (MIT) go to
// dist/collector/board/, next to dist/collector/http/board-assets.js, which serves them. The
// collector fetches nothing from the internet: every file the board loads is here.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { transform } from 'esbuild';
import { BOARD_FILES, bundleBoardScript } from '../dist/collector/http/board-assets.js';

const require = createRequire(import.meta.url);
const src = new URL('../collector/board/', import.meta.url).pathname;
const out = new URL('../dist/collector/board/', import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// The script is main.js and the modules it imports, bundled into one app.js (the file
// index.html loads); styles are minified for the wire. Plain ES2017 stays ES2017: old office
// browsers. The readable sources stay in collector/board/.
for (const f of BOARD_FILES) if (f.bundle) writeFileSync(out + f.name, bundleBoardScript(src + f.bundle));
for (const f of readdirSync(src, { withFileTypes: true })) {
  // The modules (views/, i18n.js…) are in the bundle, not served on their own.
  if (!f.isFile() || f.name.endsWith('.js')) continue;
  if (!f.name.endsWith('.css')) {
    copyFileSync(src + f.name, out + f.name);
    continue;
  }
  const { code } = await transform(readFileSync(src + f.name, 'utf8'), { loader: 'css', minify: true, target: 'chrome58', charset: 'utf8', legalComments: 'none' });
  writeFileSync(out + f.name, code);
}
const vendor = {
  'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
  'uPlot.LICENSE.txt': 'uplot/LICENSE',
};
for (const [name, from] of Object.entries(vendor)) copyFileSync(require.resolve(from), out + name);
process.stdout.write(`board: ${out}\n`);
