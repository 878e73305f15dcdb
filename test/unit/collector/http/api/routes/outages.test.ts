import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { silentLogger } from '../../../../../../common/log.js';
import type { ApiContext } from '../../../../../../collector/http/api/api-module.js';
import { outageRoutes } from '../../../../../../collector/http/api/routes/outages.js';
import { SqliteOutageStore } from '../../../../../../collector/outage/sqlite-outage-store.js';
import type { HostOutage, SiteIncident } from '../../../../../../collector/outage/outage-types.js';
import { openDatabase } from '../../../../../../collector/store/sqlite-store.js';
import { FakeClock } from '../../../../../helpers/fake-clock.js';

/** The outage routes on a real express app, with a minimal ApiContext (auth is the HTTP server's). */
describe('outage API module', () => {
  const clock = new FakeClock();
  const now = clock.now();
  const store = new SqliteOutageStore(openDatabase(':memory:'));
  let base = '';
  let close: () => void = () => {};
  const roles: string[] = [];

  beforeAll(async () => {
    const ctx: ApiContext = {
      clock,
      log: silentLogger(),
      requireRole: (role) => (_req, res, next) => {
        roles.push(role);
        // An admin of every site: scopes are tested against the real API (test/integration/api-scopes.test.ts).
        res.locals.principal = { tokenId: 1, name: 'test', role: 'admin', sites: null, via: 'token' };
        next();
      },
      audit: () => {},
      parse<T>(schema: ZodType<T>, value: unknown, res: express.Response): T | undefined {
        const r = schema.safeParse(value);
        if (r.success) return r.data;
        res.status(400).json({ error: 'bad_request', message: 'invalid request', reasons: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
        return undefined;
      },
    };
    const outage = (id: number, over: Partial<HostOutage> = {}): HostOutage => ({
      id,
      site: 'xa-a',
      host: 'pc-1',
      cause: 'power_loss',
      start: now - 600_000,
      end: now - 300_000,
      uncertaintyMs: 5000,
      incidentId: 1,
      evidence: {},
      ...over,
    });
    const incident: SiteIncident = {
      id: 1,
      site: 'xa-a',
      state: 'resolved',
      cause: 'power_cut',
      start: now - 600_000,
      end: now - 300_000,
      hosts: ['pc-1', 'pc-2'],
      hostsOut: [],
      hostsOnlineBefore: 2,
      uncertaintyMs: 5000,
      evidence: {},
    };
    store.apply(
      [
        { kind: 'incident', change: 'resolved', incident },
        { kind: 'incident', change: 'opened', incident: { ...incident, id: 2, site: 'xa-b', state: 'open', end: null, cause: 'unknown' } },
        { kind: 'hostOutage', change: 'closed', outage: outage(1) },
        { kind: 'hostOutage', change: 'closed', outage: outage(2, { host: 'pc-2' }) },
        { kind: 'hostOutage', change: 'closed', outage: outage(3, { host: 'pc-3', incidentId: null, start: now - 40 * 86_400_000, end: now - 40 * 86_400_000 + 1000 }) },
      ],
      undefined,
      { nextOutageId: 4, nextIncidentId: 3 },
    );
    const app = express();
    const router = express.Router();
    outageRoutes({ outages: store, timezone: () => 'Asia/Ho_Chi_Minh' }).mount(router, ctx);
    app.use('/api', router);
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    close = () => server.close();
  });
  afterAll(() => close());

  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('GET /api/incidents: the last hour by default, by site, paged', async () => {
    const all = await get('/incidents');
    expect(all.status).toBe(200);
    expect((all.body.incidents as SiteIncident[]).map((i) => i.id)).toEqual([2, 1]);
    expect(all.body.next).toBeNull();
    const a = await get('/incidents?site=xa-a');
    expect((a.body.incidents as SiteIncident[])[0]).toMatchObject({ id: 1, cause: 'power_cut', hosts: ['pc-1', 'pc-2'], durationMs: 300_000 });
    const page = await get('/incidents?limit=1');
    expect(page.body.next).toBe(2);
    const rest = await get('/incidents?limit=1&before=2');
    expect((rest.body.incidents as SiteIncident[]).map((i) => i.id)).toEqual([1]);
    expect(roles.every((r) => r === 'read')).toBe(true);
  });

  it('GET /api/incidents/:id: the incident, or 404', async () => {
    expect(await get('/incidents/1')).toMatchObject({ status: 200, body: { incident: { id: 1, site: 'xa-a' } } });
    expect(await get('/incidents/99')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    const bad = await get('/incidents/abc');
    expect(bad.status).toBe(400);
    expect(bad.body.reasons).toEqual([expect.stringMatching(/^id: /)]);
  });

  it('GET /api/outages: by site and host, ranges', async () => {
    const r = await get('/outages?site=xa-a&host=pc-2');
    expect((r.body.outages as HostOutage[]).map((o) => o.id)).toEqual([2]);
    const old = await get(`/outages?from=${now - 41 * 86_400_000}&to=${now - 39 * 86_400_000}`);
    expect((old.body.outages as HostOutage[]).map((o) => o.host)).toEqual(['pc-3']);
  });

  it('GET /api/incidents/counts: per site per period', async () => {
    const r = await get(`/incidents/counts?period=day&from=${now - 86_400_000}&to=${now}`);
    expect(r.status).toBe(200);
    expect(r.body.counts).toEqual([
      { site: 'xa-a', period: 'day', start: Date.UTC(2026, 10, 23, 17, 0), power_cut: 1, network_cut: 0, mixed: 0, unknown: 0, hostOutages: 2 },
      { site: 'xa-b', period: 'day', start: Date.UTC(2026, 10, 23, 17, 0), power_cut: 0, network_cut: 0, mixed: 0, unknown: 1, hostOutages: 0 },
    ]);
  });

  it('400 with reasons: unknown parameters, bad ranges, limits, ids', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/incidents?foo=1', /Unrecognized key/i],
      [`/incidents?from=${now - 32 * 86_400_000}&to=${now}`, /^to: range longer than 31 days/],
      [`/incidents?from=${now}&to=${now - 1}`, /^from: must not be after/],
      ['/incidents?limit=0', /^limit: /],
      ['/incidents?limit=1001', /^limit: /],
      ['/incidents?site=Bad%20Site', /^site: must be a lowercase slug/],
      ['/outages?host=x%2Fy', /^host: /],
      ['/incidents/counts?period=year', /^period: /],
      [`/incidents/counts?period=month&from=${now - 400 * 86_400_000}&to=${now}`, /^to: range longer than 366 days/],
      ['/outages?before=-1', /^before: /],
    ];
    for (const [path, reason] of cases) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(r.body.error).toBe('bad_request');
      expect(
        (r.body.reasons as string[]).some((x) => reason.test(x)),
        `${path}: ${JSON.stringify(r.body.reasons)}`,
      ).toBe(true);
    }
  });
});
