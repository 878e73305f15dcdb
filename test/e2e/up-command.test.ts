/**
 * `canh up` (the quick start) as a user runs it: on the first start it prints the board's
 * address and the admin token once (under its banner, not in the JSON log); the token logs
 * in; the local agent's PC shows on /api/sites. A second start prints no token, only how to
 * make one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { startCanh, type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const root = mkdtempSync(join(tmpdir(), 'canh-up-'));
const dataDir = join(root, 'data');
let up: CanhProcess | undefined;

afterAll(async () => {
  await up?.stop('SIGTERM', 15_000);
  rmSync(root, { recursive: true, force: true });
});

async function startUp(httpPort: number, mqttPort: number): Promise<CanhProcess> {
  const p = startCanh(['up', '--data-dir', dataDir, '--site', 'xa-up', '--interval', '1'], {
    CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
    CANH_COLLECTOR__HTTP__PORT: String(httpPort),
    CANH_COLLECTOR__BROKER__EMBEDDED__HOST: '127.0.0.1',
    CANH_COLLECTOR__BROKER__EMBEDDED__PORT: String(mqttPort),
    // The local agent pings loopback only and probes no portal (tests stay off the network).
    CANH_AGENT__PING__GATEWAY: 'false',
    CANH_AGENT__PING__TARGETS: '["127.0.0.1"]',
    CANH_AGENT__PING__COUNT: '2',
    CANH_AGENT__HTTP__PROBES: '[]',
  });
  await waitFor(() => p.output().includes('Ctrl+C'), { timeoutMs: 30_000, what: 'the canh up banner' });
  return p;
}

describe('canh up', () => {
  it('prints the board address and the admin token once; the token works; the local PC reports', async () => {
    const httpPort = await freePort();
    const mqttPort = await freePort();
    up = await startUp(httpPort, mqttPort);
    const out = up.output();
    expect(out).toContain(`http://localhost:${httpPort}/`);
    const token = /canh_[A-Za-z0-9_-]{43}/.exec(out)?.[0];
    expect(token, out.slice(-2000)).toBeDefined();
    for (const l of out.split('\n').filter((x) => x.startsWith('{'))) expect(l).not.toContain(token!);
    const base = `http://127.0.0.1:${httpPort}`;
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    await waitFor(
      async () => {
        const r = (await (await fetch(`${base}/api/sites`, { headers: { cookie } })).json()) as { sites?: Array<{ site: string; hostsOnline: number }> };
        return r.sites?.some((s) => s.site === 'xa-up' && s.hostsOnline === 1) ?? false;
      },
      { timeoutMs: 30_000, what: 'the local PC online on /api/sites' },
    );
    await up.stop('SIGTERM', 15_000);

    up = await startUp(httpPort, mqttPort);
    expect(up.output()).not.toMatch(/canh_[A-Za-z0-9_-]{43}/);
    expect(up.output()).toContain('canh tokens create');
    const me = await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
  });
});
