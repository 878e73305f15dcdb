import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { createNetnsLab, type NetnsLab } from '../helpers/netns.js';
import { ZaloStandin } from '../helpers/zalo-standin.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Peak-hour congestion end to end (issue 4): two real agents in a network namespace ping
 * "the ISP" across a veth pair; iptables drops 30% of their packets to it
 * (`-m statistic --mode random --probability 0.3`) during a simulated working hour; the
 * real collector evaluates its rules and sends through its notifier outbox to the local
 * Zalo stand-in: one grouped congestion alert, then one resolved message when the drop stops.
 *
 * The working hour is simulated at the schedule's clock edge only: the collector runs with
 * `alerting.scheduleOffsetMs` = (the last Monday 09:00 in Asia/Ho_Chi_Minh) − now, so its
 * working-hours schedule reads Monday 09:00 while every timestamp stays real. The pending
 * duration and window are shortened from 10 min / 2 min to 15 s / 10 s; everything else is
 * default.
 */
const SITE = 'xa-tan-phu';
const BOT_TOKEN = '12345689:congestion-test-token';

function mondayNineOffset(now: number): number {
  const ICT = 7 * 3600_000;
  const localDayStart = Math.floor((now + ICT) / 86_400_000) * 86_400_000;
  const weekday = (new Date(localDayStart).getUTCDay() + 6) % 7; // Monday = 0
  const mondayNine = localDayStart - weekday * 86_400_000 + 9 * 3600_000 - ICT;
  return mondayNine - now;
}

describe('peak-hour congestion alert, agents in a network namespace with 30% packet drop', () => {
  let lab: NetnsLab;
  /** Where the collector's broker listens, and "the ISP" the agents ping (both beyond the gateway). */
  let broker = '';
  let isp = '';
  let dep: Deployment;
  let zalo: ZaloStandin;

  beforeAll(async () => {
    lab = createNetnsLab();
    broker = lab.addHostAddress();
    isp = lab.addHostAddress();
    zalo = new ZaloStandin({ botTokens: [BOT_TOKEN] });
    await zalo.start();
    dep = await createDeployment('canh-e2e-congestion-');
    await dep.startCollector({
      CANH_COLLECTOR__BROKER__EMBEDDED__HOST: broker,
      CANH_COLLECTOR__SITES: JSON.stringify({ [SITE]: { name: 'UBND xã Tân Phú' } }),
      CANH_COLLECTOR__ALERTING__SCHEDULE_OFFSET_MS: String(mondayNineOffset(Date.now())),
      CANH_COLLECTOR__ALERTING__EVALUATE_SECONDS: '1',
      CANH_COLLECTOR__ALERTING__GROUP_WAIT_SECONDS: '2',
      CANH_COLLECTOR__ALERTING__GROUP_INTERVAL_SECONDS: '5',
      CANH_COLLECTOR__ALERTING__RULES__PEAK_HOUR_CONGESTION__FOR_SECONDS: '15',
      CANH_COLLECTOR__ALERTING__RULES__PEAK_HOUR_CONGESTION__WINDOW_SECONDS: '10',
      CANH_COLLECTOR__NOTIFY__CHANNELS: JSON.stringify([{ type: 'zalo_bot', name: 'zalo', token: BOT_TOKEN, chatId: 'it-officer', baseUrl: zalo.url }]),
    });
    for (const host of ['pc-1', 'pc-2']) {
      await dep.startAgent(SITE, host, { prefix: [...lab.prefix], mqttHost: broker, env: { CANH_AGENT__PING__TARGETS: JSON.stringify([isp]) } });
    }
  });

  afterAll(async () => {
    await dep?.stopAll();
    await zalo?.stop();
    lab?.destroy();
  });

  it('one grouped congestion alert while 30% of packets are dropped, then a resolved message', async () => {
    // Both agents report pings to the target with no loss first.
    await waitFor(() => dep.query(`SELECT DISTINCT host FROM samples WHERE site = ? AND metrics LIKE ?`, SITE, `%${isp}%`).length === 2, {
      timeoutMs: 40_000,
      what: 'pings from both agents in the namespace',
    });
    await new Promise((r) => setTimeout(r, 5000));
    expect(zalo.botMessages).toHaveLength(0);

    lab.drop(isp, { probability: 0.3 }); // iptables -m statistic --mode random --probability 0.3
    const dropStart = Date.now();
    await waitFor(() => zalo.botMessages.length >= 1, { timeoutMs: 90_000, what: 'the congestion alert on Zalo' });
    const alert = zalo.botMessages[0]!;
    expect(alert.chatId).toBe('it-officer');
    expect(alert.text).toContain('[CẢNH BÁO] UBND xã Tân Phú');
    expect(alert.text).toContain('Mạng nghẽn giờ cao điểm');
    const loss = Number(/mất ([\d,]+)% gói tới/.exec(alert.text)?.[1]?.replace(',', '.'));
    expect(loss).toBeGreaterThan(10);
    expect(loss).toBeLessThan(60);
    expect(alert.text).toContain(isp);
    // Not before the (shortened) pending duration.
    expect(alert.at - dropStart).toBeGreaterThanOrEqual(15_000);

    lab.heal();
    await waitFor(() => zalo.botMessages.length >= 2, { timeoutMs: 90_000, what: 'the resolved message on Zalo' });
    await new Promise((r) => setTimeout(r, 8000));
    // Exactly two messages: one alert (grouped, not one per agent or per evaluation) and one resolution.
    expect(zalo.botMessages).toHaveLength(2);
    const resolved = zalo.botMessages[1]!;
    expect(resolved.text).toContain('[ĐÃ KHẮC PHỤC] UBND xã Tân Phú');
    // The resolved message quotes the figures that ended the alert (issue 13 item 5), not
    // the last bad ones: after the heal, the loss to the target is back under the recovery limit.
    expect(resolved.text).toContain('Mạng giờ cao điểm đã bình thường: nay');
    expect(resolved.text).not.toContain('mất 30');
    const rows = dep.query<{ rule: string; state: string; notified: string }>(`SELECT rule, state, notified FROM alerts WHERE site = ? AND starts_at IS NOT NULL`, SITE);
    expect(rows).toEqual([{ rule: 'peak_hour_congestion', state: 'resolved', notified: 'resolved' }]);
  });
});
