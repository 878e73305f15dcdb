import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertingDeployment, wordsWithDiacritics, type AlertingDeployment } from '../helpers/alerting-deployment.js';
import { BROKERS } from '../helpers/deployment.js';
import { createApiToken, startAgentBundle, type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 13 items 1 and 2 with real processes (collector, five agents, the Zalo stand-in and
 * a real SMTP server on loopback), once with the collector's embedded broker and once with a
 * real Mosquitto (production config exported by `canh credentials export-mosquitto`, the
 * collector in external-broker mode):
 * - closing time: every agent stopped with SIGTERM → no message on any channel (Zalo in
 *   Vietnamese and English, e-mail), no incident, and `/api/sites` shows the site as
 *   switched off (`off`, "Đã tắt máy"), not offline;
 * - a power cut (SIGKILL, restarted with a later OS boot) → the first message says what is
 *   known ("đang xác định nguyên nhân", the PCs dropped at once), the resolved one
 *   "Mất điện HH:MM–HH:MM (…), 5/5 máy khởi động lại" with the hosts, within ~30 s of the
 *   incident's classification (measured); the English channel gets the same in English.
 */
const HOSTS = ['pc-1', 'pc-2', 'pc-3', 'pc-4', 'pc-5'];

describe.each(BROKERS)('clean stop is not an outage; a power cut says so (%s broker)', { timeout: 240_000 }, (broker) => {
  let a: AlertingDeployment;
  const running: CanhProcess[] = [];

  beforeAll(async () => {
    a = await startAlertingDeployment(`canh-e2e-clean-stop-${broker}-`, {
      broker,
      sites: { 'xa-tat-may': { name: 'UBND xã Tắt Máy' }, 'xa-mat-dien': { name: 'UBND xã Mất Điện' } },
    });
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop('SIGTERM', 10_000)));
    await a?.stop();
  });

  const online = (site: string) => a.dep.query(`SELECT 1 FROM hosts WHERE site = ? AND state = 'online'`, site).length;

  it('5 agents stopped with SIGTERM: no notification on any channel, no incident, the site is "đã tắt máy"', async () => {
    const { dep } = a;
    const site = 'xa-tat-may';
    const agents = [];
    for (const host of HOSTS) agents.push(await dep.startAgent(site, host));
    await waitFor(() => online(site) === 5, { timeoutMs: 60_000, what: '5 agents online' });
    await new Promise((r) => setTimeout(r, 3000));
    expect((await Promise.all(agents.map((x) => x.agent.stop('SIGTERM', 15_000)))).every((c) => c === 0)).toBe(true);
    await waitFor(() => online(site) === 0, { timeoutMs: 20_000, what: 'hosts offline' });
    // site_offline would fire 10 s (its forSeconds) after the drop, and be sent after the
    // 5 s group wait: wait well past both (and a delivery retry).
    await new Promise((r) => setTimeout(r, 25_000));
    expect(a.zalo.botMessages).toEqual([]);
    expect(a.mail.mails).toEqual([]);
    expect(dep.query(`SELECT 1 FROM alerts WHERE site = ? AND rule IN ('site_offline', 'host_offline')`, site)).toEqual([]);
    expect(dep.query(`SELECT 1 FROM outage_incident WHERE site = ?`, site)).toEqual([]);
    expect(dep.query(`SELECT 1 FROM outage_host WHERE site = ?`, site)).toEqual([]);
    const { token } = createApiToken(dep.dataDir, 'read', 'Cán bộ');
    const res = await fetch(`http://127.0.0.1:${dep.httpPort}/api/sites`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { sites: Array<{ site: string; state: string; stateText: string; worst: { level: string } }> };
    expect(body.sites.find((s) => s.site === site)).toMatchObject({ state: 'off', stateText: 'Đã tắt máy', worst: { level: 'ok' } });
  });

  it('a power cut: first message "đang xác định nguyên nhân", resolved "Mất điện HH:MM–HH:MM (…), 5/5 máy khởi động lại" within 30 s of the classification; English on the English channel', async () => {
    const { dep } = a;
    const site = 'xa-mat-dien';
    const firstBoot = Date.now() - 3600_000;
    const agents = [];
    for (const host of HOSTS) agents.push({ host, ...(await dep.startAgent(site, host, { env: { CANH_AGENT_PLATFORM_BOOT_TIME: String(firstBoot) } })) });
    await waitFor(() => online(site) === 5, { timeoutMs: 60_000, what: '5 agents online' });
    await new Promise((r) => setTimeout(r, 3000));
    const before = { vi: a.vi().length, en: a.en().length, mail: a.mail.mails.length };
    await Promise.all(agents.map((x) => x.agent.kill9()));
    const killedAt = Date.now();
    await waitFor(() => a.vi().length > before.vi, { timeoutMs: 60_000, what: 'the first message' });
    const first = a.vi()[before.vi]!.text;
    expect(first).toContain('[CẢNH BÁO] UBND xã Mất Điện');
    expect(first).toContain('Cả điểm mất kết nối: 5/5 máy ngừng gửi dữ liệu cùng lúc');
    expect(first).toContain('đang xác định nguyên nhân');
    await waitFor(() => a.en().length > before.en, { timeoutMs: 30_000, what: 'the first message in English' });
    const firstEn = a.en()[before.en]!.text;
    expect(firstEn).toContain('[ALERT] UBND xã Mất Điện');
    expect(firstEn).toContain('Whole site offline: 5/5 PCs stopped reporting at once');
    expect(firstEn).toContain('cause being determined');
    // Only the site's configured name is Vietnamese in the English text.
    expect(wordsWithDiacritics(firstEn.replaceAll('UBND xã Mất Điện', ''))).toEqual([]);

    await new Promise((r) => setTimeout(r, 2500));
    const newBoot = killedAt + 2000;
    for (const x of agents)
      running.push(startAgentBundle(dep.agentEnv(site, x.host, x.cred, x.stateDir, { CANH_AGENT_PLATFORM_BOOT_TIME: String(newBoot) }), `agent ${x.host} (after the cut)`));
    let classifiedAt = 0;
    await waitFor(
      () => {
        const r = dep.query<{ state: string }>(`SELECT state FROM outage_incident WHERE site = ?`, site);
        if (r[0]?.state === 'resolved' && !classifiedAt) classifiedAt = Date.now();
        return classifiedAt > 0;
      },
      { timeoutMs: 90_000, intervalMs: 100, what: 'incident classified' },
    );
    await waitFor(() => a.vi().length > before.vi + 1, { timeoutMs: 60_000, what: 'the resolved message' });
    const delay = a.vi()[before.vi + 1]!.at - classifiedAt;
    console.log(`[${broker}] classification → resolved message: ${delay} ms`);
    expect(delay).toBeLessThan(30_000);
    const resolved = a.vi()[before.vi + 1]!.text;
    expect(resolved).toContain('[ĐÃ KHẮC PHỤC] UBND xã Mất Điện');
    expect(resolved).toMatch(/Mất điện \d\d:\d\d–\d\d:\d\d \(\d+ (phút|giây)[^)]*\), 5\/5 máy khởi động lại: pc-1, pc-2, pc-3, pc-4, pc-5/);
    const i = dep.query<{ cause: string }>(`SELECT cause FROM outage_incident WHERE site = ?`, site)[0]!;
    expect(i.cause).toBe('power_cut');

    await waitFor(() => a.en().length > before.en + 1, { timeoutMs: 30_000, what: 'the resolved message in English' });
    const resolvedEn = a.en()[before.en + 1]!.text;
    expect(resolvedEn).toContain('[RESOLVED] UBND xã Mất Điện');
    expect(resolvedEn).toMatch(/Power cut \d\d:\d\d–\d\d:\d\d \(\d+ (min|s)[^)]*\), 5\/5 PCs restarted: pc-1, pc-2, pc-3, pc-4, pc-5/);
    expect(wordsWithDiacritics(resolvedEn.replaceAll('UBND xã Mất Điện', ''))).toEqual([]);

    // The e-mail channel: the alert, then the resolution with the cause.
    await waitFor(() => a.mail.mails.length >= before.mail + 2, { timeoutMs: 30_000, what: 'the two e-mails' });
    const [mailFirst, mailResolved] = a.mail.mails.slice(before.mail);
    expect(mailFirst!.subject).toContain('[CẢNH BÁO] UBND xã Mất Điện');
    expect(mailResolved!.subject).toContain('[ĐÃ KHẮC PHỤC] UBND xã Mất Điện');
    expect(mailResolved!.text).toMatch(/Mất điện \d\d:\d\d–\d\d:\d\d \([^)]*\), 5\/5 máy khởi động lại: pc-1, pc-2, pc-3, pc-4, pc-5/);
  });
});
