import { describe, expect, it } from 'vitest';
import type { NotifiedAlert } from '../../../../../collector/alerting/alert-types.js';
import { renderNotification } from '../../../../../collector/alerting/messages.js';
import type { WindowEvent } from '../../../../../collector/alerting/metric-windows.js';
import { incidentSummary } from '../../../../../collector/alerting/rules/site-offline.js';
import type { SiteIncident } from '../../../../../collector/outage/outage-types.js';
import { host, NOW, ping, rule, ruleContext as ctx, sample } from '../../../../helpers/rule-context.js';

/**
 * site_offline's texts (issue 13 item 2): the first message says what is known at that
 * moment (every PC silent, at once or not, and what points to power: a UPS on battery, the
 * gateway silent in the PCs' last samples), the resolved one the cause, start, end, length,
 * hosts and evidence of the classified site incident, in Vietnamese and in English.
 */
const siteOffline = rule('site_offline');
const ict = (hm: string) => Date.parse(`2026-11-24T${hm}+07:00`);

const offlineSince = (h: string, agoMs: number) => host(h, 'offline', { stateSince: NOW - agoMs, lastSeen: NOW - agoMs });
const onBattery = (agoMs = 60_000): WindowEvent => ({ t: NOW - agoMs, type: 'power_source', start: NOW - agoMs, end: undefined, details: { source: 'battery' } });
const gatewaySilent = () => [sample({ ping: [ping('192.168.1.1', 100, null, 'gateway')] })];

function incident(over: Partial<SiteIncident> & { verdicts?: Record<string, string> } = {}): SiteIncident {
  const hosts = over.hosts ?? ['pc-1', 'pc-2', 'pc-3', 'pc-4', 'pc-5'];
  const verdicts = over.verdicts ?? Object.fromEntries(hosts.map((h) => [h, 'power']));
  return {
    id: 7,
    site: 'xa-a',
    state: 'resolved',
    cause: 'power_cut',
    start: ict('08:14:00'),
    end: ict('08:16:30'),
    hosts,
    hostsOut: [],
    hostsOnlineBefore: hosts.length,
    uncertaintyMs: 0,
    evidence: { hosts: Object.fromEntries(Object.entries(verdicts).map(([h, verdict]) => [h, { verdict }])) },
    ...over,
  };
}

describe('site_offline: the first message says what is known then', () => {
  it('PCs dropping at once with a UPS on battery and the gateway silent: the signs of a power cut, the cause still open', () => {
    const [o] = siteOffline(
      ctx({
        hosts: [offlineSince('pc1', 40_000), offlineSince('pc2', 30_000), offlineSince('pc3', 20_000)],
        events: { pc1: [onBattery()], pc2: [onBattery()] },
        samples: { pc1: gatewaySilent(), pc2: gatewaySilent(), pc3: gatewaySilent() },
      }),
    );
    expect(o).toMatchObject({ condition: 'firing', value: 3, since: NOW - 40_000, host: null });
    expect(o!.summary.vi).toBe(
      'Cả điểm mất kết nối: 3/3 máy ngừng gửi dữ liệu cùng lúc (trong 20 giây), đang xác định nguyên nhân. ' +
        'Dấu hiệu mất điện: UPS chạy bằng pin (2 máy); cổng mạng (gateway) cũng im lặng (3 máy)',
    );
    expect(o!.summary.en).toBe(
      'Whole site offline: 3/3 PCs stopped reporting at once (within 20 s); cause being determined. ' +
        'Signs of a power cut: UPS on battery (2 PCs); the gateway silent too (3 PCs)',
    );
    expect(o!.summary.timed).toBeUndefined();
  });

  it('one PC on battery, PCs dropping minutes apart, no gateway data: no "at once", power or network still open', () => {
    const [o] = siteOffline(ctx({ hosts: [offlineSince('pc1', 300_000), offlineSince('pc2', 60_000)], events: { pc2: [onBattery()] } }));
    expect(o!.summary.vi).toBe('Cả điểm mất kết nối: 2/2 máy ngừng gửi dữ liệu, đang xác định nguyên nhân. Dấu hiệu mất điện: UPS chạy bằng pin (1 máy)');
    expect(o!.summary.en).toBe('Whole site offline: 2/2 PCs stopped reporting; cause being determined. Signs of a power cut: UPS on battery (1 PC)');
    // Nothing points to power: both are told as possible.
    const [none] = siteOffline(ctx({ hosts: [offlineSince('pc1', 30_000), offlineSince('pc2', 30_000)] }));
    expect(none!.summary.vi).toBe('Cả điểm mất kết nối: 2/2 máy ngừng gửi dữ liệu cùng lúc, đang xác định nguyên nhân (mất điện hay mất mạng)');
    expect(none!.summary.en).toBe('Whole site offline: 2/2 PCs stopped reporting at once; cause being determined (power or network cut)');
  });

  it('a UPS back on mains and a gateway that answered are not signs; an old battery event (over 30 min) is not either', () => {
    const mains: WindowEvent = { ...onBattery(), details: { source: 'mains' } };
    const [o] = siteOffline(
      ctx({
        hosts: [offlineSince('pc1', 30_000), offlineSince('pc2', 30_000)],
        events: { pc1: [onBattery(120_000), mains], pc2: [onBattery(40 * 60_000)] },
        samples: { pc1: [sample({ ping: [ping('192.168.1.1', 0, 2, 'gateway')] })] },
      }),
    );
    expect(o!.summary.vi).toContain('đang xác định nguyên nhân (mất điện hay mất mạng)');
    expect(o!.summary.vi).not.toContain('Dấu hiệu');
  });

  it('PCs switched off cleanly are neither out nor counted; a site switched off entirely never fires', () => {
    const stopped = new Map([['pc3', NOW - 50_000]]);
    const [o] = siteOffline(ctx({ hosts: [offlineSince('pc1', 30_000), offlineSince('pc2', 30_000), offlineSince('pc3', 50_000)], stopped }));
    expect(o).toMatchObject({ condition: 'firing', value: 2 });
    expect(o!.summary.vi).toContain('2/2 máy');
    const all = new Map([
      ['pc1', NOW - 30_000],
      ['pc2', NOW - 30_000],
    ]);
    expect(siteOffline(ctx({ hosts: [offlineSince('pc1', 30_000), offlineSince('pc2', 30_000)], stopped: all }))[0]!.condition).toBe('recovered');
  });

  it('back, but the incident still open (being classified): the alert holds, no resolution yet', () => {
    const open = incident({ state: 'open', cause: 'unknown', end: null });
    const [o] = siteOffline(ctx({ hosts: [host('pc1'), offlineSince('pc2', 30_000)], openIncidents: [open] }));
    expect(o!.condition).toBe('hold');
    expect(o!.resolvedSummary).toBeUndefined();
  });
});

describe('site_offline: the resolved message states cause, start, end, length, hosts and evidence', () => {
  const at = ict('08:20:00');

  it('a power cut: "Mất điện 08:14–08:16 (2 phút 30 giây), 5/5 máy khởi động lại: …"', () => {
    const [o] = siteOffline(ctx({ now: at, hosts: [host('pc-1')], incidents: [incident()] }));
    expect(o!.condition).toBe('recovered');
    expect(o!.resolvedSummary).toEqual({
      vi: 'Mất điện 08:14–08:16 (2 phút 30 giây), 5/5 máy khởi động lại: pc-1, pc-2, pc-3, pc-4, pc-5',
      en: 'Power cut 08:14–08:16 (2 min 30 s), 5/5 PCs restarted: pc-1, pc-2, pc-3, pc-4, pc-5',
      timed: true,
    });
  });

  it('a network cut, a mixed one and an unknown one say so, with the evidence per host', () => {
    const net = incidentSummary(incident({ cause: 'network_cut', hosts: ['pc-2', 'pc-1', 'pc-3'], verdicts: { 'pc-1': 'network', 'pc-2': 'network', 'pc-3': 'network' } }));
    expect(net.vi).toBe('Mất mạng 08:14–08:16 (2 phút 30 giây), 3/3 máy vẫn chạy và gửi bù dữ liệu: pc-1, pc-2, pc-3');
    expect(net.en).toBe("Network cut 08:14–08:16 (2 min 30 s), 3/3 PCs kept running and sent the gap's data: pc-1, pc-2, pc-3");
    const mixed = incidentSummary(incident({ cause: 'mixed', hosts: ['pc-1', 'pc-2', 'pc-3'], verdicts: { 'pc-1': 'power', 'pc-2': 'network', 'pc-3': 'network' } }));
    expect(mixed.vi).toBe('Mất điện và mất mạng 08:14–08:16 (2 phút 30 giây), 1/3 máy khởi động lại, 2/3 máy vẫn chạy và gửi bù dữ liệu: pc-1, pc-2, pc-3');
    expect(mixed.en).toBe("Power and network cut 08:14–08:16 (2 min 30 s), 1/3 PCs restarted, 2/3 PCs kept running and sent the gap's data: pc-1, pc-2, pc-3");
    const unknown = incidentSummary(incident({ cause: 'unknown', start: ict('08:14:00'), end: ict('09:19:00'), hosts: ['pc-1'], verdicts: {} }));
    expect(unknown.vi).toBe('Cả điểm mất kết nối 08:14–09:19 (1 giờ 5 phút), chưa rõ nguyên nhân: pc-1');
    expect(unknown.en).toBe('Whole site offline 08:14–09:19 (1 h 5 min), cause unknown: pc-1');
  });

  it('more than 8 hosts are cut short; an incident older than the lookback is not told as the cause', () => {
    const hosts = Array.from({ length: 12 }, (_, i) => `pc-${String(i + 1).padStart(2, '0')}`);
    expect(incidentSummary(incident({ hosts })).vi).toBe(
      'Mất điện 08:14–08:16 (2 phút 30 giây), 12/12 máy khởi động lại: pc-01, pc-02, pc-03, pc-04, pc-05, pc-06, pc-07, pc-08, …',
    );
    const [o] = siteOffline(ctx({ now: ict('09:00:00'), hosts: [host('pc-1')], incidents: [incident()] }));
    expect(o!.condition).toBe('recovered');
    expect(o!.resolvedSummary).toBeUndefined();
  });

  it('the message line is the incident text itself, not "(start → end, kéo dài …)" again', () => {
    const summary = incidentSummary(incident());
    const a: NotifiedAlert = {
      id: 1,
      fingerprint: 'site_offline:xa-a',
      rule: 'site_offline',
      site: 'xa-a',
      host: null,
      key: '',
      severity: 'critical',
      state: 'resolved',
      startsAt: ict('08:14:10'),
      endsAt: ict('08:17:00'),
      value: 0,
      summary,
      hint: { vi: 'điện lưới', en: 'mains power' },
      isNew: false,
    };
    const vi = renderNotification({ siteName: 'UBND xã A', kind: 'resolved', firing: [], resolved: [a] }, 'vi');
    expect(vi.text).toBe('[ĐÃ KHẮC PHỤC] UBND xã A: 1 vấn đề\n• Mất điện 08:14–08:16 (2 phút 30 giây), 5/5 máy khởi động lại: pc-1, pc-2, pc-3, pc-4, pc-5');
    const en = renderNotification({ siteName: 'UBND xã A', kind: 'resolved', firing: [], resolved: [a] }, 'en');
    expect(en.text).toBe('[RESOLVED] UBND xã A: 1 problem\n• Power cut 08:14–08:16 (2 min 30 s), 5/5 PCs restarted: pc-1, pc-2, pc-3, pc-4, pc-5');
  });
});
