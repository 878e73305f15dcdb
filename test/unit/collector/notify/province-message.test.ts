/**
 * The province digest's texts and its way through the outbox (issue 12 item 6): Vietnamese
 * with diacritics by default, English per channel; at most 20 names then "… và N điểm
 * khác"; the summary says "all" only when every site is back; the outbox takes a wave's
 * message once, for the channels that subscribe.
 */
import { describe, expect, it } from 'vitest';
import { NotifyConfigSchema } from '../../../../collector/notify/config.js';
import type { Notifier } from '../../../../collector/notify/notifier.js';
import { NotifyService } from '../../../../collector/notify/notify-service.js';
import { ProvinceDigestSchema, type ProvinceDigest } from '../../../../collector/notify/province-message.js';
import { render } from '../../../../collector/notify/render.js';
import { openDatabase } from '../../../../collector/store/sqlite-store.js';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const TZ = 'Asia/Ho_Chi_Minh';
const START = Date.UTC(2026, 10, 24, 1, 14, 0); // 08:14 in Hồ Chí Minh
const MIN = 60_000;

function digest(over: Partial<ProvinceDigest> = {}, n = 6, back = 0): ProvinceDigest {
  const sites = Array.from({ length: n }, (_, i) => ({
    site: `xa-${i + 1}`,
    name: `UBND xã Phước ${i + 1}`,
    since: START + i * 5000,
    backAt: i < back ? START + (20 + i) * MIN : null,
    cause: (i < back ? 'power_cut' : 'pending') as ProvinceDigest['sites'][number]['cause'],
  }));
  return ProvinceDigestSchema.parse({
    id: `province:${START}`,
    phase: 'wave',
    createdAt: START + 2 * MIN,
    waveStart: START,
    lastDrop: START + (n - 1) * 5000,
    sitesTotal: 120,
    sitesInWave: n,
    sitesBack: back,
    causes: { power_cut: back, network_cut: 0, mixed: 0, unknown: 0, pending: n - back },
    backMedianMs: null,
    backLongestMs: null,
    sites,
    ...over,
  });
}
const msg = (d: ProvinceDigest) => ({ kind: 'province' as const, province: d });

describe('province digest texts', () => {
  it('Vietnamese: how many of how many, the span, causes so far, the names, a pointer to the board', () => {
    const r = render(msg(digest({ boardUrl: 'https://canh.tinh.gov.vn/' })), { language: 'vi', timeZone: TZ });
    expect(r.subject).toBe('[SỰ CỐ DIỆN RỘNG] 6/120 điểm mất kết nối cùng lúc');
    expect(r.text).toContain('Lúc 08:14 24/11/2026, 6 trong 120 điểm có máy giám sát (5%) ngừng gửi dữ liệu.');
    expect(r.text).toContain('Nguyên nhân đến lúc này: mất điện: 0 · mất mạng: 0 · đang xác định nguyên nhân: 6');
    expect(r.text).toContain('Đã có kết nối trở lại: 0/6 điểm.');
    expect(r.text).toContain('Các điểm: UBND xã Phước 1, UBND xã Phước 2, UBND xã Phước 3, UBND xã Phước 4, UBND xã Phước 5, UBND xã Phước 6\n');
    expect(r.text).toContain('Xem chi tiết trên bảng theo dõi Canh: https://canh.tinh.gov.vn/');
    expect(r.text).not.toContain('điểm khác');
    expect(r.html).toContain('<h2>[SỰ CỐ DIỆN RỘNG] 6/120 điểm mất kết nối cùng lúc</h2>');
  });

  it('more than 20 sites: 20 names, then "… và N điểm khác"; mixed and unknown causes shown when present', () => {
    const d = digest({ causes: { power_cut: 30, network_cut: 4, mixed: 2, unknown: 1, pending: 8 }, sitesInWave: 45 }, 45);
    const r = render(msg(d), { language: 'vi', timeZone: TZ });
    expect(r.text).toContain('UBND xã Phước 20 … và 25 điểm khác');
    expect(r.text).not.toContain('UBND xã Phước 21');
    expect(r.text).toContain('mất điện: 30 · mất mạng: 4 · mất điện và mất mạng: 2 · chưa rõ nguyên nhân: 1 · đang xác định nguyên nhân: 8');
    // Fits one Zalo message.
    expect([...r.text].length).toBeLessThanOrEqual(2000);
    // 45 drops 5 s apart: 08:14 to 08:17.
    expect(r.text).toContain('Từ 08:14 24/11/2026 đến 08:17 24/11/2026, 45 trong 120 điểm có máy giám sát (37,5%) ngừng gửi dữ liệu.');
    const en = render(msg(d), { language: 'en', timeZone: TZ });
    expect(en.text).toContain('UBND xã Phước 20 … and 25 more');
    expect(en.text).toContain('From 08:14 24/11/2026 to 08:17 24/11/2026, 45 of 120 monitored sites (37.5%) stopped reporting.');
  });

  it('English: the wave, and a summary with everyone back', () => {
    const w = render(msg(digest()), { language: 'en', timeZone: TZ });
    expect(w.subject).toBe('[WIDESPREAD OUTAGE] 6/120 sites offline at once');
    expect(w.text).toContain('At 08:14 24/11/2026, 6 of 120 monitored sites (5%) stopped reporting.');
    expect(w.text).toContain('Causes so far: power cut: 0 · network cut: 0 · cause being determined: 6');
    expect(w.text).toContain('Details on the Canh board (Overview and Alerts pages).');
    const s = render(msg(digest({ id: `province:${START}:summary`, phase: 'summary', backMedianMs: 22 * MIN, backLongestMs: 25 * MIN }, 6, 6)), { language: 'en', timeZone: TZ });
    expect(s.subject).toBe('[WIDESPREAD OUTAGE – SUMMARY] 6/6 sites back online');
    expect(s.text).toContain('Outage wave from 08:14 24/11/2026: 6 of 120 sites went offline.');
    expect(s.text).toContain('All 6 sites are back online, after 22 min (median), longest 25 min.');
    expect(s.text).not.toContain('still offline');
  });

  it('a summary with sites still out never says all: Vietnamese counts who is back and names who is not', () => {
    const d = digest({ id: `province:${START}:summary`, phase: 'summary', backMedianMs: 21 * MIN, backLongestMs: 64 * MIN }, 6, 4);
    const r = render(msg(d), { language: 'vi', timeZone: TZ });
    expect(r.subject).toBe('[SỰ CỐ DIỆN RỘNG – CẬP NHẬT] 4/6 điểm đã có kết nối trở lại');
    expect(r.text).toContain('4/6 điểm đã có kết nối trở lại, sau 21 phút (trung vị), lâu nhất 1 giờ 4 phút.');
    expect(r.text).toContain('Còn 2 điểm chưa có kết nối: UBND xã Phước 5, UBND xã Phước 6');
    expect(r.text).not.toContain('Cả 6 điểm');
    const none = render(msg(digest({ id: `province:${START}:summary`, phase: 'summary' })), { language: 'vi', timeZone: TZ });
    expect(none.text).toContain('Chưa điểm nào trong 6 điểm có kết nối trở lại.');
    const en = render(msg(d), { language: 'en', timeZone: TZ });
    expect(en.subject).toBe('[WIDESPREAD OUTAGE – UPDATE] 4/6 sites back online');
    expect(en.text).toContain('2 sites still offline: UBND xã Phước 5, UBND xã Phước 6');
    expect(en.text).not.toContain('All ');
  });
});

describe('province digest in the outbox', () => {
  const fake = (name: string): Notifier => ({
    name,
    type: 'webhook',
    language: 'vi',
    parts: (r) => [r],
    send: () => Promise.resolve({ status: 'accepted' }),
    close: () => Promise.resolve(),
  });

  it('queued once per wave for the subscribing channels; a repeat is a duplicate; invalid is refused; counted in /metrics', () => {
    const db = openDatabase(':memory:');
    const metrics = new MetricsRegistry();
    const config = NotifyConfigSchema.parse({
      channels: [
        { type: 'zalo_bot', name: 'zalo', token: 'bot-token-12345678', chatId: 'g' },
        { type: 'email', name: 'daily', host: 'h', from: 'a@b.vn', to: ['c@d.vn'], digestOnly: true },
        { type: 'webhook', name: 'hook', url: 'http://127.0.0.1:9/x', provinceDigest: false },
      ],
    });
    const s = new NotifyService(config, { db, clock: new FakeClock(), log: silentLogger(), metrics, notifiers: [fake('zalo'), fake('daily'), fake('hook')] });
    const first = s.enqueueProvince(digest());
    expect(first).toEqual({ queued: 1, duplicate: false, dropped: 0 });
    expect(s.outbox.deliveriesOf(`province:${START}`).map((d) => d.channel)).toEqual(['zalo']);
    expect(s.enqueueProvince(digest()).duplicate).toBe(true);
    expect(() => s.enqueueProvince({ ...digest(), sitesInWave: -1 })).toThrow(/invalid province digest: sitesInWave/);
    const stored = s.outbox.message(`province:${START}`);
    expect(stored?.kind === 'province' && stored.province.sitesInWave).toBe(6);
    expect(metrics.render()).toMatch(/canh_notify_province_digests_total\{phase="wave"\} 1\b/);
  });
});
