/**
 * The built-in web board (issue 6): static files served by the collector itself, nothing
 * fetched from the internet. The files live in `collector/board/` (built into
 * `dist/collector/board/` by scripts/build-board.mjs: the script's ES modules bundled into
 * app.js, the rest copied, uPlot from node_modules); they
 * are read once at start, gzipped once, and served with an ETag. index.html names every
 * other file with `?v=<content hash>`, so those answers can be cached for a year while
 * index.html itself is revalidated on every load (a new collector version shows at once).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Express, Request, RequestHandler, Response } from 'express';

/** One file of the board. */
export interface BoardFile {
  name: string;
  contentType: string;
  /** Where it comes from in node_modules when not in the board folder (vendored libraries). */
  vendor?: string;
  /**
   * The module in the board folder this file is bundled from (scripts/build-board.mjs):
   * from source, where only the modules exist, it is bundled when the board is loaded.
   */
  bundle?: string;
}

/** The board's files (a new file is one line here, house style §2). */
export const BOARD_FILES: readonly BoardFile[] = [
  { name: 'index.html', contentType: 'text/html; charset=utf-8' },
  // main.js and the modules it imports (views/, i18n.js, series.js…), one script for the wire.
  { name: 'app.js', contentType: 'text/javascript; charset=utf-8', bundle: 'main.js' },
  { name: 'style.css', contentType: 'text/css; charset=utf-8' },
  { name: 'favicon.svg', contentType: 'image/svg+xml' },
  // uPlot (MIT, ~50 KB): small, canvas-based, no dependencies; its licence ships alongside.
  { name: 'uPlot.iife.min.js', contentType: 'text/javascript; charset=utf-8', vendor: 'uplot/dist/uPlot.iife.min.js' },
  { name: 'uPlot.min.css', contentType: 'text/css; charset=utf-8', vendor: 'uplot/dist/uPlot.min.css' },
  { name: 'uPlot.LICENSE.txt', contentType: 'text/plain; charset=utf-8', vendor: 'uplot/LICENSE' },
];

/**
 * The board's Content-Security-Policy: scripts, styles and connections to this origin
 * only; no inline script, no inline style attribute (uPlot and the board set styles
 * through the CSSOM, which CSP allows), no frames, no plugins.
 */
export const BOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface BoardAsset {
  name: string;
  contentType: string;
  body: Buffer;
  gzip: Buffer;
  /** First 16 hex digits of the SHA-256 of `body`. */
  hash: string;
}

export type BoardAssets = ReadonlyMap<string, BoardAsset>;

/** The board folder beside this module's folder (`collector/http/` → `collector/board/`) from source, `dist/collector/board/` when built. */
export const BOARD_DIR = fileURLToPath(new URL('../board/', import.meta.url));

/**
 * Bundles the board's script from its entry module: one classic script (an IIFE, no
 * `type=module`: old office browsers), minified, plain ES2017. esbuild is a build tool (a
 * dev dependency): only the build and a collector run from source call this.
 */
export function bundleBoardScript(entry: string): Buffer {
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const r = esbuild.buildSync({ entryPoints: [entry], bundle: true, format: 'iife', minify: true, target: 'es2017', charset: 'utf8', legalComments: 'none', write: false });
  return Buffer.from(r.outputFiles[0]!.contents);
}

function read(file: BoardFile, dir: string): Buffer {
  if (file.bundle && !existsSync(`${dir}${file.name}`) && existsSync(`${dir}${file.bundle}`)) return bundleBoardScript(`${dir}${file.bundle}`);
  return readFileSync(locate(file, dir));
}

function locate(file: BoardFile, dir: string): string {
  const local = `${dir}${file.name}`;
  if (existsSync(local)) return local;
  if (file.vendor) {
    try {
      return createRequire(import.meta.url).resolve(file.vendor);
    } catch {
      /* reported below */
    }
  }
  throw new Error(`board file ${file.name} missing from ${dir}${file.vendor ? ` and node_modules/${file.vendor}` : ''}: run \`npm run build\``);
}

function asset(name: string, contentType: string, body: Buffer): BoardAsset {
  return { name, contentType, body, gzip: gzipSync(body, { level: 9 }), hash: createHash('sha256').update(body).digest('hex').slice(0, 16) };
}

/** Reads, versions and compresses the board's files. Throws a clear error when one is missing. */
export function loadBoardAssets(dir = BOARD_DIR): BoardAssets {
  const out = new Map<string, BoardAsset>();
  for (const f of BOARD_FILES) {
    if (f.name === 'index.html') continue;
    out.set(f.name, asset(f.name, f.contentType, read(f, dir)));
  }
  const indexFile = BOARD_FILES.find((f) => f.name === 'index.html')!;
  // `{{file}}` in index.html → that file's content hash (cache busting).
  const html = readFileSync(locate(indexFile, dir), 'utf8').replace(/\{\{([A-Za-z0-9.]+)\}\}/g, (whole, name: string) => {
    const a = out.get(name);
    if (!a) throw new Error(`index.html names ${name}, which is not a board file`);
    return a.hash;
  });
  out.set('index.html', asset('index.html', indexFile.contentType, Buffer.from(html, 'utf8')));
  return out;
}

/** Total bytes of the board (raw and gzipped), for the page-weight figure. */
export function boardWeight(assets: BoardAssets): { raw: number; gzip: number; files: Array<{ name: string; raw: number; gzip: number }> } {
  const files = [...assets.values()].filter((a) => !a.name.endsWith('.txt')).map((a) => ({ name: a.name, raw: a.body.length, gzip: a.gzip.length }));
  return { raw: files.reduce((s, f) => s + f.raw, 0), gzip: files.reduce((s, f) => s + f.gzip, 0), files };
}

function acceptsGzip(req: Request): boolean {
  const ae = req.headers['accept-encoding'];
  return typeof ae === 'string' && /\bgzip\b/.test(ae);
}

function send(req: Request, res: Response, a: BoardAsset): void {
  const etag = `"${a.hash}"`;
  const versioned = a.name !== 'index.html' && req.query.v === a.hash;
  res.setHeader('Content-Type', a.contentType);
  res.setHeader('Cache-Control', versioned ? 'public, max-age=31536000, immutable' : 'no-cache');
  res.setHeader('ETag', etag);
  res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader('Content-Security-Policy', BOARD_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  const inm = req.headers['if-none-match'];
  if (typeof inm === 'string' && inm.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) {
    res.status(304).end();
    return;
  }
  const gz = acceptsGzip(req);
  const body = gz ? a.gzip : a.body;
  if (gz) res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Content-Length', String(body.length));
  res.status(200).end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Mounts the board at `/` (index.html) and `/<file>`. `guard` runs first (e.g. the
 * loopback-only rule of `http.boardLocalOnly`).
 */
export function mountBoard(app: Express, assets: BoardAssets, guard?: RequestHandler): void {
  const pass: RequestHandler = (_req, _res, next) => next();
  const g = guard ?? pass;
  const index = assets.get('index.html')!;
  app.get('/', g, (req, res) => send(req, res, index));
  for (const a of assets.values()) app.get(`/${a.name}`, g, (req, res) => send(req, res, a));
}
