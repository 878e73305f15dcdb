/**
 * The API with real processes: a collector process prints its first admin token once (on
 * stdout, not in the JSON log), `canh tokens create|list|revoke` manage tokens while it
 * runs, and a real agent's figures come back through /api/sites, /api/sites/:site and
 * /api/history once the rollup job has run.
 */
import type { Json } from '../helpers/json.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { runCanhSync } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const SITE = 'xa-api';
let dep: Deployment;
let admin: string;
let firstOutput: string;

async function get(path: string, token: string): Promise<{ status: number; body: Json }> {
  const url = `http://127.0.0.1:${dep.httpPort}${path}`;
  const init = { headers: { authorization: `Bearer ${token}` } };
  // runCanhSync blocks this process for seconds: a keep-alive socket the server closed in
  // the meantime may be reused once before its close is seen. One retry on that.
  const res = await fetch(url, init).catch(() => fetch(url, init));
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  dep = await createDeployment('canh-api-e2e-');
  // Roll up every 2 s instead of every minute, so the test need not wait.
  const c = await dep.startCollector({ CANH_COLLECTOR__HISTORY__ROLLUP_CRON: '*/2 * * * * *' });
  await waitFor(() => /canh_[A-Za-z0-9_-]{43}/.test(c.output()), { what: 'admin token on stdout' });
  firstOutput = c.output();
  admin = /canh_[A-Za-z0-9_-]{43}/.exec(firstOutput)![0];
});

afterAll(async () => {
  await dep?.stopAll();
});

describe('API tokens and data with real processes', () => {
  it('prints the first admin token once on stdout, never in a JSON log line', async () => {
    expect(firstOutput).toContain('chỉ hiện một lần');
    const logLines = firstOutput.split('\n').filter((l) => l.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(0);
    for (const l of logLines) expect(l).not.toContain(admin);
    expect((await get('/api/auth/me', admin)).body).toMatchObject({ role: 'admin', name: 'admin' });
  });

  it('canh tokens create / list / revoke work against the running collector', async () => {
    const created = runCanhSync(['tokens', 'create', '--data-dir', dep.dataDir, '--name', 'Cán bộ xã', '--role', 'read', '--json']);
    expect(created.status, created.stderr).toBe(0);
    const { id, token } = JSON.parse(created.stdout) as { id: number; token: string };
    expect((await get('/api/sites', token)).status).toBe(200);
    expect((await get('/api/tokens', token)).status).toBe(403);

    const list = runCanhSync(['tokens', 'list', '--data-dir', dep.dataDir, '--json']);
    const tokens = JSON.parse(list.stdout) as Array<{ id: number; name: string; role: string }>;
    expect(tokens.map((t) => [t.name, t.role])).toEqual([
      ['admin', 'admin'],
      ['Cán bộ xã', 'read'],
    ]);
    expect(list.stdout).not.toContain(token.slice(10));

    const bad = runCanhSync(['tokens', 'create', '--data-dir', dep.dataDir, '--name', 'x', '--role', 'root']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--role must be read, operator or admin');
    const badSites = runCanhSync(['tokens', 'create', '--data-dir', dep.dataDir, '--name', 'x', '--role', 'read', '--sites', 'Xã A,xa-b']);
    expect(badSites.status).toBe(2);
    expect(badSites.stderr).toContain('--sites: not a site id: "Xã A"');

    const revoked = runCanhSync(['tokens', 'revoke', String(id), '--data-dir', dep.dataDir]);
    expect(revoked.status, revoked.stderr).toBe(0);
    expect((await get('/api/sites', token)).status).toBe(401);
    expect(runCanhSync(['tokens', 'revoke', String(id), '--data-dir', dep.dataDir]).status).toBe(1);
  });

  it("a real agent's figures come back through sites, site page and history", async () => {
    await dep.startAgent(SITE, 'pc-01');
    await waitFor(async () => (await get('/api/sites', admin)).body.sites?.some((s: Json) => s.site === SITE && s.hostsOnline === 1), {
      timeoutMs: 30_000,
      what: 'site tile online',
    });
    const site = (await get(`/api/sites/${SITE}`, admin)).body;
    expect(site.hosts).toHaveLength(1);
    expect(site.hosts[0]).toMatchObject({ host: 'pc-01', state: 'online' });
    await waitFor(async () => (await get(`/api/sites/${SITE}`, admin)).body.hosts[0].cpu !== null, { timeoutMs: 20_000, what: 'CPU figure' });
    // Rolled up by the scheduled job, read back per minute.
    await waitFor(async () => ((await get(`/api/history?site=${SITE}&host=pc-01&metric=cpu&resolution=1m`, admin)).body.series?.[0]?.points?.length ?? 0) > 0, {
      timeoutMs: 20_000,
      what: '1m rollup of cpu',
    });
    // The first ping result comes with a later sample than the first CPU figure.
    await waitFor(async () => ((await get(`/api/history?site=${SITE}&metric=ping_loss&resolution=raw`, admin)).body.series?.length ?? 0) > 0, {
      timeoutMs: 30_000,
      what: 'ping series',
    });
    const ping = (await get(`/api/history?site=${SITE}&metric=ping_loss&resolution=raw`, admin)).body;
    expect(ping.series[0]).toMatchObject({ host: 'pc-01', key: '127.0.0.1' });
    expect(ping.series[0].points.length).toBeGreaterThan(0);
    const metrics = await dep.metrics();
    expect(metrics).toMatch(/canh_rollup_samples_total [1-9]/);
  });

  it('does not print a new admin token when the collector restarts', async () => {
    await dep.collector!.stop();
    const again = await dep.startCollector();
    await waitFor(async () => (await get('/api/auth/me', admin)).status === 200, { what: 'API back' });
    expect(again.output()).not.toMatch(/canh_[A-Za-z0-9_-]{43}/);
    expect(again.output()).not.toContain('chỉ hiện một lần');
  });
});
