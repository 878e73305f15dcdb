import { describe, expect, it } from 'vitest';
import type { WindowEvent } from '../../../../collector/alerting/metric-windows.js';
import type { SiteIncident } from '../../../../collector/outage/outage-types.js';
import { host, NOW, ping, rule, ruleContext as ctx, sample } from '../../../helpers/rule-context.js';

/** The built-in rules are pure functions of (context, params): fed here with hand-made snapshots (test/helpers/rule-context.ts). */
describe('built-in rules', () => {
  it('congestion: latency against the off-peak baseline AND an absolute floor; hysteresis band holds', () => {
    const base = { 'ping:192.168.1.1': { latency: 2 } };
    const at = (p95: number) => rule('peak_hour_congestion')(ctx({ samples: { pc1: [sample({ ping: [ping('192.168.1.1', 0, p95, 'gateway')] })] }, baselines: base }))[0]!;
    expect(at(30).condition).toBe('recovered'); // 15× the baseline but under the 50 ms floor: LAN jitter, not congestion
    const bad = at(80);
    expect(bad.condition).toBe('firing');
    expect(bad.summary.vi).toContain('trễ p95 80 ms tới cổng mạng 192.168.1.1 (bình thường 2 ms)');
    expect(bad.hint.vi).toContain('switch');
    expect(at(350).condition).toBe('firing');
    // Without a baseline only the absolute limit speaks.
    const noBase = rule('peak_hour_congestion')(ctx({ samples: { pc1: [sample({ ping: [ping('8.8.8.8', 0, 200)] })] } }))[0]!;
    expect(noBase.condition).toBe('hold'); // 200 ms: over 300/1.5, under 300
  });

  it('congestion: a TTHC portal slower than normal, and the line full against its contract', () => {
    const slow = rule('peak_hour_congestion')(
      ctx({ samples: { pc1: [sample({ http: [{ name: 'dichvucong', ok: true, totalMs: 6200, error: undefined }] })] }, baselines: { 'http:dichvucong': { latency: 900 } } }),
    )[0]!;
    expect(slow.condition).toBe('firing');
    expect(slow.summary.vi).toContain('cổng dichvucong phản hồi chậm 6,2 giây (bình thường 0,9 giây)');
    const line = rule('peak_hour_congestion')(
      ctx({ lineMbps: 20, hosts: [host('pc1'), host('pc2')], samples: { pc1: [sample({ rxBps: 1.2e6 })], pc2: [sample({ rxBps: 1.2e6 })] } }),
    )[0]!;
    expect(line.condition).toBe('firing');
    expect(line.summary.vi).toContain('đường truyền dùng 19,2/20 Mbit/s (96% gói cước)');
    expect(line.summary.en).toContain('line in use 19.2/20 Mbit/s (96% of the contract)');
  });

  it('portal unreachable: share of failed probes from the site, with the commonest error', () => {
    const s = (ok: boolean, t: number) => sample({ http: [{ name: 'motcua', ok, totalMs: ok ? 500 : null, error: ok ? undefined : 'ETIMEDOUT' }] }, NOW - t);
    const down = rule('portal_unreachable')(ctx({ samples: { pc1: [s(false, 50_000), s(false, 40_000), s(false, 30_000), s(true, 20_000), s(false, 10_000)] } }))[0]!;
    expect(down).toMatchObject({ key: 'motcua', condition: 'firing', value: 80 });
    expect(down.summary.vi).toBe('Không vào được cổng motcua: 80% lần thử lỗi (ETIMEDOUT)');
    const up = rule('portal_unreachable')(ctx({ samples: { pc1: [s(true, 30_000), s(true, 20_000), s(true, 10_000)] } }))[0]!;
    expect(up.condition).toBe('recovered');
  });

  it('cpu and memory: sustained means with a recovery band', () => {
    const cpu = (v: number) => rule('cpu_saturation')(ctx({ samples: { pc1: Array.from({ length: 10 }, (_, i) => sample({ cpu: v }, NOW - i * 50_000)) } }))[0]!.condition;
    expect([cpu(95), cpu(80), cpu(60)]).toEqual(['firing', 'hold', 'recovered']);
    const mem = rule('memory_saturation')(ctx({ samples: { pc1: [sample({ memPct: 93 })] } }))[0]!;
    expect(mem.condition).toBe('firing');
    expect(mem.summary.vi).toBe('RAM dùng 93% trung bình 10 phút (ngưỡng 90%)');
  });

  it('freezes and crashes: counted from agent events over 24 h; power losses are not counted', () => {
    const ev = (type: string, cause?: string, ago = 3600_000): WindowEvent => ({ t: NOW - ago, type, start: undefined, end: undefined, details: cause ? { cause } : undefined });
    const r = rule('freezes_and_crashes')(ctx({ events: { pc1: [ev('freeze'), ev('freeze'), ev('outage', 'crash'), ev('outage', 'power_loss')] } }))[0]!;
    expect(r).toMatchObject({ condition: 'firing', value: 3, host: 'pc1' });
    expect(r.summary.vi).toBe('Máy bị treo 2 lần, khởi động lại bất thường 1 lần trong 24 giờ');
    expect(r.hint?.vi).toContain('Vì sao máy treo');
    const old = rule('freezes_and_crashes')(ctx({ events: { pc1: [ev('freeze', undefined, 30 * 3600_000), ev('freeze'), ev('freeze')] } }))[0]!;
    expect(old.condition).toBe('recovered');
  });

  it('power cuts: three in a week, or one long cut in working hours; a long night cut alone does not count', () => {
    const inc = (startIso: string, minutes: number): SiteIncident => {
      const start = Date.parse(`${startIso}+07:00`);
      return {
        id: 1,
        site: 'xa-a',
        state: 'resolved',
        cause: 'power_cut',
        start,
        end: start + minutes * 60_000,
        hosts: ['pc1'],
        hostsOut: [],
        hostsOnlineBefore: 1,
        uncertaintyMs: 0,
        evidence: {},
      };
    };
    const long = rule('frequent_power_cuts')(ctx({ incidents: [inc('2026-11-24T08:00:00', 40)] }))[0]!;
    expect(long.condition).toBe('firing');
    expect(long.summary.vi).toBe('Mất điện 1 lần trong 7 ngày, có lần kéo dài 40 phút trong giờ làm việc, gần nhất lúc 08:00 24/11');
    expect(rule('frequent_power_cuts')(ctx({ incidents: [inc('2026-11-23T22:00:00', 90)] }))[0]!.condition).toBe('recovered');
    const three = rule('frequent_power_cuts')(ctx({ incidents: [inc('2026-11-19T22:00:00', 3), inc('2026-11-21T22:00:00', 3), inc('2026-11-23T22:00:00', 3)] }))[0]!;
    expect(three).toMatchObject({ condition: 'firing', value: 3 });
  });

  it('network cut: an agent-reported WAN cut of 5 min or more in the last hour', () => {
    const ev: WindowEvent = { t: NOW - 60_000, type: 'network_cut', start: NOW - 20 * 60_000, end: NOW - 8 * 60_000, details: { scope: 'wan' } };
    const r = rule('network_cut')(ctx({ events: { pc1: [ev] } }))[0]!;
    expect(r).toMatchObject({ condition: 'firing', value: 12 });
    expect(r.summary.vi).toBe('Mất Internet 12 phút (09:10 24/11 → 09:22 24/11), 1 lần trong 60 phút');
    const short: WindowEvent = { ...ev, start: NOW - 10 * 60_000 };
    expect(rule('network_cut')(ctx({ events: { pc1: [short] } }))[0]!.condition).toBe('recovered');
  });

  it('site offline needs every known host offline; host offline and disk full speak per host', () => {
    expect(rule('site_offline')(ctx({ hosts: [host('pc1', 'offline'), host('pc2', 'offline'), host('pc3', 'unknown')] }))[0]).toMatchObject({
      condition: 'firing',
      value: 2,
      since: NOW - 600_000,
    });
    expect(rule('site_offline')(ctx({ hosts: [host('pc1', 'offline'), host('pc2', 'online')] }))[0]!.condition).toBe('recovered');
    const off = rule('host_offline')(ctx({ hosts: [host('pc1', 'offline')] }))[0]!;
    expect(off.summary.vi).toBe('Máy (PC1) mất kết nối, dữ liệu cuối lúc 09:20 24/11');
    const disk = rule('disk_nearly_full')(
      ctx({
        samples: {
          pc1: [
            sample({
              disks: [
                { mount: '/', usedPct: 40, free: 60e9 },
                { mount: 'D:', usedPct: 97, free: 3e9 },
              ],
            }),
          ],
        },
      }),
    )[0]!;
    expect(disk).toMatchObject({ condition: 'firing', value: 97 });
    expect(disk.summary.vi).toBe('Ổ D: đầy 97%, còn 3 GB');
  });
});
