#!/usr/bin/env node
// Page weight of the built-in board (issue 6 closing figure): every byte a browser loads
// for the first visit (HTML + JS + CSS + uPlot + icon), raw and as served gzipped, read
// from the build (dist/collector/board/) exactly as the collector serves it.
import { importDist } from './lib.mjs';
const { boardWeight, loadBoardAssets } = await importDist('boardAssets');

const w = boardWeight(loadBoardAssets());
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const f of w.files) console.log(`${f.name.padEnd(20)} raw ${String(f.raw).padStart(7)} B  gzip ${String(f.gzip).padStart(6)} B`);
const TARGET = 150 * 1024;
console.log(
  `HEADLINE board page weight ${w.raw} B raw (${kb(w.raw)}), ${w.gzip} B gzip (${kb(w.gzip)}) over ${w.files.length} files; target gzip < ${kb(TARGET)}: ${w.gzip < TARGET ? 'met' : 'NOT met'}`,
);
