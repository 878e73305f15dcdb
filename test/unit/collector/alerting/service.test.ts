import { describe, expect, it } from 'vitest';
import { AlertService } from '../../../../collector/alerting/alert-service.js';
import type { Notification, NotificationSink } from '../../../../collector/alerting/alert-types.js';
import { AlertingConfigSchema } from '../../../../collector/alerting/alerting-config.js';
import { Ingest } from '../../../../collector/ingest/ingest.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import type { OutageReader, SiteIncident } from '../../../../collector/outage/outage-types.js';
import { siteDirectory, SiteSettingsSchema } from '../../../../collector/sites/site-settings.js';
import { openDatabase, SqliteStore, type SqliteDatabase } from '../../../../collector/store/sqlite-store.js';
import { silentLogger } from '../../../../common/log.js';
import { topicFor } from '../../../../contract/topics.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const ict = (iso: string) => Date.parse(`${iso}+07:00`);
const MIN = 60_000;

class MemorySink implements NotificationSink {
  sent: Notification[] = [];
  failNext = false;
  enqueue(n: Notification): void {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('outbox full');
    }
    this.sent.push(n);
  }
}

function fakeOutages(incidents: SiteIncident[]): OutageReader {
  return {
    hostOutages: () => [],
    incidents: (q) => incidents.filter((i) => (!q.site || i.site === q.site) && i.start <= q.to && (i.end ?? Infinity) >= q.from),
    openIncidents: (site) => incidents.filter((i) => i.state === 'open' && (!site || i.site === site)),
    incident: (id) => incidents.find((i) => i.id === id),
  };
}

function setup(opts: { start: number; db?: SqliteDatabase; config?: Record<string, unknown>; sink?: MemorySink; outages?: OutageReader }) {
  const clock = new FakeClock(opts.start);
  const db = opts.db ?? openDatabase(':memory:');
  const store = new SqliteStore(db, ':memory:');
  const sink = opts.sink ?? new MemorySink();
  const config = AlertingConfigSchema.parse(opts.config ?? {});
  const sites = siteDirectory({ 'xa-a': SiteSettingsSchema.parse({ name: 'UBND xã Tân Phú', lineMbps: 20 }) }, SiteSettingsSchema.parse({}));
  const service = new AlertService({ config, db, store, sites, clock, log: silentLogger(), sink, outages: opts.outages, metrics: new MetricsRegistry() });
  const ingest = new Ingest({ store, clock, log: silentLogger(), metrics: new MetricsRegistry(), onStored: (m) => service.onStored(m) });
  const seqs = new Map<string, number>();
  const send = (host: string, kind: 'samples' | 'status' | 'events', body: Record<string, unknown>) => {
    const seq = (seqs.get(host) ?? 0) + 1;
    seqs.set(host, seq);
    const t = clock.now();
    const msg = { v: 1, site: 'xa-a', host, boot: 'boot0001', seq, t, sent: t, ...body };
    const r = ingest.handle(topicFor('xa-a', host, kind), Buffer.from(JSON.stringify(msg)));
    if (r.status !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(r)}`);
  };
  const online = (host: string) => send(host, 'status', { state: 'online', hostname: host.toUpperCase(), agentVersion: '0.1.0' });
  const offline = (host: string) => send(host, 'status', { state: 'offline', hostname: host.toUpperCase(), agentVersion: '0.1.0' });
  const ping = (host: string, lossPct: number, p95: number) =>
    send(host, 'samples', {
      interval: 60,
      metrics: {
        ping: [{ target: '203.162.4.191', role: 'configured', sent: 10, lossPct, rttMedian: p95 / 2, rttP95: p95, rttMax: p95 }],
      },
    });
  return { clock, db, store, sink, service, send, online, offline, ping };
}

describe('alert service: rules over real ingest and SQLite, fake clock', () => {
  it('peak-hour congestion: off-peak baseline learnt at night, 30% loss sustained 10 min in working hours → one grouped alert with real figures, then resolved', async () => {
    const t = setup({ start: ict('2026-11-24T05:00:00'), config: { evaluateSeconds: 10 } }); // Tuesday, before opening
    await t.service.start();
    t.online('pc1');
    t.online('pc2');
    for (let i = 0; i < 60; i++) {
      t.ping('pc1', 0, 3);
      t.ping('pc2', 0, 4);
      t.clock.advance(MIN);
    }
    t.clock.advance(ict('2026-11-24T08:00:00') - t.clock.now());
    for (let i = 0; i < 13 * 6; i++) {
      t.ping('pc1', 30, 80);
      t.ping('pc2', 30, 90);
      t.clock.advance(10_000);
    }
    expect(t.sink.sent).toHaveLength(1);
    const n = t.sink.sent[0]!;
    expect(n.site).toBe('xa-a');
    expect(n.firing.map((a) => a.rule)).toEqual(['peak_hour_congestion']);
    expect(n.firing[0]!.value).toBe(30);
    expect(n.title.vi).toBe('[CẢNH BÁO] UBND xã Tân Phú: 1 vấn đề');
    expect(n.text.vi).toContain('Mạng nghẽn giờ cao điểm: mất 30% gói tới 203.162.4.191 (bình thường 0%)');
    expect(n.text.vi).toMatch(/trễ p95 90 ms tới 203\.162\.4\.191 \(bình thường 4 ms\)/);
    expect(n.text.vi).toContain('từ 08:0');
    expect(n.text.vi).toContain('Kiểm tra: modem/router');
    expect(n.text.en).toContain('30% packet loss to 203.162.4.191 (normally 0%)');
    // The drop stops: the recovery condition (loss under 2%) resolves it.
    for (let i = 0; i < 5 * 6; i++) {
      t.ping('pc1', 0, 3);
      t.ping('pc2', 0, 4);
      t.clock.advance(10_000);
    }
    expect(t.sink.sent).toHaveLength(2);
    expect(t.sink.sent[1]!.kind).toBe('resolved');
    expect(t.sink.sent[1]!.title.vi).toBe('[ĐÃ KHẮC PHỤC] UBND xã Tân Phú: 1 vấn đề');
    expect(t.sink.sent[1]!.text.vi).toMatch(/kéo dài \d+ phút/);
    await t.service.stop();
  });

  it('congestion outside working hours starts nothing', async () => {
    const t = setup({ start: ict('2026-11-29T09:00:00') }); // Sunday
    await t.service.start();
    t.online('pc1');
    for (let i = 0; i < 15 * 6; i++) {
      t.ping('pc1', 40, 300);
      t.clock.advance(10_000);
    }
    expect(t.sink.sent).toHaveLength(0);
    await t.service.stop();
  });

  it('site offline; a restart neither loses nor re-sends; a failing outbox rolls the evaluation back and it is retried', async () => {
    const db = openDatabase(':memory:');
    const sink = new MemorySink();
    const t = setup({ start: ict('2026-11-24T09:00:00'), db, sink });
    await t.service.start();
    t.online('pc1');
    t.online('pc2');
    t.clock.advance(10_000);
    t.offline('pc1');
    t.offline('pc2');
    sink.failNext = true; // the first attempt to enqueue fails
    t.clock.advance(30_000);
    expect(sink.sent).toHaveLength(1);
    const n = sink.sent[0]!;
    expect(n.firing.map((a) => a.rule)).toEqual(['site_offline']);
    expect(n.text.vi).toContain('Cả điểm mất kết nối: 2/2 máy ngừng gửi dữ liệu');
    await t.service.stop();
    // Restart on the same database: the alert is still firing and already told.
    const t2 = setup({ start: t.clock.now(), db, sink });
    await t2.service.start();
    const kept = Object.values(t2.service.current().alerts).map((a) => [a.rule, a.state, a.notified]);
    expect(kept).toContainEqual(['site_offline', 'firing', 'firing']);
    expect(kept.filter((k) => k[0] === 'host_offline')).toEqual([
      ['host_offline', 'pending', 'none'],
      ['host_offline', 'pending', 'none'],
    ]);
    t2.clock.advance(60_000);
    expect(sink.sent).toHaveLength(1);
    // Power back: resolved once (after the group interval since the first message).
    t2.online('pc1');
    t2.clock.advance(5 * MIN);
    expect(sink.sent).toHaveLength(2);
    expect(sink.sent[1]!.resolved.map((a) => a.rule)).toEqual(['site_offline']);
    await t2.service.stop();
    const listed = t2.service.alertStore.listAlerts({ state: 'resolved', limit: 10 });
    expect(listed.alerts.map((a) => [a.rule, a.state])).toEqual([['site_offline', 'resolved']]);
  });

  it('power cuts: three site power incidents in 7 days fire; an open incident inhibits host alerts, whose resolution is still recorded', async () => {
    const start = ict('2026-11-24T09:00:00');
    const inc = (id: number, s: number, e: number | null, state: 'open' | 'resolved' = 'resolved'): SiteIncident => ({
      id,
      site: 'xa-a',
      state,
      cause: state === 'open' ? 'unknown' : 'power_cut',
      start: s,
      end: e,
      hosts: ['pc1', 'pc2'],
      hostsOut: state === 'open' ? ['pc1'] : [],
      hostsOnlineBefore: 2,
      uncertaintyMs: 10_000,
      evidence: {},
    });
    const incidents = [
      inc(1, start - 3 * 86_400_000, start - 3 * 86_400_000 + 5 * MIN),
      inc(2, start - 2 * 86_400_000, start - 2 * 86_400_000 + 3 * MIN),
      inc(3, start - 86_400_000 - 2 * 3600_000, start - 86_400_000 - 2 * 3600_000 + 4 * MIN),
    ];
    const outages = fakeOutages(incidents);
    const t = setup({ start, outages, config: { rules: { hostOffline: { forSeconds: 0 } } } });
    await t.service.start();
    t.online('pc1');
    t.online('pc2');
    t.clock.advance(20_000);
    expect(t.sink.sent).toHaveLength(1);
    expect(t.sink.sent[0]!.firing[0]!.rule).toBe('frequent_power_cuts');
    expect(t.sink.sent[0]!.text.vi).toContain('Mất điện 3 lần trong 7 ngày');
    // A new cut opens an incident: pc1 goes offline, inhibited.
    incidents.push(inc(4, t.clock.now(), null, 'open'));
    t.offline('pc1');
    t.clock.advance(6 * MIN);
    const a = Object.values(t.service.current().alerts).find((x) => x.rule === 'host_offline')!;
    expect(a).toMatchObject({ state: 'firing', inhibited: true, notified: 'none' });
    expect(t.sink.sent.flatMap((n) => n.firing.map((f) => f.rule))).not.toContain('host_offline');
    t.online('pc1');
    t.clock.advance(20_000);
    const rows = t.db.prepare(`SELECT state, inhibited, ends_at FROM alerts WHERE rule = 'host_offline'`).all() as Array<{ state: string; inhibited: number; ends_at: number }>;
    expect(rows).toEqual([{ state: 'resolved', inhibited: 1, ends_at: expect.any(Number) }]);
    expect(t.sink.sent.flatMap((n) => n.resolved.map((f) => f.rule))).not.toContain('host_offline');
    await t.service.stop();
  });

  it('disk nearly full with hysteresis, and a silence from the store mutes it', async () => {
    const t = setup({ start: ict('2026-11-24T09:00:00'), config: { rules: { diskNearlyFull: { forSeconds: 0 } } } });
    await t.service.start();
    t.online('pc1');
    const disk = (pct: number) =>
      t.send('pc1', 'samples', { interval: 60, metrics: { disks: [{ mount: 'C:', total: 100e9, used: pct * 1e9, free: (100 - pct) * 1e9, usedPct: pct }] } });
    const id = t.service.alertStore.addSilence(
      { matchers: { host: 'pc1', rule: 'disk_nearly_full' }, startsAt: t.clock.now(), endsAt: t.clock.now() + 10 * MIN, author: 'Lan', comment: 'đang dọn ổ' },
      t.clock.now(),
    );
    disk(95);
    t.clock.advance(20_000);
    expect(t.sink.sent).toHaveLength(0);
    t.service.alertStore.expireSilence(id, t.clock.now());
    t.clock.advance(20_000);
    expect(t.sink.sent).toHaveLength(1);
    expect(t.sink.sent[0]!.text.vi).toContain('pc1: Ổ C: đầy 95%, còn 5 GB');
    disk(88); // between recovery (85) and firing (90): still firing
    t.clock.advance(6 * MIN);
    expect(Object.values(t.service.current().alerts)[0]!.state).toBe('firing');
    disk(80);
    t.clock.advance(20_000);
    expect(t.sink.sent.at(-1)!.resolved.map((a) => a.rule)).toEqual(['disk_nearly_full']);
    await t.service.stop();
  });

  it('a maintenance window from the config mutes the site while it lasts, and its alerts are still recorded', async () => {
    const start = ict('2026-11-24T09:00:00');
    const t = setup({
      start,
      config: {
        rules: { diskNearlyFull: { forSeconds: 0 } },
        maintenance: [{ site: 'xa-a', startsAt: '2026-11-24T08:30:00+07:00', endsAt: '2026-11-24T09:10:00+07:00', author: 'Sở KH&CN', comment: 'Thay máy chủ' }],
      },
    });
    await t.service.start();
    t.online('pc1');
    t.send('pc1', 'samples', { interval: 60, metrics: { disks: [{ mount: 'C:', total: 100e9, used: 96e9, free: 4e9, usedPct: 96 }] } });
    t.clock.advance(5 * MIN);
    expect(t.sink.sent).toHaveLength(0);
    expect(Object.values(t.service.current().alerts)[0]).toMatchObject({ rule: 'disk_nearly_full', state: 'firing', silenced: true });
    t.clock.advance(ict('2026-11-24T09:10:30') - t.clock.now());
    expect(t.sink.sent).toHaveLength(1);
    expect(t.sink.sent[0]!.firing[0]!.rule).toBe('disk_nearly_full');
    await t.service.stop();
  });
});
