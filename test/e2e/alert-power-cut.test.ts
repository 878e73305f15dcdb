import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { createApiToken, type CanhProcess } from '../helpers/processes.js';
import { ZaloStandin } from '../helpers/zalo-standin.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A site loses power (every agent killed) in a simulated working hour: one Zalo message for
 * the site, not one per PC (the PCs' host_offline alerts fire but are inhibited by the site
 * incident); when power is back, one resolved message, and the PCs' alerts are recorded as
 * resolved without a message. Real collector (with the outage collector), agents and
 * notifier; the Zalo stand-in on loopback. host_offline's pending time is shortened to 2 s
 * and the group interval to 5 s so the test is quick; the schedule reads Monday 09:00
 * (`alerting.scheduleOffsetMs`).
 */
const SITE = 'xa-mat-dien';
const TOKEN = '77777777:power-cut-test';

function mondayNineOffset(now: number): number {
  const ICT = 7 * 3600_000;
  const localDayStart = Math.floor((now + ICT) / 86_400_000) * 86_400_000;
  const weekday = (new Date(localDayStart).getUTCDay() + 6) % 7;
  return localDayStart - weekday * 86_400_000 + 9 * 3600_000 - ICT - now;
}

describe('site power cut → one grouped Zalo message, host alerts inhibited but recorded', () => {
  let dep: Deployment;
  let zalo: ZaloStandin;
  const agents: Array<{ host: string; agent: CanhProcess; stateDir: string; cred: { username: string; password: string } }> = [];

  beforeAll(async () => {
    zalo = new ZaloStandin({ botTokens: [TOKEN] });
    await zalo.start();
    dep = await createDeployment('canh-e2e-power-');
    await dep.startCollector({
      CANH_COLLECTOR__SITES: JSON.stringify({ [SITE]: { name: 'UBND xã Mất Điện' } }),
      CANH_COLLECTOR__ALERTING__SCHEDULE_OFFSET_MS: String(mondayNineOffset(Date.now())),
      CANH_COLLECTOR__ALERTING__GROUP_INTERVAL_SECONDS: '5',
      CANH_COLLECTOR__ALERTING__RULES__HOST_OFFLINE__FOR_SECONDS: '2',
      CANH_COLLECTOR__NOTIFY__CHANNELS: JSON.stringify([{ type: 'zalo_bot', name: 'zalo', token: TOKEN, chatId: 'officer', baseUrl: zalo.url }]),
    });
    for (const host of ['pc-1', 'pc-2', 'pc-3']) agents.push({ host, ...(await dep.startAgent(SITE, host)) });
  });

  afterAll(async () => {
    await dep?.stopAll();
    await zalo?.stop();
  });

  it('one message for the site while it is out, one when it is back; host alerts recorded, not sent', async () => {
    await waitFor(() => dep.query(`SELECT 1 FROM hosts WHERE site = ? AND state = 'online'`, SITE).length === 3, { timeoutMs: 40_000, what: '3 agents online' });
    await new Promise((r) => setTimeout(r, 3000));
    for (const a of agents) await a.agent.kill9();
    await waitFor(() => zalo.botMessages.length >= 1, { timeoutMs: 60_000, what: 'the power-cut message' });
    // Long enough for host_offline (2 s) to fire on every PC, and for any stray message.
    await new Promise((r) => setTimeout(r, 10_000));
    expect(zalo.botMessages).toHaveLength(1);
    const msg = zalo.botMessages[0]!.text;
    expect(msg).toContain('[CẢNH BÁO] UBND xã Mất Điện');
    expect(msg).toContain('Cả điểm mất kết nối: 3/3 máy ngừng gửi dữ liệu');
    expect(msg).not.toContain('pc-1');
    const hostAlerts = () =>
      dep.query<{ host: string; state: string; inhibited: number; notified: string }>(
        `SELECT host, state, inhibited, notified FROM alerts WHERE rule = 'host_offline' AND site = ? ORDER BY host`,
        SITE,
      );
    expect(hostAlerts()).toEqual(['pc-1', 'pc-2', 'pc-3'].map((host) => ({ host, state: 'firing', inhibited: 1, notified: 'none' })));

    // The same through the collector's REST API (real auth: an admin token).
    const { token } = createApiToken(dep.dataDir, 'admin', 'Trưởng bộ phận');
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${dep.httpPort}/api${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    const listed = (await (await api(`/alerts?site=${SITE}`)).json()) as { alerts: Array<{ rule: string; host: string | null; state: string; inhibited: boolean }> };
    // (Other rules may be pending on a busy test machine, e.g. cpu_saturation: only these two matter here.)
    const offline = listed.alerts.filter((a) => a.rule === 'host_offline' || a.rule === 'site_offline');
    expect(offline.map((a) => [a.rule, a.host, a.state, a.inhibited]).sort()).toEqual([
      ['host_offline', 'pc-1', 'firing', true],
      ['host_offline', 'pc-2', 'firing', true],
      ['host_offline', 'pc-3', 'firing', true],
      ['site_offline', null, 'firing', false],
    ]);
    const created = await api('/silences', { method: 'POST', body: JSON.stringify({ matchers: { site: 'xa-khac' }, endsAt: Date.now() + 3600_000, comment: 'Bảo trì' }) });
    expect(created.status).toBe(201);
    const silences = (await (await api('/silences')).json()) as { silences: Array<{ author: string; state: string }> };
    expect(silences.silences).toMatchObject([{ author: 'Trưởng bộ phận', state: 'active' }]);

    // Power is back: the agents start again.
    for (const a of agents) a.agent = (await dep.startAgent(SITE, a.host, { stateDir: a.stateDir, cred: a.cred })).agent;
    await waitFor(() => zalo.botMessages.length >= 2, { timeoutMs: 60_000, what: 'the resolved message' });
    await new Promise((r) => setTimeout(r, 8000));
    expect(zalo.botMessages).toHaveLength(2);
    expect(zalo.botMessages[1]!.text).toContain('[ĐÃ KHẮC PHỤC] UBND xã Mất Điện');
    expect(zalo.botMessages[1]!.text).toContain('Cả điểm mất kết nối');
    await waitFor(() => hostAlerts().every((a) => a.state === 'resolved'), { timeoutMs: 20_000, what: 'host alerts resolved' });
    expect(hostAlerts()).toEqual(['pc-1', 'pc-2', 'pc-3'].map((host) => ({ host, state: 'resolved', inhibited: 1, notified: 'none' })));
  });
});
