/**
 * Site-scoped access (issue 14 item 7) against a real collector in-process: real SQLite, real
 * HTTP, messages through the real ingest. A token of commune A sees nothing of commune B on
 * every route family (403 when B is named, B left out of lists, 404 for B's records by id),
 * nor on the live stream; a board login carries its token's scope; an operator silences only
 * its sites; a read token cannot silence; tokens and the audit log are the province's.
 */
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { CollectorConfigSchema } from '../../collector/config.js';
import { AgentUpdateStore } from '../../collector/agentupdate/agent-update-store.js';
import { silentLogger } from '../../common/log.js';
import { topicFor, type MessageKind } from '../../contract/topics.js';
import { validMessage } from '../helpers/hostile-payloads.js';
import { rawRequest, type RawResponse } from '../helpers/http-request.js';
import { waitFor } from '../helpers/wait.js';

const A = 'xa-a';
const B = 'xa-b';

let dataDir: string;
let collector: Collector;
let base: string;
let admin: string;
const tok: Record<string, string> = {};
let seq = 0;
let incidentB = 0;

function feed(site: string, kind: MessageKind, host: string, t = Date.now()): void {
  const m = validMessage(kind, site, host, ++seq, t, t, `boot-${site}-${host}`);
  const out = collector.ingest.handle(topicFor(site, host, kind), Buffer.from(JSON.stringify(m)));
  if (out.status !== 'accepted') throw new Error(`feed ${kind}: ${JSON.stringify(out)}`);
}

function call(path: string, token: string | undefined, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return rawRequest(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
}

async function mint(name: string, role: string, sites?: string[]): Promise<string> {
  const r = await call('/api/tokens', admin, { method: 'POST', body: { name, role, ...(sites ? { sites } : {}) } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  expect(r.body.sites).toEqual(sites ? [...sites].sort() : null);
  return r.body.token as string;
}

const sitesIn = (rows: Array<{ site: string }>) => [...new Set(rows.map((r) => r.site))].sort();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'canh-scopes-'));
  const announced: string[] = [];
  const config = CollectorConfigSchema.parse({
    dataDir,
    broker: { embedded: { host: '127.0.0.1', port: 0 } },
    http: { host: '127.0.0.1', port: 0 },
    sites: { [A]: { name: 'Xã A' }, [B]: { name: 'Xã B' } },
  });
  collector = await Collector.open(config, silentLogger(), { announce: (t) => void announced.push(t) });
  await collector.start();
  base = `http://127.0.0.1:${collector.http.port()}`;
  admin = /canh_[A-Za-z0-9_-]{43}/.exec(announced.join(''))![0];
  const now = Date.now();
  for (const site of [A, B]) {
    for (const kind of ['status', 'inventory', 'samples', 'events'] as const) feed(site, kind, 'pc-01', now - 5000);
  }
  // One incident and one host outage per site, through the outage store's write path.
  let id = 9000;
  for (const site of [A, B]) {
    const i = ++id;
    if (site === B) incidentB = i;
    collector.outageStore.apply(
      [
        {
          kind: 'incident',
          change: 'resolved',
          incident: {
            id: i,
            site,
            state: 'resolved',
            cause: 'power_cut',
            start: now - 600_000,
            end: now - 60_000,
            hosts: ['pc-01'],
            hostsOut: [],
            hostsOnlineBefore: 1,
            uncertaintyMs: 0,
            evidence: {},
          },
        },
        {
          kind: 'hostOutage',
          change: 'closed',
          outage: { id: i, site, host: 'pc-01', cause: 'power_loss', start: now - 600_000, end: now - 60_000, uncertaintyMs: 0, incidentId: i, evidence: {} },
        },
      ],
      undefined,
      { nextOutageId: 10_000, nextIncidentId: 10_000 },
    );
    // A resolved alert per site (the alerts table as the engine writes it).
    collector.db
      .prepare(
        `INSERT INTO alerts (id, fingerprint, rule, site, host, severity, state, active_since, pending_since, starts_at, ends_at, summary, hint, last_seen, active)
         VALUES (?, ?, 'host_offline', ?, 'pc-01', 'warning', 'resolved', ?, ?, ?, ?, ?, ?, ?, 0)`,
      )
      .run(
        i,
        `fp-${site}`,
        site,
        now - 600_000,
        now - 600_000,
        now - 600_000,
        now - 60_000,
        JSON.stringify({ vi: 'mất kết nối', en: 'offline' }),
        JSON.stringify({ vi: '', en: '' }),
        now - 60_000,
      );
  }
  tok.readA = await mint('đọc xã A', 'read', [A]);
  tok.opA = await mint('vận hành xã A', 'operator', [A]);
  tok.adminA = await mint('quản trị xã A', 'admin', [A]);
  tok.opAll = await mint('vận hành tỉnh', 'operator');
  tok.readAB = await mint('đọc A và B', 'read', [B, A]);
});

afterAll(async () => {
  await collector?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('a token of site A on every route family', () => {
  it('sites, hosts, history: B is left out of lists and 403 when named', async () => {
    const sites = await call('/api/sites', tok.readA);
    expect(sites.status).toBe(200);
    expect(sitesIn(sites.body.sites)).toEqual([A]);
    expect(sitesIn((await call('/api/sites', admin)).body.sites)).toEqual([A, B]);
    expect(sitesIn((await call('/api/sites', tok.readAB)).body.sites)).toEqual([A, B]);
    expect((await call(`/api/sites/${A}`, tok.readA)).status).toBe(200);
    const forbidden = await call(`/api/sites/${B}`, tok.readA);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toBe('forbidden');
    expect(JSON.stringify(forbidden.body)).not.toContain('Xã B');

    const hosts = await call('/api/hosts', tok.readA);
    expect(sitesIn(hosts.body.hosts)).toEqual([A]);
    expect(sitesIn((await call('/api/hosts', admin)).body.hosts)).toEqual([A, B]);
    for (const path of [`/api/hosts?site=${B}`, `/api/hosts/${B}/pc-01`, `/api/hosts/${B}/pc-01/samples`, `/api/history?site=${B}&metric=cpu`]) {
      expect((await call(path, tok.readA)).status, path).toBe(403);
      expect((await call(path, admin)).status, path).toBe(200);
    }
    expect((await call(`/api/hosts/${A}/pc-01`, tok.readA)).status).toBe(200);
    expect((await call(`/api/history?site=${A}&metric=cpu`, tok.readA)).status).toBe(200);
  });

  it('events, incidents, outages, counts: only A; B by name 403, B by id 404; the collector’s own events are the province’s', async () => {
    const from = Date.now() - 3_600_000;
    const events = await call(`/api/events?from=${from}`, tok.readA);
    expect(events.status).toBe(200);
    expect(sitesIn(events.body.events)).toEqual([A]);
    expect(sitesIn((await call(`/api/events?from=${from}`, admin)).body.events)).toEqual([A, B]);
    expect((await call(`/api/events?site=${B}`, tok.readA)).status).toBe(403);
    expect((await call(`/api/events?site=_collector`, tok.readA)).status).toBe(403);
    expect((await call(`/api/events?site=_collector`, admin)).status).toBe(200);

    for (const path of [`/api/incidents?from=${from}`, `/api/outages?from=${from}`]) {
      const key = path.startsWith('/api/incidents') ? 'incidents' : 'outages';
      const mine = await call(path, tok.readA);
      expect(mine.status, path).toBe(200);
      expect(sitesIn(mine.body[key]), path).toEqual([A]);
      expect(sitesIn((await call(path, admin)).body[key]), path).toEqual([A, B]);
      expect((await call(`${path}&site=${B}`, tok.readA)).status, path).toBe(403);
    }
    const counts = await call(`/api/incidents/counts?from=${from}`, tok.readA);
    expect(sitesIn(counts.body.counts)).toEqual([A]);
    expect(sitesIn((await call(`/api/incidents/counts?from=${from}`, admin)).body.counts)).toEqual([A, B]);
    expect((await call(`/api/incidents/counts?site=${B}`, tok.readA)).status).toBe(403);
    expect((await call(`/api/incidents/${incidentB}`, tok.readA)).status).toBe(404);
    expect((await call(`/api/incidents/${incidentB}`, admin)).status).toBe(200);
  });

  it('alerts and silences: only A', async () => {
    const alerts = await call('/api/alerts?state=all', tok.readA);
    expect(alerts.status).toBe(200);
    expect(sitesIn(alerts.body.alerts)).toEqual([A]);
    expect(sitesIn((await call('/api/alerts?state=all', admin)).body.alerts)).toEqual([A, B]);
    expect((await call(`/api/alerts?site=${B}`, tok.readA)).status).toBe(403);

    const endsAt = Date.now() + 3_600_000;
    for (const site of [A, B]) {
      expect((await call('/api/silences', admin, { method: 'POST', body: { matchers: { site }, endsAt, comment: `bảo trì ${site}` } })).status).toBe(201);
    }
    expect((await call('/api/silences', admin, { method: 'POST', body: { matchers: { rule: 'host_offline' }, endsAt, comment: 'toàn tỉnh' } })).status).toBe(201);
    const mine = (await call('/api/silences', tok.readA)).body.silences as Array<{ matchers: { site?: string } }>;
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((s) => s.matchers.site === A)).toBe(true);
    const all = (await call('/api/silences', admin)).body.silences as Array<{ matchers: { site?: string } }>;
    expect(all.some((s) => s.matchers.site === B) && all.some((s) => s.matchers.site === undefined)).toBe(true);
  });

  it('reports and their CSV export: A only; B and site=all are 403', async () => {
    expect((await call(`/api/reports?site=${B}&format=csv`, tok.readA)).status).toBe(403);
    expect((await call(`/api/reports?site=all&format=csv`, tok.readA)).status).toBe(403);
    expect((await call(`/api/reports?site=all`, tok.readAB)).status).toBe(403);
    const csv = await call(`/api/reports?site=${A}&format=csv`, tok.readA);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text).not.toContain(B);
  }, 60_000);

  it('tokens, the audit log and test notifications are the province’s: 403 for a scoped admin', async () => {
    for (const [method, path] of [
      ['GET', '/api/tokens'],
      ['GET', '/api/audit'],
      ['GET', '/api/audit?format=csv'],
    ] as const) {
      const r = await call(path, tok.adminA, { method });
      expect(r.status, path).toBe(403);
      expect((await call(path, admin, { method })).status, path).toBe(200);
    }
    const mint = await call('/api/tokens', tok.adminA, { method: 'POST', body: { name: 'leo thang', role: 'admin' } });
    expect(mint.status).toBe(403);
    expect((await call('/api/notify/test', tok.adminA, { method: 'POST', body: { channel: 'zalo' } })).status).toBe(403);
    expect((await call('/api/rules', tok.readA)).status).toBe(200);
  });

  it('site enrolment: a commune admin adds PCs to its own site only, and sees only its tokens and PCs', async () => {
    const own = await call('/api/enroll/tokens', tok.adminA, { method: 'POST', body: { site: A } });
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    const other = await call('/api/enroll/tokens', tok.adminA, { method: 'POST', body: { site: B } });
    expect(other.status).toBe(403);
    const byProvince = await call('/api/enroll/tokens', admin, { method: 'POST', body: { site: B } });
    expect(byProvince.status).toBe(201);
    const listA = await call('/api/enroll/tokens', tok.adminA);
    expect(sitesIn(listA.body.tokens)).toEqual([A]);
    expect(sitesIn((await call('/api/enroll/tokens', admin)).body.tokens)).toEqual([A, B]);
    // B's token cannot be revoked by A's admin (404: not even its existence is told).
    expect((await call(`/api/enroll/tokens/${byProvince.body.id}`, tok.adminA, { method: 'DELETE' })).status).toBe(404);
    expect((await call(`/api/enroll/machines?site=${B}`, tok.adminA)).status).toBe(403);
    expect((await call('/api/enroll/tokens', tok.readA, { method: 'POST', body: { site: A } })).status).toBe(403);
    // Audited, without the token.
    const audit = await call('/api/audit?action=enroll_token_create', admin);
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.body)).not.toContain(own.body.token as string);
    expect(audit.body.entries.filter((e: { action: string }) => e.action === 'enroll_token_create')).toHaveLength(2);
  });

  it('a board login carries the scope of its token', async () => {
    const login = await call('/api/auth/login', undefined, { method: 'POST', body: { token: tok.readA } });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ role: 'read', name: 'đọc xã A', sites: [A] });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const me = await call('/api/auth/me', undefined, { headers: { cookie } });
    expect(me.body.sites).toEqual([A]);
    expect(sitesIn((await call('/api/sites', undefined, { headers: { cookie } })).body.sites)).toEqual([A]);
    expect((await call(`/api/sites/${B}`, undefined, { headers: { cookie } })).status).toBe(403);
  });
});

describe('silences by role and scope', () => {
  const endsAt = () => Date.now() + 3_600_000;

  it('a read token cannot silence, even its own site', async () => {
    const r = await call('/api/silences', tok.readA, { method: 'POST', body: { matchers: { site: A }, endsAt: endsAt(), comment: 'thử' } });
    expect(r.status).toBe(403);
    expect(r.body.message).toMatch(/operator/);
  });

  it('an operator of A silences A only, must name the site, and expires only A’s silences', async () => {
    const own = await call('/api/silences', tok.opA, { method: 'POST', body: { matchers: { site: A, host: 'pc-01' }, endsAt: endsAt(), comment: 'thay ổ cứng' } });
    expect(own.status).toBe(201);
    const other = await call('/api/silences', tok.opA, { method: 'POST', body: { matchers: { site: B }, endsAt: endsAt(), comment: 'không được' } });
    expect(other.status).toBe(403);
    const everywhere = await call('/api/silences', tok.opA, { method: 'POST', body: { matchers: { rule: 'host_offline' }, endsAt: endsAt(), comment: 'không được' } });
    expect(everywhere.status).toBe(403);
    expect(everywhere.body.message).toMatch(/matchers\.site/);

    const theirs = await call('/api/silences', admin, { method: 'POST', body: { matchers: { site: B }, endsAt: endsAt(), comment: 'của xã B' } });
    expect((await call(`/api/silences/${theirs.body.id}`, tok.opA, { method: 'DELETE' })).status).toBe(404);
    const still = (await call('/api/silences?state=active', admin)).body.silences as Array<{ id: number }>;
    expect(still.some((s) => s.id === theirs.body.id)).toBe(true);
    expect((await call(`/api/silences/${own.body.id}`, tok.readA, { method: 'DELETE' })).status).toBe(403);
    expect((await call(`/api/silences/${own.body.id}`, tok.opA, { method: 'DELETE' })).status).toBe(204);
  });

  it('an operator of every site may silence a rule everywhere; it cannot manage tokens', async () => {
    const r = await call('/api/silences', tok.opAll, { method: 'POST', body: { matchers: { rule: 'host_offline' }, endsAt: endsAt(), comment: 'toàn tỉnh bảo trì' } });
    expect(r.status).toBe(201);
    expect((await call('/api/tokens', tok.opAll)).status).toBe(403);
  });
});

describe('remote agent configuration (issue 16)', () => {
  it("a commune admin sets and sees its own sites' agent settings only; read and operator tokens none; /api/hosts shows the version", async () => {
    const part = { intervalSeconds: 30 };
    expect((await call('/api/agent-config', tok.adminA, { method: 'PUT', body: { site: A, config: part } })).status).toBe(200);
    expect((await call('/api/agent-config', tok.adminA, { method: 'PUT', body: { site: B, config: part } })).status).toBe(403);
    expect((await call('/api/agent-config', tok.adminA, { method: 'PUT', body: { site: B, host: 'pc-01', config: part } })).status).toBe(403);
    expect((await call('/api/agent-config', tok.opA, { method: 'PUT', body: { site: A, config: part } })).status).toBe(403);
    expect((await call('/api/agent-config', tok.readA, { method: 'GET' })).status).toBe(403);
    expect((await call('/api/agent-config', admin, { method: 'PUT', body: { site: B, config: { intervalSeconds: 45 } } })).status).toBe(200);
    const listA = await call('/api/agent-config', tok.adminA);
    expect(sitesIn(listA.body.settings as Array<{ site: string }>)).toEqual([A]);
    expect(sitesIn((await call('/api/agent-config', admin)).body.settings as Array<{ site: string }>)).toEqual([A, B]);
    expect((await call(`/api/agent-config?site=${B}`, tok.adminA)).status).toBe(403);
    expect((await call(`/api/agent-config/host?site=${B}&host=pc-01`, tok.adminA)).status).toBe(403);
    const mine = await call(`/api/agent-config/host?site=${A}&host=pc-01`, tok.adminA);
    expect(mine.status).toBe(200);
    expect(mine.body.effective).toEqual(part);
    expect(mine.body.published).toEqual(expect.objectContaining({ version: 1 }));
    expect((await call(`/api/agent-config?site=${B}`, tok.adminA, { method: 'DELETE' })).status).toBe(403);
    // The read token of A sees its PCs' configuration version in /api/hosts, nothing of B.
    const hosts = (await call('/api/hosts', tok.readA)).body.hosts as Array<{ site: string; config: { version: number } | null }>;
    expect(hosts.map((h) => [h.site, h.config?.version])).toEqual([[A, 1]]);
    const audit = await call('/api/audit?action=agent_config_set', admin);
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.body)).toMatch(/site xa-a/);
    expect((await call(`/api/agent-config?site=${A}`, tok.adminA, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`/api/agent-config?site=${A}`, tok.adminA, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('agent updates (issue 16 item 2)', () => {
  it('a commune admin sees its own PCs; only an admin of every site starts or stops a rollout; read tokens nothing', async () => {
    new AgentUpdateStore(collector.db).addRelease({
      version: '9.1.0',
      platform: 'any',
      file: 'canh-agent-9.1.0.tar.gz',
      size: 10,
      sha256: 'a'.repeat(64),
      signature: 'A'.repeat(86) + '==',
      keyId: 'ab',
      publishedAt: Date.now(),
      publishedBy: 'test',
    });
    const body = { version: '9.1.0', share: 0, sites: [A] };
    expect((await call('/api/agent-update/rollout', tok.adminA, { method: 'PUT', body })).status).toBe(403);
    expect((await call('/api/agent-update', tok.readA)).status).toBe(403);
    expect((await call('/api/agent-update/rollout', admin, { method: 'PUT', body: { ...body, version: '9.9.9' } })).status).toBe(400);
    expect((await call('/api/agent-update/rollout', admin, { method: 'PUT', body: { ...body, share: 2 } })).status).toBe(400);
    const started = await call('/api/agent-update/rollout', admin, { method: 'PUT', body });
    expect(started.status).toBe(200);
    expect(started.body.rollout).toMatchObject({ version: '9.1.0', stage: 1, halted: null, first: { total: 1, updated: 0, failed: 0 } });
    const mine = await call('/api/agent-update', tok.adminA);
    expect(mine.status).toBe(200);
    expect(sitesIn(mine.body.hosts as Array<{ site: string }>)).toEqual([A]);
    expect((await call(`/api/agent-update?site=${B}`, tok.adminA)).status).toBe(403);
    expect(sitesIn((await call('/api/agent-update', admin)).body.hosts as Array<{ site: string }>)).toEqual([A, B]);
    expect(JSON.stringify((await call('/api/audit?action=agent_update_rollout', admin)).body)).toMatch(/version 9\.1\.0/);
    expect((await call('/api/agent-update/rollout', tok.adminA, { method: 'DELETE' })).status).toBe(403);
    expect((await call('/api/agent-update/rollout', admin, { method: 'DELETE' })).status).toBe(204);
    expect((await call('/api/agent-update/rollout', admin, { method: 'DELETE' })).status).toBe(404);
    // The package route serves published releases only (no login, nothing else from the folder).
    expect((await call('/install/releases/9.1.0/other.tar.gz', undefined)).status).toBe(404);
    expect((await call('/install/releases/..%2F..%2Fcanh.db/x', undefined)).status).toBe(404);
  });
});

/** The `update` events of an SSE stream, collected as they arrive. */
function openStream(token: string): { updates: Array<{ site: string; kind: string }>; close: () => void; opened: Promise<number> } {
  const updates: Array<{ site: string; kind: string }> = [];
  let buf = '';
  let resolveOpened: (status: number) => void = () => {};
  const opened = new Promise<number>((r) => (resolveOpened = r));
  const req = request(`${base}/api/stream`, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
    resolveOpened(res.statusCode ?? 0);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(block);
        if (/^event: update$/m.test(block) && data) updates.push(JSON.parse(data[1]!) as { site: string; kind: string });
      }
    });
  });
  req.on('error', () => {});
  req.end();
  return { updates, close: () => req.destroy(), opened };
}

describe('the live stream', () => {
  it('a client of site A hears of A only; a province client hears of both', async () => {
    const mine = openStream(tok.readA!);
    const all = openStream(admin);
    try {
      expect(await mine.opened).toBe(200);
      expect(await all.opened).toBe(200);
      await waitFor(() => collector.stream.clientCount() >= 2, { what: 'both SSE clients attached' });
      for (let round = 0; round < 3; round++) {
        feed(B, 'samples', 'pc-01');
        feed(A, 'samples', 'pc-01');
        await new Promise((r) => setTimeout(r, 1200));
      }
      await waitFor(() => all.updates.some((u) => u.site === A) && all.updates.some((u) => u.site === B), { what: 'the province client to hear of A and B' });
      await waitFor(() => mine.updates.some((u) => u.site === A), { what: 'the A client to hear of A' });
      expect(mine.updates.filter((u) => u.site !== A)).toEqual([]);
    } finally {
      mine.close();
      all.close();
    }
  }, 30_000);
});
