import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactDurationText, hhmm } from '../../collector/alerting/messages.js';
import { startAlertingDeployment, wordsWithDiacritics, type AlertingDeployment } from '../helpers/alerting-deployment.js';
import type { CanhProcess } from '../helpers/processes.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 13 item 2 for a network cut, with real processes: five agents of one site lose the
 * broker while they keep running (a blackhole TCP proxy on loopback: no FIN, no RST, only
 * keepalives notice) and come back without rebooting. The officer is told twice, on every
 * channel (Zalo in Vietnamese and in English, e-mail through a real SMTP server):
 * - first, what is known then: the whole site stopped reporting, cause being determined;
 * - then, within ~30 s of the incident's classification (measured from when the API first
 *   shows it resolved): "Mất mạng HH:MM–HH:MM (…), 5/5 máy vẫn chạy và gửi bù dữ liệu: pc-1, …"
 *   with the incident's own start, end and length.
 */
const HOSTS = ['pc-1', 'pc-2', 'pc-3', 'pc-4', 'pc-5'];
const SITE = 'xa-mat-mang';
const NAME = 'UBND xã Mất Mạng';

interface ApiIncident {
  id: number;
  site: string;
  state: string;
  cause: string;
  start: number;
  end: number | null;
  hosts: string[];
}

describe('network cut → first message, then "Mất mạng …" within 30 s of the classification', { timeout: 240_000 }, () => {
  let a: AlertingDeployment;
  let proxy: TcpProxy;
  const agents: CanhProcess[] = [];

  beforeAll(async () => {
    a = await startAlertingDeployment('canh-e2e-net-alert-', { broker: 'embedded', sites: { [SITE]: { name: NAME } } });
    proxy = await startTcpProxy(a.dep.mqttPort);
  });
  afterAll(async () => {
    await Promise.all(agents.map((p) => p.stop('SIGTERM', 10_000)));
    await proxy?.close();
    await a?.stop();
  });

  const incidents = () => a.dep.api<{ incidents: ApiIncident[] }>(`/api/incidents?site=${SITE}&from=${Date.now() - 3600_000}`).then((r) => r.incidents);

  it('the resolved message names the network cut, its start, end, length and hosts, on Zalo (vi, en) and by e-mail', async () => {
    const { dep } = a;
    for (const host of HOSTS) {
      // Keepalive 4 s (the Last Will 6 s after the last packet) keeps the test short.
      const { agent } = await dep.startAgent(SITE, host, { env: { CANH_AGENT__MQTT__URL: `mqtt://127.0.0.1:${proxy.port}`, CANH_AGENT__MQTT__KEEPALIVE_SECONDS: '4' } });
      agents.push(agent);
    }
    await waitFor(() => dep.query(`SELECT 1 FROM hosts WHERE site = ? AND state = 'online'`, SITE).length === 5, { timeoutMs: 60_000, what: '5 agents online' });
    await new Promise((r) => setTimeout(r, 3000));

    proxy.blackhole();
    const cutAt = Date.now();
    // What is known while it lasts: the site is silent, the cause not yet known.
    await waitFor(() => a.vi().length >= 1, { timeoutMs: 60_000, what: 'the first message' });
    const first = a.vi()[0]!.text;
    expect(first).toContain(`[CẢNH BÁO] ${NAME}`);
    expect(first).toContain('Cả điểm mất kết nối: 5/5 máy ngừng gửi dữ liệu');
    expect(first).toContain('đang xác định nguyên nhân');
    expect(first).not.toContain('Mất mạng');
    await waitFor(() => a.en().length >= 1, { timeoutMs: 30_000, what: 'the first message in English' });
    const firstEn = a.en()[0]!.text;
    expect(firstEn).toContain(`[ALERT] ${NAME}`);
    expect(firstEn).toContain('Whole site offline: 5/5 PCs stopped reporting');
    expect(firstEn).toContain('cause being determined');
    expect(wordsWithDiacritics(firstEn.replaceAll(NAME, ''))).toEqual([]);
    await waitFor(() => a.mail.mails.length >= 1, { timeoutMs: 30_000, what: 'the first e-mail' });
    expect(a.mail.mails[0]!.subject).toContain(`[CẢNH BÁO] ${NAME}`);
    expect(a.mail.mails[0]!.text).toContain('Cả điểm mất kết nối: 5/5 máy ngừng gửi dữ liệu');

    // The line is back after ~25 s; the agents never stopped.
    await new Promise((r) => setTimeout(r, Math.max(0, cutAt + 25_000 - Date.now())));
    proxy.restore();
    let classifiedAt = 0;
    let incident: ApiIncident | undefined;
    await waitFor(
      async () => {
        const i = (await incidents())[0];
        if (i?.state === 'resolved') {
          classifiedAt = Date.now();
          incident = i;
        }
        return incident;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: 'the incident classified (API)' },
    );
    expect(incident).toMatchObject({ cause: 'network_cut', state: 'resolved' });
    expect([...incident!.hosts].sort()).toEqual(HOSTS);

    await waitFor(() => a.vi().length >= 2 && a.en().length >= 2 && a.mail.mails.length >= 2, { timeoutMs: 60_000, what: 'the resolved message on every channel' });
    const resolved = a.vi()[1]!;
    const resolvedEn = a.en()[1]!;
    const mail = a.mail.mails[1]!;
    const delays = { zalo: resolved.at - classifiedAt, zaloEn: resolvedEn.at - classifiedAt, email: mail.at - classifiedAt };
    console.log(`classification → resolved message (ms): ${JSON.stringify(delays)}`);
    for (const d of Object.values(delays)) expect(d).toBeLessThan(30_000);

    // The incident as classified (its start and end may still have been refined after the
    // API first showed it resolved: read it again).
    const final = (await incidents())[0]!;
    const end = final.end!;
    const vi = `Mất mạng ${hhmm(final.start)}–${hhmm(end)} (${exactDurationText(end - final.start, 'vi')}), 5/5 máy vẫn chạy và gửi bù dữ liệu: ${HOSTS.join(', ')}`;
    const en = `Network cut ${hhmm(final.start)}–${hhmm(end)} (${exactDurationText(end - final.start, 'en')}), 5/5 PCs kept running and sent the gap's data: ${HOSTS.join(', ')}`;
    // Start near the cut (the last packet heard); the end is the agents' "first probe that
    // reached the broker". This stand-in proxy still ACCEPTS TCP during its blackhole (a
    // real cut would not), so a probe that happens to run mid-cut can end it early: seen
    // once, 8.7 s for this 25 s cut. So: a real, bounded cut, and the message quotes the
    // incident's own times (below), whatever they are.
    expect(Math.abs(final.start - cutAt)).toBeLessThan(10_000);
    expect(end - final.start).toBeGreaterThan(3_000);
    expect(end - final.start).toBeLessThan(60_000);
    expect(end).toBeLessThanOrEqual(Date.now());

    expect(resolved.text).toContain(`[ĐÃ KHẮC PHỤC] ${NAME}`);
    expect(resolved.text).toContain(vi);
    expect(resolvedEn.text).toContain(`[RESOLVED] ${NAME}`);
    expect(resolvedEn.text).toContain(en);
    expect(wordsWithDiacritics(resolvedEn.text.replaceAll(NAME, ''))).toEqual([]);
    expect(mail.subject).toContain(`[ĐÃ KHẮC PHỤC] ${NAME}`);
    expect(mail.text).toContain(vi);

    // One message at the start and one at the end, per channel; no per-PC messages.
    await new Promise((r) => setTimeout(r, 5000));
    expect([a.vi().length, a.en().length, a.mail.mails.length]).toEqual([2, 2, 2]);
  });
});
