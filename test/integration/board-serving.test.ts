/**
 * How the collector serves the board's files over HTTP (loopback): content types, the
 * strict CSP, year-long caching only for the content-hashed URL index.html names,
 * revalidation with ETag (304), gzip, HEAD, and the guard (http.boardLocalOnly) in front.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOARD_CSP, loadBoardAssets, mountBoard, type BoardAssets } from '../../collector/http/board-assets.js';

let server: Server;
let base: string;
let assets: BoardAssets;
let guarded = 0;

beforeAll(async () => {
  assets = loadBoardAssets();
  const app = express();
  app.set('query parser', 'simple');
  mountBoard(app, assets, (req, res, next) => {
    guarded++;
    if (req.headers['x-test-deny']) return void res.status(403).json({ error: 'forbidden' });
    next();
  });
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('board over HTTP', () => {
  it('serves index.html at / with the strict CSP, revalidated on every load', async () => {
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('content-security-policy')).toBe(BOARD_CSP);
    expect(r.headers.get('cache-control')).toBe('no-cache');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await r.text();
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain(`app.js?v=${assets.get('app.js')!.hash}`);
  });

  it.each([
    ['app.js', 'text/javascript; charset=utf-8'],
    ['style.css', 'text/css; charset=utf-8'],
    ['uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
    ['uPlot.min.css', 'text/css; charset=utf-8'],
    ['favicon.svg', 'image/svg+xml'],
  ])('%s: right type, immutable under its hash, no-cache without it', async (name, type) => {
    const a = assets.get(name)!;
    const v = await fetch(`${base}/${name}?v=${a.hash}`);
    expect(v.status).toBe(200);
    expect(v.headers.get('content-type')).toBe(type);
    expect(v.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await v.arrayBuffer()).equals(a.body)).toBe(true);
    const old = await fetch(`${base}/${name}?v=0123456789abcdef`);
    expect(old.headers.get('cache-control')).toBe('no-cache');
  });

  it('gzips for clients that accept it and answers 304 to a matching ETag', async () => {
    const a = assets.get('uPlot.iife.min.js')!;
    const { request } = await import('node:http');
    const raw = await new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      request(`${base}/uPlot.iife.min.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(raw.status).toBe(200);
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.headers.vary).toBe('Accept-Encoding');
    expect(raw.body.length).toBeLessThan(a.body.length / 2);
    expect(gunzipSync(raw.body).equals(a.body)).toBe(true);
    const etag = raw.headers.etag as string;
    const again = await fetch(`${base}/uPlot.iife.min.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const changed = await fetch(`${base}/uPlot.iife.min.js`, { headers: { 'if-none-match': '"other"' } });
    expect(changed.status).toBe(200);
  });

  it('answers HEAD without a body, and runs the guard first', async () => {
    const h = await fetch(`${base}/app.js`, { method: 'HEAD' });
    expect(h.status).toBe(200);
    expect((await h.arrayBuffer()).byteLength).toBe(0);
    const before = guarded;
    const denied = await fetch(`${base}/`, { headers: { 'x-test-deny': '1' } });
    expect(denied.status).toBe(403);
    expect(guarded).toBe(before + 1);
  });

  it('serves nothing else from the board folder', async () => {
    expect((await fetch(`${base}/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/board-assets.ts`)).status).toBe(404);
    // The script's modules are in app.js, not served one by one.
    for (const m of ['main.js', 'i18n.js', 'series.js', 'views/alerts.js']) expect((await fetch(`${base}/${m}`)).status, m).toBe(404);
  });
});
