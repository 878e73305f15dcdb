import type { Server } from 'node:http';
import express, { type Request, type Response, type NextFunction } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertStore } from '../../collector/alerting/alert-store.js';
import { emptyState } from '../../collector/alerting/alert-types.js';
import { evaluate } from '../../collector/alerting/engine.js';
import { notifyTester } from '../../collector/alerting/notify-test.js';
import type { ApiContext, Role } from '../../collector/http/api/api-module.js';
import { alertsRoutes } from '../../collector/http/api/routes/alerts.js';
import { MetricsRegistry } from '../../common/metrics-registry.js';
import { NotifyConfigSchema } from '../../collector/notify/config.js';
import { NotifyService } from '../../collector/notify/notify-service.js';
import { openDatabase } from '../../collector/store/sqlite-store.js';
import { formatIssues } from '../../common/config-loader.js';
import { silentLogger } from '../../common/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { ZaloStandin } from '../helpers/zalo-standin.js';

/**
 * The alerts API module mounted on a bare express app (the API core's auth is stood in by
 * a header: `x-test-role` and `x-test-name`), over a real SQLite alert store; notify test
 * through a real NotifyService to the local Zalo stand-in.
 */
const TOKEN = '99999999:api-test-token';

describe('alerts API module (GET /api/alerts, /api/silences, POST /api/notify/test)', () => {
  const clock = new FakeClock(Date.UTC(2026, 10, 24, 2, 0));
  const db = openDatabase(':memory:');
  const store = new AlertStore(db);
  const zalo = new ZaloStandin({ botTokens: [TOKEN] });
  let notify: NotifyService;
  let server: Server;
  let base = '';

  beforeAll(async () => {
    await zalo.start();
    notify = new NotifyService(NotifyConfigSchema.parse({ channels: [{ type: 'zalo_bot', name: 'zalo', token: TOKEN, chatId: 'c1', baseUrl: zalo.url }] }), {
      db,
      clock,
      log: silentLogger(),
      metrics: new MetricsRegistry(),
    });
    // Two alerts through the engine: one firing, one resolved.
    const obs = (host: string, condition: 'firing' | 'recovered') => ({
      rule: 'disk_nearly_full',
      site: 'xa-a',
      host,
      key: '',
      condition,
      severity: 'warning' as const,
      value: 95,
      summary: { vi: 'Ổ C: đầy 95%', en: 'Disk C: 95% full' },
      hint: { vi: 'xoá tệp tạm', en: 'delete temp files' },
    });
    const settings = { groupWaitMs: 0, groupIntervalMs: 0, repeatIntervalMs: 3600_000, flapWindowMs: 3600_000, flapThreshold: 4, staleAfterMs: 3600_000 };
    const input = (o: ReturnType<typeof obs>[]) => ({
      observations: o,
      rules: { disk_nearly_full: { forMs: 0, schedule: 'always' as const, inhibitedByIncident: false } },
      silences: [],
      openIncidents: [],
      inWorkingHours: () => true,
      siteName: () => 'Xã A',
      settings,
    });
    let state = emptyState();
    const sink = { enqueue() {} };
    for (const o of [
      [obs('pc1', 'firing'), obs('pc2', 'firing')],
      [obs('pc1', 'firing'), obs('pc2', 'recovered')],
    ]) {
      const r = evaluate(state, input(o), clock.now());
      store.commit(r, sink);
      state = r.state;
      clock.advance(60_000);
    }

    const app = express();
    app.use(express.json());
    const ctx: ApiContext = {
      clock,
      log: silentLogger(),
      requireRole: (role: Role) => (req: Request, res: Response, next: NextFunction) => {
        const have = req.header('x-test-role');
        if (!have) return void res.status(401).json({ error: 'unauthorized' });
        const rank = { read: 1, operator: 2, admin: 3 } as Record<string, number>;
        if ((rank[have] ?? 0) < rank[role]!) return void res.status(403).json({ error: 'forbidden' });
        res.locals.principal = { tokenId: 1, role: have, sites: null, via: 'token', name: decodeURIComponent(req.header('x-test-name') ?? 'token') };
        next();
      },
      audit: () => {},
      parse(schema, value, res) {
        const r = schema.safeParse(value);
        if (r.success) return r.data;
        res.status(400).json({ error: 'bad_request', message: 'invalid request', reasons: formatIssues(r.error.issues) });
        return undefined;
      },
    };
    const router = express.Router();
    alertsRoutes({ alerts: store, notifyTest: notifyTester(notify, clock) }).mount(router, ctx);
    app.use('/api', router);
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/api`;
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await notify?.stop();
    await zalo.stop();
  });

  const call = (path: string, init: { method?: string; body?: unknown; role?: string; name?: string } = {}) =>
    fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        'content-type': 'application/json',
        ...(init.role !== undefined ? { 'x-test-role': init.role } : { 'x-test-role': 'read' }),
        ...(init.name ? { 'x-test-name': encodeURIComponent(init.name) } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  it('lists active and resolved alerts as the contract says, with cursor pages', async () => {
    const active = (await (await call('/alerts')).json()) as { alerts: Array<Record<string, unknown>>; next: number | null };
    expect(active.alerts).toHaveLength(1);
    expect(active.alerts[0]).toMatchObject({
      rule: 'disk_nearly_full',
      site: 'xa-a',
      host: 'pc1',
      state: 'firing',
      silenced: false,
      inhibited: false,
      summary: 'Ổ C: đầy 95%',
      value: 95,
      endsAt: null,
    });
    expect(typeof active.alerts[0]!.startsAt).toBe('number');
    const resolved = (await (await call('/alerts?state=resolved&lang=en')).json()) as { alerts: Array<Record<string, unknown>> };
    expect(resolved.alerts).toMatchObject([{ host: 'pc2', state: 'resolved', summary: 'Disk C: 95% full' }]);
    const page1 = (await (await call('/alerts?state=all&limit=1')).json()) as { alerts: Array<{ id: number }>; next: number };
    expect(page1.alerts).toHaveLength(1);
    const page2 = (await (await call(`/alerts?state=all&limit=1&before=${page1.next}`)).json()) as { alerts: Array<{ id: number }>; next: number | null };
    expect(page2.alerts[0]!.id).toBeLessThan(page1.alerts[0]!.id);
    expect(page2.next).toBeNull();
    const badQ = await call('/alerts?state=loud&nope=1');
    expect(badQ.status).toBe(400);
    expect(((await badQ.json()) as { reasons: string[] }).reasons.join('\n')).toMatch(/state|nope/);
    expect((await call('/alerts', { role: '' })).status).toBe(401);
  });

  it('creates, lists and expires silences with author and comment; refuses bad ones', async () => {
    const now = clock.now();
    expect((await call('/silences', { method: 'POST', body: { matchers: { site: 'xa-a' }, endsAt: now + 3600_000, comment: 'bảo trì' } })).status).toBe(403);
    const created = await call('/silences', {
      method: 'POST',
      role: 'admin',
      name: 'Nguyễn Văn An',
      body: { matchers: { site: 'xa-a', rule: 'disk_nearly_full' }, endsAt: now + 3600_000, comment: 'Đang dọn ổ đĩa' },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    const list = (await (await call('/silences')).json()) as { silences: Array<Record<string, unknown>> };
    expect(list.silences).toEqual([
      {
        id,
        matchers: { site: 'xa-a', rule: 'disk_nearly_full' },
        startsAt: now,
        endsAt: now + 3600_000,
        author: 'Nguyễn Văn An',
        comment: 'Đang dọn ổ đĩa',
        createdAt: now,
        state: 'active',
      },
    ]);
    for (const body of [
      { matchers: {}, endsAt: now + 1000, comment: 'x' },
      { matchers: { rule: 'no_such_rule' }, endsAt: now + 1000, comment: 'x' },
      { matchers: { site: 'xa-a' }, endsAt: now - 1000, comment: 'x' },
      { matchers: { site: 'xa-a' }, endsAt: now + 1000 },
      { matchers: { site: 'xa-a' }, endsAt: now + 365 * 86_400_000, comment: 'x' },
    ]) {
      const r = await call('/silences', { method: 'POST', role: 'admin', body });
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    clock.advance(60_000);
    expect((await call(`/silences/${id}`, { method: 'DELETE', role: 'admin' })).status).toBe(204);
    expect((await call(`/silences/999`, { method: 'DELETE', role: 'admin' })).status).toBe(404);
    const after = (await (await call('/silences?state=expired')).json()) as { silences: Array<{ id: number; endsAt: number; state: string }> };
    expect(after.silences).toMatchObject([{ id, endsAt: clock.now(), state: 'expired' }]);
  });

  it('POST /api/notify/test sends a test message on the channel through the notifier', async () => {
    const r = await call('/notify/test', { method: 'POST', role: 'admin', body: { channel: 'zalo' } });
    expect(r.status).toBe(200);
    expect(zalo.botMessages).toHaveLength(1);
    expect(zalo.botMessages[0]!.text).toContain('Tin nhắn thử');
    const unknown = await call('/notify/test', { method: 'POST', role: 'admin', body: { channel: 'email' } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { message: string }).message).toMatch(/no enabled channel named "email"/);
    zalo.failNext('bot', { kind: 'bot_error', error_code: 401, description: 'Unauthorized' });
    const failed = await call('/notify/test', { method: 'POST', role: 'admin', body: { channel: 'zalo' } });
    expect(failed.status).toBe(502);
  });
});
