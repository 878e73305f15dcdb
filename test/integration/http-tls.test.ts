/**
 * HTTPS and reverse proxies (issue 14 item 9), with real requests: the collector serves TLS
 * from certificate files (a self-signed certificate made here with openssl), with HSTS and a
 * `Secure` session cookie, and refuses plain HTTP on that port; behind a reverse proxy, the
 * client address (limits, bans, audit) and the scheme come from X-Forwarded-For/-Proto only
 * when the connection is from a configured trusted proxy.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { CollectorConfigSchema } from '../../collector/config.js';
import { silentLogger } from '../../common/log.js';
import { rawRequest } from '../helpers/http-request.js';

let dir: string;
let certFile: string;
let keyFile: string;
const running: Collector[] = [];

async function startCollector(http: Record<string, unknown>): Promise<{ collector: Collector; admin: string; port: number }> {
  const announced: string[] = [];
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const config = CollectorConfigSchema.parse({ dataDir, broker: { embedded: { host: '127.0.0.1', port: 0 } }, http: { host: '127.0.0.1', port: 0, ...http } });
  const collector = await Collector.open(config, silentLogger(), { announce: (t) => void announced.push(t) });
  try {
    await collector.start();
  } catch (err) {
    await collector.stop().catch(() => {});
    throw err;
  }
  running.push(collector);
  return { collector, admin: /canh_[A-Za-z0-9_-]{43}/.exec(announced.join(''))![0], port: collector.http.port() };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'canh-tls-'));
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'pipe' },
    );
  } catch (err) {
    throw new Error(`this test needs openssl (apt-get install openssl): ${(err as Error).message}`, { cause: err });
  }
});

afterAll(async () => {
  for (const c of running) await c.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('HTTPS from certificate files', () => {
  it('serves the API and board over TLS with HSTS and a Secure cookie, and refuses plain HTTP', async () => {
    const { admin, port } = await startCollector({ tls: { certFile, keyFile } });
    const ca = readFileSync(certFile);
    const health = await rawRequest(`https://127.0.0.1:${port}/api/health`, { ca });
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toBe('max-age=31536000');
    const board = await rawRequest(`https://127.0.0.1:${port}/`, { ca });
    expect(board.status).toBe(200);
    expect(board.headers['strict-transport-security']).toBe('max-age=31536000');

    const login = await rawRequest(`https://127.0.0.1:${port}/api/auth/login`, { ca, method: 'POST', body: JSON.stringify({ token: admin }) });
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/HttpOnly/);
    const me = await rawRequest(`https://127.0.0.1:${port}/api/auth/me`, { ca, headers: { cookie: cookie.split(';')[0]! } });
    expect(me.status).toBe(200);

    // Plain HTTP to the TLS port gets no answer, and the certificate is checked by clients.
    await expect(rawRequest(`http://127.0.0.1:${port}/api/health`, { timeoutMs: 5000 })).rejects.toThrow();
    await expect(rawRequest(`https://127.0.0.1:${port}/api/health`)).rejects.toThrow(/self.signed|certificate/i);
  });

  it('refuses to start when the files cannot be read, and says which setting', async () => {
    await expect(startCollector({ tls: { certFile: join(dir, 'missing.pem'), keyFile } })).rejects.toThrow(/http\.tls/);
  });

  it('plain HTTP: no HSTS, no Secure cookie', async () => {
    const { admin, port } = await startCollector({});
    const login = await rawRequest(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', body: JSON.stringify({ token: admin }) });
    expect(login.status).toBe(200);
    expect(login.headers['strict-transport-security']).toBeUndefined();
    expect(String(login.headers['set-cookie'])).not.toMatch(/Secure/);
  });
});

describe('behind a reverse proxy', () => {
  it('believes X-Forwarded-For/-Proto from the trusted proxy only', async () => {
    const { collector, admin, port } = await startCollector({ trustedProxies: ['127.0.0.30'] });
    const url = `http://127.0.0.1:${port}/api/auth/login`;
    const body = JSON.stringify({ token: admin });

    const proxied = await rawRequest(url, { from: '127.0.0.30', method: 'POST', body, headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' } });
    expect(proxied.status).toBe(200);
    expect(String(proxied.headers['set-cookie'])).toMatch(/; Secure/);
    expect(proxied.headers['strict-transport-security']).toBe('max-age=31536000');

    const spoofed = await rawRequest(url, { from: '127.0.0.31', method: 'POST', body, headers: { 'x-forwarded-for': '203.0.113.8', 'x-forwarded-proto': 'https' } });
    expect(spoofed.status).toBe(200);
    expect(String(spoofed.headers['set-cookie'])).not.toMatch(/Secure/);
    expect(spoofed.headers['strict-transport-security']).toBeUndefined();

    const logins = collector.audit.page({ from: 0, to: Date.now() + 1, action: 'login', limit: 10 });
    expect(logins.map((e) => e.client).sort()).toEqual(['127.0.0.31', '203.0.113.7']);
  });

  it('bans the client behind the proxy, not the proxy; a direct client cannot dodge its ban with a forged header', async () => {
    const { admin, port } = await startCollector({ trustedProxies: ['127.0.0.40'] });
    const sites = `http://127.0.0.1:${port}/api/sites`;
    const bad = { authorization: `Bearer canh_${'X'.repeat(43)}` };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await rawRequest(sites, { from: '127.0.0.40', headers: { ...bad, 'x-forwarded-for': '198.51.100.9' } })).status);
    expect(statuses.slice(-1)).toEqual([429]);
    // Another client through the same proxy is served.
    expect((await rawRequest(sites, { from: '127.0.0.40', headers: { authorization: `Bearer ${admin}`, 'x-forwarded-for': '198.51.100.10' } })).status).toBe(200);

    const direct: number[] = [];
    for (let i = 0; i < 8; i++) direct.push((await rawRequest(sites, { from: '127.0.0.41', headers: { ...bad, 'x-forwarded-for': `192.0.2.${i}` } })).status);
    expect(direct.slice(-1)).toEqual([429]);
  });

  it('refuses a trusted proxy that is not an address or range, at config time', () => {
    const r = CollectorConfigSchema.safeParse({ http: { trustedProxies: ['10.0.0.0/8', 'proxy.local'] } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error!.issues)).toMatch(/trustedProxies/);
    expect(CollectorConfigSchema.safeParse({ http: { trustedProxies: ['10.0.0.0/8', '::1', 'loopback'] } }).success).toBe(true);
  });
});
