/**
 * Remote agent configuration end to end (issue 16 item 1): a collector process, real agent
 * processes (the dist bundle), the embedded broker and Mosquitto with the exported ACL.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKERS, createDeployment, type Deployment } from '../helpers/deployment.js';
import { addCredential, runCanhSync } from '../helpers/processes.js';
import { rawRequest } from '../helpers/http-request.js';
import { waitFor } from '../helpers/wait.js';

const SITE = 'xa-cfg';
const CHROMIUM = '/usr/bin/chromium';

interface HostsAnswer {
  hosts: Array<{ host: string; config: { version: number | null; report: { version: number; state: string; reason: string | null } | null } | null }>;
}

describe.each(BROKERS)('remote agent configuration end to end (%s broker)', (broker) => {
  let dep: Deployment;
  let agent: Awaited<ReturnType<Deployment['startAgent']>>;

  beforeAll(async () => {
    dep = await createDeployment('canh-e2e-cfg-', { broker });
    await dep.startCollector();
    agent = await dep.startAgent(SITE, 'pc-1');
    await waitFor(() => samples('pc-1').length >= 2, { timeoutMs: 30_000, what: 'first samples' });
  }, 90_000);
  afterAll(async () => {
    await dep?.stopAll();
  });

  const samples = (host: string, after = 0) =>
    dep.query<{ interval: number; metrics: string; received: number }>(`SELECT interval, metrics, received FROM samples WHERE host = ? AND received > ? ORDER BY id`, host, after);
  /** Samples taken after `at` (one taken before may arrive later: a re-send on a loaded machine). */
  const takenAfter = (host: string, at: number) =>
    dep.query<{ interval: number; metrics: string }>(`SELECT interval, metrics FROM samples WHERE host = ? AND t_agent > ? ORDER BY id`, host, at);
  const configEvents = (host: string) =>
    dep
      .query<{ details: string }>(`SELECT details FROM events WHERE host = ? AND type = 'config' ORDER BY id`, host)
      .map((e) => JSON.parse(e.details) as { state: string; version: number; reason?: string; restart?: boolean });
  const hostConfig = async (host: string) => (await dep.api<HostsAnswer>(`/api/hosts?site=${SITE}`)).hosts.find((h) => h.host === host)?.config ?? null;
  const put = (body: unknown) =>
    rawRequest(`http://127.0.0.1:${dep.httpPort}/api/agent-config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${dep.apiToken()}` },
      body: JSON.stringify(body),
    });
  const pingTargets = (metrics: string) => ((JSON.parse(metrics) as { ping?: Array<{ target: string }> }).ping ?? []).map((p) => p.target);

  it('a change is applied live (interval and ping targets, no restart) and reported as applied in /api/hosts', async () => {
    const res = await put({ site: SITE, config: { intervalSeconds: 2, ping: { targets: ['127.0.0.1', '127.0.0.2'] } } });
    expect(res.status).toBe(200);
    const applied = await agent.agent.waitFor((l) => l.msg === 'remote configuration applied live', 20_000, 'applied live');
    expect(applied.version).toBe(1);
    expect(applied.intervalSeconds).toBe(2);
    const at = Date.now();
    await waitFor(() => takenAfter('pc-1', at).length >= 2, { timeoutMs: 20_000, what: 'samples after the change' });
    expect(takenAfter('pc-1', at).map((s) => s.interval)).toEqual(takenAfter('pc-1', at).map(() => 2));
    // The pings restart with the new period (one sample without them), then both targets answer.
    await waitFor(() => samples('pc-1', at).some((s) => pingTargets(s.metrics).includes('127.0.0.2')), { timeoutMs: 20_000, what: 'a ping of the new target' });
    expect(pingTargets(samples('pc-1', at).at(-1)!.metrics)).toEqual(expect.arrayContaining(['127.0.0.1', '127.0.0.2']));
    // Same process: applied live, not restarted.
    expect(agent.agent.proc.exitCode).toBeNull();
    expect(agent.agent.logs().filter((l) => l.msg === 'agent starting')).toHaveLength(1);
    await waitFor(async () => (await hostConfig('pc-1'))?.report?.state === 'applied', { timeoutMs: 20_000, what: 'report in /api/hosts' });
    expect(await hostConfig('pc-1')).toEqual({ version: 1, report: expect.objectContaining({ version: 1, state: 'applied', reason: null }) });
    expect(configEvents('pc-1')).toEqual([expect.objectContaining({ state: 'applied', version: 1, restart: false })]);
  });

  it('the API refuses what the agent schema refuses, and keys that may not be set remotely', async () => {
    const bad = await put({ site: SITE, config: { intervalSeconds: 0 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/intervalSeconds/);
    const creds = await put({ site: SITE, host: 'pc-1', config: { mqtt: { password: 'x' } } });
    expect(creds.status).toBe(400);
    expect(JSON.stringify(creds.body)).toMatch(/mqtt/);
    const state = await put({ site: SITE, config: { stateDir: '/tmp/x' } });
    expect(state.status).toBe(400);
  });

  it('an invalid configuration that reaches the agent is refused and reported; the old one keeps running', async () => {
    // What an older or newer collector could hold: written straight into the store, then picked up.
    const db = new Database(join(dep.dataDir, 'canh.db'));
    try {
      db.prepare(`INSERT INTO agent_config_settings (site, host, config, updated_at, updated_by) VALUES (?, ?, ?, ?, 'test')`).run(
        SITE,
        'pc-1',
        JSON.stringify({ intervalSeconds: 5000 }),
        Date.now(),
      );
      db.prepare(`UPDATE agent_config_revision SET revision = revision + 1`).run();
    } finally {
      db.close();
    }
    const refused = await agent.agent.waitFor((l) => l.msg === 'remote configuration refused; the current one stays', 20_000, 'refused');
    expect(refused.version).toBe(2);
    expect(String(refused.reason)).toMatch(/intervalSeconds/);
    await waitFor(async () => (await hostConfig('pc-1'))?.report?.state === 'refused', { timeoutMs: 20_000, what: 'refusal in /api/hosts' });
    const report = (await hostConfig('pc-1'))!.report!;
    expect(report).toEqual(expect.objectContaining({ version: 2, state: 'refused' }));
    expect(report.reason).toMatch(/intervalSeconds/);
    const at = Date.now();
    await waitFor(() => samples('pc-1', at).length >= 2, { timeoutMs: 20_000, what: 'samples after the refusal' });
    expect(samples('pc-1', at).every((s) => s.interval === 2)).toBe(true);
    expect(agent.agent.proc.exitCode).toBeNull();
    // The board's PC page says it, in Vietnamese (embedded run: one browser is enough).
    if (broker === 'embedded') {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' })).newPage();
        await page.goto(`http://127.0.0.1:${dep.httpPort}/`);
        await page.waitForSelector('#login-form');
        await page.fill('#token', dep.apiToken());
        await page.click('#login-submit');
        await page.waitForFunction(() => document.getElementById('view')?.getAttribute('data-view') !== 'login');
        await page.goto(`http://127.0.0.1:${dep.httpPort}/#/host/${SITE}/pc-1/1h`);
        await page.waitForSelector('#host-config');
        const text = await page.textContent('#host-config');
        expect(text).toMatch(/^phiên bản 2 — bị từ chối: intervalSeconds/);
        expect(await page.getAttribute('#host-config', 'class')).toBe('warn');
        // The site's PC table flags it too, with the reason on hover.
        await page.goto(`http://127.0.0.1:${dep.httpPort}/#/site/${SITE}`);
        const badge = page.locator('tr[data-host="pc-1"] .cfg-state');
        await badge.waitFor();
        expect(await badge.textContent()).toBe('Cấu hình từ xa 2: bị từ chối');
        expect(await badge.getAttribute('title')).toMatch(/intervalSeconds/);
      } finally {
        await browser.close();
      }
    }
    // Put it right for what follows (the CLI, as an admin would).
    const f = join(agent.stateDir, '..', 'part.json');
    await import('node:fs').then((fs) => fs.writeFileSync(f, JSON.stringify({ intervalSeconds: 2 })));
    const cli = runCanhSync(['agent-config', 'set', '--site', SITE, '--host', 'pc-1', '--file', f, '--data-dir', dep.dataDir, '--lang', 'en']);
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    const fixed = await agent.agent.waitFor((l) => l.msg === 'remote configuration applied live' && l.version === 3, 20_000, 'version 3 applied');
    expect(fixed.changed).toEqual([]);
    const show = runCanhSync(['agent-config', 'show', '--site', SITE, '--host', 'pc-1', '--json', '--data-dir', dep.dataDir]);
    expect(show.status).toBe(0);
    const shown = JSON.parse(show.stdout) as { effective: unknown; published: { version: number } };
    expect(shown.effective).toEqual({ intervalSeconds: 2, ping: { targets: ['127.0.0.1', '127.0.0.2'] } });
    expect(shown.published.version).toBe(3);
  });

  it('a collector restart re-applies nothing and loses nothing', async () => {
    const eventsBefore = configEvents('pc-1').length;
    const applied = () => agent.agent.logs().filter((l) => String(l.msg).startsWith('remote configuration applied')).length;
    const appliedBefore = applied();
    const unchanged = () => agent.agent.logs().filter((l) => l.msg === 'remote configuration unchanged').length;
    const unchangedBefore = unchanged();
    await dep.collector!.stop('SIGTERM', 15_000);
    await dep.startCollector();
    // The retained message reaches the agent again (same version and hash) and changes nothing.
    await waitFor(() => unchanged() > unchangedBefore, { timeoutMs: 30_000, what: 'the retained configuration seen again' });
    const at = Date.now();
    await waitFor(() => samples('pc-1', at).length >= 2, { timeoutMs: 30_000, what: 'samples after the collector restart' });
    expect(samples('pc-1', at).every((s) => s.interval === 2)).toBe(true);
    expect(applied()).toBe(appliedBefore);
    expect(configEvents('pc-1')).toHaveLength(eventsBefore);
    expect(await hostConfig('pc-1')).toEqual({ version: 3, report: expect.objectContaining({ version: 3, state: 'applied' }) });
  });

  it('a key that cannot change live restarts the agent (exit 3); restarted, it runs with it and applies nothing again', async () => {
    const res = await put({ site: SITE, config: { intervalSeconds: 2, ping: { targets: ['127.0.0.1', '127.0.0.2'] }, freeze: { thresholdSeconds: 20 } } });
    expect(res.status).toBe(200);
    expect(await agent.agent.exited()).toBe(3);
    expect(configEvents('pc-1').length).toBeGreaterThan(0);
    // What systemd (Restart=on-failure) or the Windows service wrapper does.
    agent = await dep.startAgent(SITE, 'pc-1', { stateDir: agent.stateDir, cred: agent.cred });
    await agent.agent.waitFor((l) => l.msg === 'remote configuration unchanged' && l.version === 4, 30_000, 'version 4 remembered');
    const at = Date.now();
    await waitFor(() => samples('pc-1', at).length >= 2, { timeoutMs: 30_000, what: 'samples after the restart' });
    expect(samples('pc-1', at).every((s) => s.interval === 2)).toBe(true);
    await waitFor(() => configEvents('pc-1').some((e) => e.version === 4), { timeoutMs: 20_000, what: 'the report of version 4' });
    expect(configEvents('pc-1').filter((e) => e.version === 4)).toEqual([expect.objectContaining({ state: 'applied', restart: true })]);
  });

  it('an agent cannot publish on any config topic, nor read another PC’s', async () => {
    const cred = addCredential(dep.dataDir, SITE, 'pc-2');
    if (broker === 'mosquitto') {
      // As an operator does: export the credentials to Mosquitto and reload it.
      const r = runCanhSync(['credentials', 'export-mosquitto', '--data-dir', dep.dataDir, '--dir', join(dep.dataDir, '..', 'mosquitto')]);
      expect(r.status).toBe(0);
      dep.mosquitto!.kill('SIGHUP');
    }
    const connect = () => mqtt.connectAsync(`mqtt://127.0.0.1:${dep.mqttPort}`, { ...cred, clientId: cred.username, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
    const c = await waitFor(() => connect().catch(() => undefined), { timeoutMs: 15_000, what: 'pc-2 connected' });
    const got: string[] = [];
    c.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    try {
      const own = await c.subscribeAsync(`canh/v1/${SITE}/pc-2/config`, { qos: 1 });
      expect(own[0]!.qos).toBe(1);
      // pc-1 has a retained configuration (version 4): never delivered to pc-2. The embedded
      // broker refuses the SUBSCRIBE (0x80); Mosquitto 2 grants it and delivers nothing.
      for (const filter of [`canh/v1/${SITE}/pc-1/config`, `canh/v1/${SITE}/+/config`, 'canh/v1/#']) {
        const sub = c.subscribeAsync(filter, { qos: 1 });
        if (broker === 'embedded') await expect(sub).rejects.toThrow(/Subscribe error/);
        else await sub;
      }
      await new Promise((r) => setTimeout(r, 1500));
      expect(got).toEqual([]);
      const fake = JSON.stringify({ v: 1, version: 99, hash: 'abcdef', config: { intervalSeconds: 60 } });
      for (const host of ['pc-1', 'pc-2']) {
        // The embedded broker cuts the connection, Mosquitto drops the message: either way nothing is delivered or kept.
        await Promise.race([c.publishAsync(`canh/v1/${SITE}/${host}/config`, fake, { qos: 1, retain: true }).catch(() => undefined), new Promise((r) => setTimeout(r, 1500))]);
      }
    } finally {
      await c.endAsync(true).catch(() => undefined);
    }
    // A new subscriber of pc-2's own topic gets no retained message: nothing was ever kept there.
    const check = await connect();
    const later: string[] = [];
    check.on('message', (t, p) => later.push(`${t} ${p.toString()}`));
    await check.subscribeAsync(`canh/v1/${SITE}/pc-2/config`, { qos: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    await check.endAsync(true);
    expect(later).toEqual([]);
    // pc-1 never saw version 99, and still has its own.
    expect(agent.agent.logs().some((l) => l.version === 99)).toBe(false);
    expect(configEvents('pc-1').some((e) => e.version === 99)).toBe(false);
    expect((await hostConfig('pc-1'))?.version).toBe(4);
  });
});
