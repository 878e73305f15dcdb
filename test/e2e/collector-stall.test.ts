import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, metricValue, type Deployment } from '../helpers/deployment.js';
import type { CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { ZaloStandin } from '../helpers/zalo-standin.js';

/**
 * Issue 12 item 5: the collector itself pauses (SIGSTOP: what a long synchronous job or a VM
 * stall does) while every PC and network is fine. Real collector (embedded broker), seven
 * real agents of two sites (keepalive 5 s) and the Zalo stand-in as notifier, schedule at
 * Monday 09:00 (working hours). The pause (20 s) is far beyond 1.5 × keepalive, so the
 * agents' keepalives time out, they reconnect after SIGCONT and report `network_cut`
 * (scope `broker`), and the broker publishes their Last Wills late. None of that is a
 * host outage, a site incident or a notification: it is the collector's own gap, which it
 * records as a stall (metric, `/api/health`, a `collector_stall` event of site `_collector`).
 */
const SITES = { 'xa-on-dinh': ['pc-1', 'pc-2', 'pc-3', 'pc-4'], 'phuong-on-dinh': ['pc-1', 'pc-2', 'pc-3'] } as const;
const TOKEN = '88888888:collector-stall-test';
const STOP_MS = 20_000;

function mondayNineOffset(now: number): number {
  const ICT = 7 * 3600_000;
  const localDayStart = Math.floor((now + ICT) / 86_400_000) * 86_400_000;
  const weekday = (new Date(localDayStart).getUTCDay() + 6) % 7;
  return localDayStart - weekday * 86_400_000 + 9 * 3600_000 - ICT - now;
}

describe('the collector paused for 20 s while every PC and network is fine', { timeout: 240_000 }, () => {
  let dep: Deployment;
  let zalo: ZaloStandin;
  let collector: CanhProcess;

  beforeAll(async () => {
    zalo = new ZaloStandin({ botTokens: [TOKEN] });
    await zalo.start();
    dep = await createDeployment('canh-e2e-stall-');
    collector = await dep.startCollector({
      CANH_COLLECTOR__ALERTING__SCHEDULE_OFFSET_MS: String(mondayNineOffset(Date.now())),
      CANH_COLLECTOR__ALERTING__GROUP_INTERVAL_SECONDS: '5',
      CANH_COLLECTOR__NOTIFY__CHANNELS: JSON.stringify([{ type: 'zalo_bot', name: 'zalo', token: TOKEN, chatId: 'officer', baseUrl: zalo.url }]),
    });
    for (const [site, hosts] of Object.entries(SITES)) {
      for (const host of hosts) {
        await dep.startAgent(site, host, {
          env: {
            CANH_AGENT__MQTT__KEEPALIVE_SECONDS: '5',
            // The "internet" answers (the collector's HTTP port on loopback): a broker-scope cut.
            CANH_AGENT__NETWORK__INTERNET_TARGETS: JSON.stringify([`127.0.0.1:${dep.httpPort}`]),
            CANH_AGENT__NETWORK__PROBE_SECONDS: '1',
          },
        });
      }
    }
  });

  afterAll(async () => {
    if (collector && collector.proc.exitCode === null) collector.proc.kill('SIGCONT');
    await dep?.stopAll();
    await zalo?.stop();
  });

  const online = () => dep.query<{ n: number }>(`SELECT count(*) AS n FROM hosts WHERE state = 'online'`)[0]!.n;
  const total = Object.values(SITES).flat().length;

  it('no host outage, no site incident, no notification; the collector records its own stall', async () => {
    await waitFor(() => online() === total, { timeoutMs: 60_000, what: `${total} agents online` });
    // A few samples each, so every host is tracked as online with a session.
    await new Promise((r) => setTimeout(r, 4000));
    const pid = collector.proc.pid!;
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, STOP_MS));
    process.kill(pid, 'SIGCONT');
    const resumedAt = Date.now();

    // The agents noticed the pause (their keepalive timed out) and came back.
    const cuts = () =>
      dep.query<{ site: string; host: string; details: string }>(`SELECT site, host, details FROM events WHERE type = 'network_cut' AND t >= ?`, stoppedAt - 10_000);
    await waitFor(() => new Set(cuts().map((c) => `${c.site}/${c.host}`)).size === total, { timeoutMs: 60_000, what: 'every agent reported the network cut of the pause' });
    await waitFor(() => online() === total, { timeoutMs: 30_000, what: 'every agent online again' });
    // Longer than the wills' and the silence checks' delays and the alert group wait.
    await new Promise((r) => setTimeout(r, 15_000));

    const outages = dep.query<{ site: string; host: string; cause: string }>(`SELECT site, host, cause FROM outage_host`);
    const incidents = dep.query<{ site: string; cause: string }>(`SELECT site, cause FROM outage_incident`);
    expect(outages, 'host outages').toEqual([]);
    expect(incidents, 'site incidents').toEqual([]);
    const api = await dep.api<{ incidents: unknown[] }>(`/api/incidents?from=${stoppedAt - 60_000}&to=${Date.now() + 60_000}`);
    expect(api.incidents).toEqual([]);
    expect(zalo.botMessages.map((m) => m.text)).toEqual([]);

    // The collector's own stall: metric, health, stored event.
    const metrics = await dep.metrics();
    expect(metricValue(metrics, 'canh_collector_stalls_total')).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'canh_collector_stall_seconds_total')).toBeGreaterThanOrEqual(STOP_MS / 1000 - 1);
    expect(metrics).toMatch(/canh_event_loop_delay_seconds\{quantile="0.99"\} [0-9.e+-]+/);
    const health = (await (await fetch(`http://127.0.0.1:${dep.httpPort}/api/health`)).json()) as {
      stalls: { count: number; last: { start: number; end: number; seconds: number } | null };
    };
    expect(health.stalls.count).toBeGreaterThanOrEqual(1);
    expect(health.stalls.last!.start).toBeGreaterThanOrEqual(stoppedAt - 1000);
    expect(health.stalls.last!.end).toBeLessThanOrEqual(resumedAt + 2000);
    expect(health.stalls.last!.seconds).toBeGreaterThanOrEqual(STOP_MS / 1000 - 1);
    const events = await dep.api<{ events: Array<{ site: string; type: string; start: number; end: number }> }>(`/api/events?site=_collector&from=${stoppedAt - 60_000}`);
    expect(events.events.some((e) => e.type === 'collector_stall' && e.end - e.start >= STOP_MS - 1000)).toBe(true);
    expect(collector.logs().some((l) => l.msg === 'collector stalled' && typeof l.seconds === 'number' && l.seconds >= STOP_MS / 1000 - 1)).toBe(true);
    // The agents' cuts are kept as their evidence: `broker` (gateway and internet answered) or
    // `unknown` (the broker's port answered again, at TCP level, before a probe round finished).
    expect(cuts().every((c) => ['broker', 'unknown'].includes((JSON.parse(c.details) as { scope: string }).scope))).toBe(true);
  });
});
