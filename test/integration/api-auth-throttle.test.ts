/**
 * Guessing bearer tokens on `/api/*` (issue 14 item 6): with real HTTP requests from loopback
 * addresses of their own, failed bearer authentications count towards the login limiter's
 * failed-authentication bucket, the address is banned (429 + Retry-After) for any token,
 * even a valid one (else 200 against 429 would tell a guess apart), other addresses are
 * served, and the ban is counted, logged once and audited. It failed before the fix: 30 of
 * 30 guesses were answered 401.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { CollectorConfigSchema } from '../../collector/config.js';
import { silentLogger } from '../../common/log.js';
import { rawRequest } from '../helpers/http-request.js';

let dataDir: string;
let collector: Collector;
let base: string;
let admin: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'canh-throttle-'));
  const announced: string[] = [];
  // The default login limit: 10 a minute, bursts of 5.
  const config = CollectorConfigSchema.parse({ dataDir, broker: { embedded: { host: '127.0.0.1', port: 0 } }, http: { host: '127.0.0.1', port: 0 } });
  collector = await Collector.open(config, silentLogger(), { announce: (t) => void announced.push(t) });
  await collector.start();
  base = `http://127.0.0.1:${collector.http.port()}`;
  admin = /canh_[A-Za-z0-9_-]{43}/.exec(announced.join(''))![0];
});

afterAll(async () => {
  await collector?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const guess = (i: number) => `canh_${String(i).padStart(43, 'G')}`;

describe('bearer-token guessing', () => {
  it('bans the address after the burst, for every token; other addresses are served', async () => {
    const statuses: number[] = [];
    let retryAfter = 0;
    for (let i = 0; i < 30; i++) {
      const r = await rawRequest(`${base}/api/sites`, { from: '127.0.0.20', headers: { authorization: `Bearer ${guess(i)}` } });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = Number(r.headers['retry-after']);
    }
    // Five failures are free (the burst); the sixth is answered and bans; the rest are refused unchecked.
    expect(statuses.filter((s) => s === 401).length).toBe(6);
    expect(statuses.slice(6).every((s) => s === 429)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(50);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // A valid token from the banned address: 429 too, never checked.
    const valid = await rawRequest(`${base}/api/sites`, { from: '127.0.0.20', headers: { authorization: `Bearer ${admin}` } });
    expect(valid.status).toBe(429);
    expect(valid.body.error).toBe('rate_limited');
    const login = await rawRequest(`${base}/api/auth/login`, { from: '127.0.0.20', method: 'POST', body: JSON.stringify({ token: admin }) });
    expect(login.status).toBe(429);
    // Another address is not affected.
    expect((await rawRequest(`${base}/api/sites`, { from: '127.0.0.21', headers: { authorization: `Bearer ${admin}` } })).status).toBe(200);
    // Requests without credentials are not guesses: a plain 401, no ban.
    expect((await rawRequest(`${base}/api/sites`, { from: '127.0.0.22' })).status).toBe(401);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/canh_http_auth_failures_total\{kind="bearer"\} 6\b/);
    expect(metrics).toMatch(/canh_http_auth_bans_total 1\b/);
    expect(metrics).toMatch(/canh_http_auth_banned 1\b/);
    expect(metrics).toMatch(/canh_http_rate_limited_total\{limiter="auth"\} 2[0-9]\b/);
    const bans = collector.audit.page({ from: 0, to: Date.now() + 1, action: 'auth_ban', limit: 10 });
    expect(bans).toHaveLength(1);
    expect(bans[0]!.client).toBe('127.0.0.20');
  });

  it('failed logins and failed bearer tokens share one bucket', async () => {
    const from = '127.0.0.23';
    for (let i = 0; i < 3; i++) {
      expect((await rawRequest(`${base}/api/auth/login`, { from, method: 'POST', body: JSON.stringify({ token: guess(100 + i) }) })).status).toBe(401);
    }
    const after: number[] = [];
    for (let i = 0; i < 4; i++) after.push((await rawRequest(`${base}/api/hosts`, { from, headers: { authorization: `Bearer ${guess(200 + i)}` } })).status);
    expect(after).toEqual([401, 401, 401, 429]);
    const failed = collector.audit.page({ from: 0, to: Date.now() + 1, action: 'login_failed', limit: 10 });
    expect(failed.filter((e) => e.client === from)).toHaveLength(3);
  });
});
