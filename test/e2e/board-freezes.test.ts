/// <reference lib="dom" />
/**
 * "Vì sao máy treo" on the board's host page (issue 17 point 2), in real headless Chromium
 * against a real collector process: a PC publishes over MQTT, with its own credential, as the
 * agent does, the samples and freeze events of three freezes with known causes (the disk at
 * 97% as the recorded Windows counters show it, paging at 412 pages/s, nothing abnormal),
 * and the host page names each cause with its figures, in Vietnamese and in English.
 * Screenshots go to test-artifacts/board-freezes/.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentClientId, topicFor, type MessageKind } from '../../contract/topics.js';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { addCredential } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/board-freezes/', import.meta.url));
const TOKEN_RE = /canh_[A-Za-z0-9_-]{43}/;
const SITE = 'xa-tan-phu';
const HOST = 'pc-motcua-01';
const MIN = 60_000;
/** The recorded sample shape with the Windows counters (0 C: 97% busy, queue 7.5; 412 pages in/s, 96 hard faults/s). */
const recorded = JSON.parse(readFileSync(new URL('../fixtures/contract/sample-disk-pressure.json', import.meta.url), 'utf8')) as { metrics: Record<string, unknown> };

let dep: Deployment;
let base: string;
let token: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the board tests drive real headless Chromium. Install it as root with \`apt-get install -y chromium\`.`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  dep = await createDeployment('canh-board-freezes-');
  base = `http://127.0.0.1:${dep.httpPort}`;
  const collector = await dep.startCollector({ CANH_COLLECTOR__SITES: JSON.stringify({ [SITE]: { name: 'UBND xã Tân Phú' } }) });
  await waitFor(() => TOKEN_RE.test(collector.output()), { what: 'first-start admin token on the collector output' });
  token = TOKEN_RE.exec(collector.output())![0];

  // The PC, as its agent: its own credential, MQTT 3.1.1, QoS 1.
  const cred = addCredential(dep.dataDir, SITE, HOST);
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${dep.mqttPort}`, { ...cred, clientId: agentClientId(SITE, HOST), protocolVersion: 4, reconnectPeriod: 0 });
  const boot = 'bootFreeze0001';
  let seq = 0;
  const now = Date.now();
  const pub = async (kind: MessageKind, t: number, body: Record<string, unknown>) => {
    await c.publishAsync(topicFor(SITE, HOST, kind), JSON.stringify({ v: 1, site: SITE, host: HOST, boot, seq: ++seq, t, sent: Date.now(), ...body }), { qos: 1 });
  };
  await pub('status', now, { state: 'online', hostname: 'PC-MOTCUA-01', agentVersion: '0.1.0' });
  const quiet = {
    ...recorded.metrics,
    diskio: [{ disk: '0 C:', busyPct: 6, queue: 0.1 }],
    pressure: { memSomePct: null, memFullPct: null, swapInPs: 2, swapOutPs: 0, hardFaultsPs: 9 },
  };
  const diskOnly = { ...recorded.metrics, pressure: quiet.pressure };
  const scenarios: Array<{ at: number; metrics: Record<string, unknown>; durationMs: number }> = [
    { at: now - 3 * 3_600_000, metrics: diskOnly, durationMs: 42_000 }, // disk overloaded
    { at: now - 2 * 3_600_000, metrics: recorded.metrics, durationMs: 31_000 }, // paging (and the disk busy with it)
    { at: now - 3_600_000, metrics: quiet, durationMs: 18_000 }, // nothing abnormal
  ];
  for (const s of scenarios) {
    for (let t = s.at - 3 * MIN; t <= s.at; t += 15_000) await pub('samples', t, { interval: 15, metrics: s.metrics });
    await pub('events', s.at + s.durationMs + 500, {
      type: 'freeze',
      severity: 'warning',
      message: `the PC (or the agent) was unresponsive for ${s.durationMs / 1000} s`,
      start: s.at,
      end: s.at + s.durationMs,
      details: { durationMs: s.durationMs, thresholdMs: 10_000, tickMs: 1000, uncertaintyMs: 1000 },
      processes: [{ name: 'VNPT-iGate.exe', pid: 4412, cpuPct: 12.5, memBytes: 350 * 1048576 }],
    });
  }
  await c.endAsync();
  await waitFor(async () => (await dep.api<{ freezes: unknown[] }>(`/api/hosts/${SITE}/${HOST}/freezes`)).freezes.length === 3, {
    timeoutMs: 30_000,
    what: 'the three freezes in GET /api/hosts/:site/:host/freezes',
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking'], headless: true });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' })).newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await dep?.stopAll();
});

const rows = () =>
  page.$$eval('#freezes table.freezes tbody tr', (trs) =>
    trs.map((tr) => ({ cause: tr.getAttribute('data-cause'), cells: Array.from(tr.querySelectorAll('td')).map((td) => (td as HTMLElement).innerText.trim()) })),
  );

describe('the host page says why the PC froze', () => {
  it('each freeze with its likely cause and figures, newest first, and the counts per cause (Vietnamese)', async () => {
    await page.goto(base);
    await page.fill('#token', token);
    await page.click('#login-submit');
    await page.locator('a.tile').first().waitFor();
    await page.goto(`${base}/#/host/${SITE}/${HOST}/24h`);
    await page.waitForSelector('#freezes table.freezes tbody tr');
    const r = await rows();
    expect(r.map((x) => x.cause)).toEqual(['unknown', 'memory', 'disk_busy']);
    expect(r[2]!.cells[2]).toBe('ổ cứng quá tải (ổ 0 C: bận 97%, hàng đợi 7,5)');
    expect(r[2]!.cells[1]).toMatch(/42/);
    expect(r[1]!.cells[2]).toContain('thiếu bộ nhớ (RAM) (đọc lại 412 trang/giây từ ổ cứng, 96 lỗi trang cứng/giây)');
    expect(r[1]!.cells[2]).toContain('Cũng thấy: ổ cứng quá tải (ổ 0 C: bận 97%, hàng đợi 7,5)');
    expect(r[0]!.cells[2]).toMatch(/^chưa xác định nguyên nhân \(trước lúc treo: CPU 38%, ổ bận 6%/);
    expect(r[0]!.cells[3]).toContain('VNPT-iGate.exe');
    const counts = await page.textContent('#freeze-counts');
    expect(counts).toContain('3 lần treo');
    for (const part of ['1 ổ cứng quá tải', '1 thiếu bộ nhớ (RAM)', '1 chưa xác định nguyên nhân']) expect(counts).toContain(part);
    const headers = await page.$$eval('#freezes th', (ths) => ths.map((th) => (th.textContent ?? '').trim()));
    expect(headers).toEqual(['Bắt đầu', 'Thời lượng', 'Nguyên nhân có thể (số liệu)', 'Chương trình dùng nhiều CPU/RAM ngay sau đó']);
    await page.screenshot({ path: `${ARTIFACTS}01-host-freezes-vi.png`, fullPage: true });
    expect(problems).toEqual([]);
  });

  it('in English too', async () => {
    await page.click('#lang');
    await waitFor(async () => /Why this PC freezes/.test((await page.textContent('body')) ?? ''), { timeoutMs: 15_000, what: 'the English host page' });
    await page.waitForSelector('#freezes table.freezes tbody tr');
    const r = await rows();
    expect(r[2]!.cells[2]).toBe('disk overloaded (disk 0 C: 97% busy, queue 7.5)');
    expect(await page.textContent('#freeze-counts')).toContain('3 freezes');
    await page.screenshot({ path: `${ARTIFACTS}02-host-freezes-en.png`, fullPage: true });
    expect(problems).toEqual([]);
  });
});
