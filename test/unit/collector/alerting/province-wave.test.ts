/**
 * The province digest (issue 12 item 6): "30 % of the sites lose power at once and return:
 * one incident per site, one message per site per channel plus one province digest". The
 * pure wave step with a fake clock, then the alert service over real ingest and SQLite with
 * the real notifier outbox (its channels are counted, not sent): one digest per channel, one
 * per-site message per site and channel, none for two sites, a second wave only after the
 * first ended, no repeat after a restart.
 */
import { describe, expect, it } from 'vitest';
import { AlertService } from '../../../../collector/alerting/alert-service.js';
import { AlertingConfigSchema } from '../../../../collector/alerting/alerting-config.js';
import { NotifierOutboxSink } from '../../../../collector/alerting/notifier-sink.js';
import {
  emptyProvinceWaveState,
  evaluateProvinceWave,
  MAX_WAVE_SITES,
  waveThreshold,
  type ProvinceWaveInput,
  type ProvinceWaveSettings,
  type ProvinceWaveState,
} from '../../../../collector/alerting/province-wave.js';
import { Ingest } from '../../../../collector/ingest/ingest.js';
import { NotifyConfigSchema } from '../../../../collector/notify/config.js';
import type { Notifier } from '../../../../collector/notify/notifier.js';
import { NotifyService } from '../../../../collector/notify/notify-service.js';
import type { ProvinceDigest } from '../../../../collector/notify/province-message.js';
import { render } from '../../../../collector/notify/render.js';
import type { IncidentCause, OutageReader, SiteIncident } from '../../../../collector/outage/outage-types.js';
import { siteDirectory, SiteSettingsSchema } from '../../../../collector/sites/site-settings.js';
import { openDatabase, SqliteStore, type SqliteDatabase } from '../../../../collector/store/sqlite-store.js';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { topicFor } from '../../../../contract/topics.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const SEC = 1000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 24, 2, 0, 0); // 09:00 in Hồ Chí Minh, a Tuesday

const SETTINGS: ProvinceWaveSettings = {
  minSites: 5,
  minShare: 0.2,
  require: 'both',
  windowMs: 120 * SEC,
  waitMs: 30 * SEC,
  backShare: 0.9,
  summaryAfterMs: 180 * MIN,
};

/** Drives the pure step over time: `down` is edited by the test, `advance` evaluates every 2 s. */
function pureRun(total = 20, settings = SETTINGS) {
  let state: ProvinceWaveState = emptyProvinceWaveState();
  let now = T0;
  const down = new Map<string, number>();
  const causes = new Map<string, ProvinceWaveInput['cause'] extends (...a: never[]) => infer R ? R : never>();
  const messages: ProvinceDigest[] = [];
  let overflow = 0;
  const step = () => {
    const r = evaluateProvinceWave(
      state,
      { down, sitesWithAgents: total, cause: (site) => causes.get(site) ?? (down.has(site) ? 'pending' : 'unknown'), siteName: (s) => `UBND xã ${s}` },
      now,
      settings,
    );
    state = r.state;
    messages.push(...r.messages);
    overflow += r.overflow;
  };
  return {
    down,
    causes,
    messages,
    get state() {
      return state;
    },
    get overflow() {
      return overflow;
    },
    get now() {
      return now;
    },
    advance(ms: number) {
      const end = now + ms;
      while (now < end) {
        now = Math.min(end, now + 2 * SEC);
        step();
      }
    },
    drop(site: string) {
      down.set(site, now);
    },
    back(site: string) {
      down.delete(site);
    },
  };
}

describe('province wave: the pure step', () => {
  it('threshold: count and share both (default), either, share off; never below 2', () => {
    expect(waveThreshold(20, SETTINGS)).toBe(5);
    expect(waveThreshold(100, SETTINGS)).toBe(20);
    expect(waveThreshold(100, { ...SETTINGS, require: 'either' })).toBe(5);
    expect(waveThreshold(10, { ...SETTINGS, require: 'either' })).toBe(2);
    expect(waveThreshold(5, { ...SETTINGS, minSites: 2, require: 'either' })).toBe(2);
    expect(waveThreshold(1000, { ...SETTINGS, minShare: 0 })).toBe(5);
  });

  it('6 of 20 sites drop within a minute: one wave message after the wait, one summary when 90 % are back', () => {
    const r = pureRun();
    for (let i = 1; i <= 6; i++) {
      r.drop(`s${i}`);
      r.advance(10 * SEC);
    }
    // Threshold reached at the 5th drop (seen at 42 s); the message 30 s later lists all 6.
    expect(r.messages).toHaveLength(0);
    r.advance(12 * SEC);
    expect(r.messages).toHaveLength(1);
    const m = r.messages[0]!;
    expect(m).toMatchObject({ id: `province:${T0}`, phase: 'wave', waveStart: T0, lastDrop: T0 + 50 * SEC, sitesTotal: 20, sitesInWave: 6, sitesBack: 0 });
    expect(m.causes).toEqual({ power_cut: 0, network_cut: 0, mixed: 0, unknown: 0, pending: 6 });
    expect(m.sites.map((s) => s.name)).toEqual(['UBND xã s1', 'UBND xã s2', 'UBND xã s3', 'UBND xã s4', 'UBND xã s5', 'UBND xã s6']);
    r.advance(10 * MIN);
    expect(r.messages).toHaveLength(1);
    // Five back (83 %): not yet; the sixth: the summary, once.
    for (let i = 1; i <= 5; i++) {
      r.causes.set(`s${i}`, 'power_cut');
      r.back(`s${i}`);
    }
    r.advance(MIN);
    expect(r.messages).toHaveLength(1);
    r.causes.set('s6', 'network_cut');
    r.back('s6');
    r.advance(MIN);
    expect(r.messages).toHaveLength(2);
    const s = r.messages[1]!;
    expect(s).toMatchObject({ id: `province:${T0}:summary`, phase: 'summary', sitesInWave: 6, sitesBack: 6 });
    expect(s.causes).toEqual({ power_cut: 5, network_cut: 1, mixed: 0, unknown: 0, pending: 0 });
    // s1 dropped at 0 and came back at ~11 min 2 s; s6 at 50 s and ~12 min 2 s.
    expect(s.backLongestMs).toBe(r.messages[1]!.sites.find((x) => x.site === 's6')!.backAt! - (T0 + 50 * SEC));
    expect(s.backMedianMs).toBeGreaterThan(10 * MIN);
    expect(r.state.wave).toBeNull();
    r.advance(30 * MIN);
    expect(r.messages).toHaveLength(2);
  });

  it('two sites down together: no digest, ever', () => {
    const r = pureRun();
    r.drop('a');
    r.drop('b');
    r.advance(60 * MIN);
    expect(r.messages).toEqual([]);
    expect(r.state.wave).toBeNull();
  });

  it('drops spread wider than the window are not a wave', () => {
    const r = pureRun();
    for (let i = 1; i <= 6; i++) {
      r.drop(`s${i}`);
      r.advance(40 * SEC); // 6 drops over 200 s: at most 4 within any 120 s
    }
    r.advance(10 * MIN);
    expect(r.messages).toEqual([]);
  });

  it('a second wave after the first ended gets its own digest; sites still down from the first do not start one', () => {
    const r = pureRun();
    for (let i = 1; i <= 6; i++) r.drop(`s${i}`);
    r.advance(MIN);
    expect(r.messages.map((m) => m.id)).toEqual([`province:${T0}`]);
    // A wave in progress: five more drops now are not a new wave (it has not ended).
    for (let i = 7; i <= 11; i++) r.drop(`s${i}`);
    r.advance(MIN);
    expect(r.messages).toHaveLength(1);
    for (let i = 1; i <= 6; i++) r.back(`s${i}`);
    for (let i = 7; i <= 11; i++) r.back(`s${i}`);
    r.advance(10 * SEC);
    expect(r.messages.map((m) => m.phase)).toEqual(['wave', 'summary']);
    const second = r.now;
    for (let i = 12; i <= 16; i++) r.drop(`s${i}`);
    r.advance(MIN);
    expect(r.messages.map((m) => m.id)).toEqual([`province:${T0}`, `province:${T0}:summary`, `province:${second}`]);
    expect(r.messages[2]!.sitesInWave).toBe(5);
  });

  it('the first wave ending by age with sites still out: the summary says how many are out, and they start no new wave', () => {
    const r = pureRun(20, { ...SETTINGS, summaryAfterMs: 60 * MIN });
    for (let i = 1; i <= 8; i++) r.drop(`s${i}`);
    r.advance(MIN);
    r.back('s1');
    r.back('s2');
    r.advance(60 * MIN);
    expect(r.messages.map((m) => m.phase)).toEqual(['wave', 'summary']);
    expect(r.messages[1]).toMatchObject({ sitesInWave: 8, sitesBack: 2 });
    expect(r.messages[1]!.sites.filter((s) => s.backAt === null)).toHaveLength(6);
    // Six sites of the old wave are still down (above the threshold): not a new wave.
    r.advance(20 * MIN);
    expect(r.messages).toHaveLength(2);
    expect(r.state.wave).toBeNull();
  });

  it('bounded: sites beyond MAX_WAVE_SITES are counted (in the message and the overflow), not tracked', () => {
    const r = pureRun(MAX_WAVE_SITES + 100);
    for (let i = 0; i < MAX_WAVE_SITES + 3; i++) r.down.set(`x${i}`, T0);
    r.advance(40 * SEC);
    expect(Object.keys(r.state.wave!.sites)).toHaveLength(MAX_WAVE_SITES);
    expect(r.overflow).toBe(3);
    expect(r.messages[0]).toMatchObject({ sitesInWave: MAX_WAVE_SITES + 3 });
    expect(r.messages[0]!.sites.length).toBeLessThanOrEqual(500);
  });
});

// ---------------------------------------------------------------------------------------
// Through the alert service, real ingest and SQLite, and the real notifier outbox.

const SITES = Array.from({ length: 20 }, (_, i) => `xa-${String(i + 1).padStart(2, '0')}`);
const siteName = (s: string) => `UBND xã Số ${Number(s.slice(3))}`;

function fakeNotifier(name: string, language: 'vi' | 'en' = 'vi'): Notifier {
  return {
    name,
    type: 'webhook',
    language,
    parts: (r) => [r],
    send: () => Promise.resolve({ status: 'accepted' }),
    close: () => Promise.resolve(),
  };
}

/** Site incidents as the outage collector would record them (opened at the drop, classified at return). */
class Incidents implements OutageReader {
  list: SiteIncident[] = [];
  open(site: string, start: number): void {
    this.list.push({
      id: this.list.length + 1,
      site,
      state: 'open',
      cause: 'unknown',
      start,
      end: null,
      hosts: ['pc1', 'pc2'],
      hostsOut: ['pc1', 'pc2'],
      hostsOnlineBefore: 2,
      uncertaintyMs: 0,
      evidence: {},
    });
  }
  resolve(site: string, end: number, cause: IncidentCause): void {
    const i = this.list.find((x) => x.site === site && x.state === 'open')!;
    Object.assign(i, { state: 'resolved', end, cause, hostsOut: [] });
  }
  hostOutages = () => [];
  incidents: OutageReader['incidents'] = (q) => this.list.filter((i) => (!q.site || i.site === q.site) && i.start <= q.to && (i.end ?? Infinity) >= q.from);
  openIncidents = (site?: string) => this.list.filter((i) => i.state === 'open' && (!site || i.site === site));
  incident = (id: number) => this.list.find((i) => i.id === id);
}

function province(opts: { db?: SqliteDatabase; clock?: FakeClock; incidents?: Incidents } = {}) {
  const clock = opts.clock ?? new FakeClock(T0);
  const db = opts.db ?? openDatabase(':memory:');
  const store = new SqliteStore(db, ':memory:');
  const metrics = new MetricsRegistry();
  const notifyConfig = NotifyConfigSchema.parse({
    channels: [
      { type: 'zalo_bot', name: 'zalo', token: 'bot-token-12345678', chatId: 'group-tinh' },
      { type: 'email', name: 'email', host: 'smtp.example.vn', from: 'canh@tinh.gov.vn', to: ['it@tinh.gov.vn'], language: 'en' },
      // A digest-only channel that opted in, and an alert channel that opted out.
      { type: 'email', name: 'lanh-dao', host: 'smtp.example.vn', from: 'canh@tinh.gov.vn', to: ['ld@tinh.gov.vn'], digestOnly: true, provinceDigest: true },
      { type: 'webhook', name: 'hook', url: 'http://127.0.0.1:9/hook', provinceDigest: false },
    ],
  });
  const notify = new NotifyService(notifyConfig, {
    db,
    clock,
    log: silentLogger(),
    metrics,
    notifiers: [fakeNotifier('zalo'), fakeNotifier('email', 'en'), fakeNotifier('lanh-dao'), fakeNotifier('hook')],
  });
  const outbox = new NotifierOutboxSink(notify);
  let provinceCalls = 0;
  const sink = {
    enqueue: outbox.enqueue.bind(outbox),
    enqueueProvince: (d: ProvinceDigest) => {
      provinceCalls++;
      outbox.enqueueProvince(d);
    },
  };
  const incidents = opts.incidents ?? new Incidents();
  const sites = siteDirectory(Object.fromEntries(SITES.map((s) => [s, SiteSettingsSchema.parse({ name: siteName(s) })])), SiteSettingsSchema.parse({}));
  const config = AlertingConfigSchema.parse({ provinceDigest: { boardUrl: 'https://canh.tinh.gov.vn/' } });
  const service = new AlertService({ config, db, store, sites, clock, log: silentLogger(), sink, outages: incidents, metrics });
  const ingest = new Ingest({ store, clock, log: silentLogger(), metrics: new MetricsRegistry(), onStored: (m) => service.onStored(m) });
  const seq = new Map<string, number>();
  const status = (site: string, host: string, state: 'online' | 'offline') => {
    const k = `${site}/${host}`;
    seq.set(k, (seq.get(k) ?? 0) + 1);
    const t = clock.now();
    const msg = { v: 1, site, host, boot: 'boot0001', seq: seq.get(k), t, sent: t, state, hostname: host.toUpperCase(), agentVersion: '0.1.0' };
    const r = ingest.handle(topicFor(site, host, 'status'), Buffer.from(JSON.stringify(msg)));
    if (r.status !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(r)}`);
  };
  const drop = (site: string) => {
    status(site, 'pc1', 'offline');
    status(site, 'pc2', 'offline');
    incidents.open(site, clock.now());
  };
  const back = (site: string, cause: IncidentCause) => {
    status(site, 'pc1', 'online');
    status(site, 'pc2', 'online');
    incidents.resolve(site, clock.now(), cause);
  };
  /** Messages in the outbox of one kind, with the channels each went to. */
  const queued = () =>
    notify.outbox.list(null, 10_000).reduce((acc, d) => {
      const m = notify.outbox.message(d.messageId)!;
      const e = acc.get(d.messageId) ?? { message: m, channels: [] as string[] };
      e.channels.push(d.channel);
      e.channels.sort();
      acc.set(d.messageId, e);
      return acc;
    }, new Map<string, { message: NonNullable<ReturnType<typeof notify.outbox.message>>; channels: string[] }>());
  const provinceMessages = () => [...queued().values()].filter((e) => e.message.kind === 'province');
  const siteMessages = () => [...queued().values()].filter((e) => e.message.kind === 'alert');
  return { clock, db, service, notify, metrics, incidents, drop, back, status, provinceMessages, siteMessages, provinceCalls: () => provinceCalls };
}

describe('province digest through the alert service and the notifier outbox', () => {
  it('30 % of 20 sites lose power within a minute and return: one digest per channel, one per-site message per site per channel, one summary', async () => {
    const p = province();
    await p.service.start();
    for (const s of SITES) {
      p.status(s, 'pc1', 'online');
      p.status(s, 'pc2', 'online');
    }
    p.clock.advance(MIN);
    const down = SITES.slice(0, 6);
    for (const s of down) {
      p.drop(s);
      p.clock.advance(10 * SEC);
    }
    p.clock.advance(2 * MIN);

    const digests = p.provinceMessages();
    expect(digests).toHaveLength(1);
    // Alert channels and the opted-in digest-only one; not the opted-out webhook.
    expect(digests[0]!.channels).toEqual(['email', 'lanh-dao', 'zalo']);
    const d = digests[0]!.message.kind === 'province' ? digests[0]!.message.province : undefined;
    expect(d).toMatchObject({ phase: 'wave', sitesInWave: 6, sitesTotal: 20, sitesBack: 0, boardUrl: 'https://canh.tinh.gov.vn/' });
    expect(d!.causes.pending).toBe(6);
    expect(d!.sites.map((s) => s.name)).toEqual(down.map(siteName));

    // Per site: exactly one message, on every alert channel (not the digest-only one).
    const perSite = p.siteMessages();
    expect(perSite.map((e) => (e.message.kind === 'alert' ? e.message.notification.site : '')).sort()).toEqual(down);
    for (const e of perSite) expect(e.channels).toEqual(['email', 'hook', 'zalo']);

    const vi = render(digests[0]!.message, { language: 'vi', timeZone: 'Asia/Ho_Chi_Minh' });
    expect(vi.subject).toBe('[SỰ CỐ DIỆN RỘNG] 6/20 điểm mất kết nối cùng lúc');
    expect(vi.text).toContain('Lúc 09:01 24/11/2026, 6 trong 20 điểm có máy giám sát (30%) ngừng gửi dữ liệu.');
    expect(vi.text).toContain('Nguyên nhân đến lúc này: mất điện: 0 · mất mạng: 0 · đang xác định nguyên nhân: 6');
    expect(vi.text).toContain('Các điểm: UBND xã Số 1, UBND xã Số 2, UBND xã Số 3, UBND xã Số 4, UBND xã Số 5, UBND xã Số 6');
    expect(vi.text).toContain('https://canh.tinh.gov.vn/');

    // Power back at all six, classified by the outage collector: one summary per channel.
    for (const s of down) p.back(s, 'power_cut');
    p.clock.advance(MIN);
    const after = p.provinceMessages();
    expect(after).toHaveLength(2);
    const summary = after.find((e) => e.message.kind === 'province' && e.message.province.phase === 'summary')!;
    expect(summary.channels).toEqual(['email', 'lanh-dao', 'zalo']);
    const en = render(summary.message, { language: 'en', timeZone: 'Asia/Ho_Chi_Minh' });
    expect(en.subject).toBe('[WIDESPREAD OUTAGE – SUMMARY] 6/6 sites back online');
    expect(en.text).toContain('All 6 sites are back online, after');
    expect(en.text).toContain('Causes so far: power cut: 6 · network cut: 0 · cause being determined: 0');
    // Per site: the resolved message too, still one per site per channel.
    const resolved = p.siteMessages().filter((e) => e.message.kind === 'alert' && e.message.notification.resolved.length > 0);
    expect(resolved).toHaveLength(6);
    // /metrics: digests queued, by phase.
    const text = p.metrics.render();
    expect(text).toMatch(/canh_notify_province_digests_total\{phase="wave"\} 1\b/);
    expect(text).toMatch(/canh_notify_province_digests_total\{phase="summary"\} 1\b/);
    await p.service.stop();
  });

  it('two sites drop: their own messages, no digest', async () => {
    const p = province();
    await p.service.start();
    for (const s of SITES) {
      p.status(s, 'pc1', 'online');
      p.status(s, 'pc2', 'online');
    }
    p.clock.advance(MIN);
    p.drop(SITES[0]!);
    p.drop(SITES[1]!);
    p.clock.advance(10 * MIN);
    expect(p.siteMessages()).toHaveLength(2);
    expect(p.provinceMessages()).toEqual([]);
    expect(p.provinceCalls()).toBe(0);
    await p.service.stop();
  });

  it('a restart rebuilt from the store neither repeats the digest nor forgets the wave: the summary still comes, once', async () => {
    const db = openDatabase(':memory:');
    const incidents = new Incidents();
    const p = province({ db, incidents });
    await p.service.start();
    for (const s of SITES) {
      p.status(s, 'pc1', 'online');
      p.status(s, 'pc2', 'online');
    }
    p.clock.advance(MIN);
    const down = SITES.slice(10, 16);
    for (const s of down) p.drop(s);
    p.clock.advance(2 * MIN);
    expect(p.provinceMessages()).toHaveLength(1);
    await p.service.stop();

    // The collector restarts on the same database (hosts stay offline in the store).
    const p2 = province({ db, incidents, clock: new FakeClock(p.clock.now()) });
    await p2.service.start();
    p2.clock.advance(5 * MIN);
    expect(p2.provinceCalls()).toBe(0);
    expect(p2.provinceMessages()).toHaveLength(1);
    for (const s of down) p2.back(s, s === down[0] ? 'network_cut' : 'power_cut');
    p2.clock.advance(MIN);
    const all = p2.provinceMessages().map((e) => (e.message.kind === 'province' ? e.message.province : undefined)!);
    expect(all.map((m) => m.phase).sort()).toEqual(['summary', 'wave']);
    const summary = all.find((m) => m.phase === 'summary')!;
    expect(summary.causes).toEqual({ power_cut: 5, network_cut: 1, mixed: 0, unknown: 0, pending: 0 });
    expect(summary.id).toBe(`${all.find((m) => m.phase === 'wave')!.id}:summary`);
    expect(p2.provinceCalls()).toBe(1);
    await p2.service.stop();
  });

  it('disabled in the config: per-site messages only', async () => {
    const clock = new FakeClock(T0);
    const db = openDatabase(':memory:');
    const store = new SqliteStore(db, ':memory:');
    const sent: string[] = [];
    const config = AlertingConfigSchema.parse({ provinceDigest: { enabled: false } });
    const sites = siteDirectory({}, SiteSettingsSchema.parse({}));
    const service = new AlertService({
      config,
      db,
      store,
      sites,
      clock,
      log: silentLogger(),
      sink: { enqueue: (n) => sent.push(n.site), enqueueProvince: (d) => sent.push(d.id) },
    });
    const ingest = new Ingest({ store, clock, log: silentLogger(), metrics: new MetricsRegistry(), onStored: (m) => service.onStored(m) });
    await service.start();
    const status = (site: string, state: string, seq: number) => {
      const t = clock.now();
      ingest.handle(
        topicFor(site, 'pc1', 'status'),
        Buffer.from(JSON.stringify({ v: 1, site, host: 'pc1', boot: 'boot0001', seq, t, sent: t, state, hostname: 'PC1', agentVersion: '0.1.0' })),
      );
    };
    for (const s of SITES) status(s, 'online', 1);
    clock.advance(MIN);
    for (const s of SITES.slice(0, 10)) status(s, 'offline', 2);
    clock.advance(5 * MIN);
    expect(sent).toHaveLength(10);
    expect(sent.some((x) => x.startsWith('province:'))).toBe(false);
    await service.stop();
  });
});
