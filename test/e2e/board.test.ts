/// <reference lib="dom" />
/**
 * The web board in real headless Chromium (issue 6) against a real collector process fed
 * by real agent processes: log in with the first-start admin token, see the site tile,
 * open the site and a host, charts drawn from /api/history, live updates without a
 * reload, a silence created and expired from the alerts page, the English switch, a phone
 * screen, and a host whose hostname is `<img src=x onerror=alert(1)>` shown as text (no
 * dialog, no img element). No CSP violation, no script error anywhere. Screenshots go to
 * test-artifacts/board/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_RULES } from '../../collector/alerting/rules/registry.js';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { runCanhSync } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/board/', import.meta.url));
const SITE = 'xa-tan-phu';
const SITE_NAME = 'UBND xã Tân Phú';
/** A second commune, in the config only: a token scoped to SITE must not see it anywhere. */
const OTHER = 'xa-khac';
const EVIL = '<img src=x onerror=alert(1)>';
const TOKEN_RE = /canh_[A-Za-z0-9_-]{43}/;

let dep: Deployment;
let base: string;
let token: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Everything the page reported that should never happen: dialogs, script errors, CSP violations. */
const problems: string[] = [];
let dialogs = 0;

async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const r = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
}

function watch(p: Page): void {
  p.on('dialog', (d) => {
    dialogs++;
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
}

async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/**
 * Counts the pixels of a chart's canvas painted in a series colour (opaque and saturated:
 * axes, grid and the working-hours shade are grey or faint): proof that uPlot drew data,
 * not just an empty frame.
 */
async function chartPixels(p: Page, id: string): Promise<{ points: number; painted: number; canvases: number }> {
  return p.evaluate((chartId) => {
    const box = document.querySelector(`[data-chart="${chartId}"]`);
    const canvas = box?.querySelector('canvas');
    let painted = 0;
    if (canvas) {
      const ctx = canvas.getContext('2d')!;
      const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < d.length; i += 4) {
        const [r, g, b, a] = [d[i]!, d[i + 1]!, d[i + 2]!, d[i + 3]!];
        if (a > 150 && Math.max(r, g, b) - Math.min(r, g, b) > 60) painted++;
      }
    }
    return { points: Number(box?.getAttribute('data-points') ?? 0), painted, canvases: box ? box.querySelectorAll('canvas').length : 0 };
  }, id);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the board tests drive real headless Chromium. Install it as root with \`apt-get install -y chromium\` (\`npm test\` runs scripts/test-prereqs.mjs, which does).`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  dep = await createDeployment('canh-board-');
  base = `http://127.0.0.1:${dep.httpPort}`;
  const collector = await dep.startCollector({
    CANH_COLLECTOR__SITES: JSON.stringify({ [SITE]: { name: SITE_NAME, lineMbps: 50 }, [OTHER]: { name: 'UBND xã Khác' } }),
    // Rollups every 2 s instead of every minute: the 24-hour charts read 15-minute buckets.
    CANH_COLLECTOR__HISTORY__ROLLUP_CRON: '*/2 * * * * *',
  });
  // The first start prints the admin token once, on the terminal (docs/api.md "Auth").
  await waitFor(() => TOKEN_RE.test(collector.output()), { what: 'first-start admin token on the collector output' });
  token = TOKEN_RE.exec(collector.output())![0];
  await dep.startAgent(SITE, 'pc-01');
  await dep.startAgent(SITE, 'pc-evil', { env: { CANH_AGENT__HOSTNAME: EVIL } });
  await waitFor(
    async () => {
      const r = await api<{ sites?: Array<{ site: string; hostsOnline: number }> }>('/api/sites');
      return r.status === 200 && !!r.body.sites?.some((s) => s.site === SITE && s.hostsOnline === 2);
    },
    { timeoutMs: 30_000, what: `both agents online in GET /api/sites` },
  );
  await waitFor(
    async () => {
      const r = await api<{ series?: Array<{ points: unknown[] }> }>(`/api/history?site=${SITE}&host=pc-01&metric=cpu&from=${Date.now() - 3_600_000}&to=${Date.now()}`);
      return r.status === 200 && (r.body.series?.[0]?.points.length ?? 0) >= 3;
    },
    { timeoutMs: 30_000, what: 'three CPU points in /api/history' },
  );
  await waitFor(
    async () => {
      const r = await api<{ series?: Array<{ points: unknown[] }> }>(`/api/history?site=${SITE}&metric=ping_rtt&from=${Date.now() - 86_400_000}&to=${Date.now()}`);
      return r.status === 200 && (r.body.series?.length ?? 0) >= 2;
    },
    { timeoutMs: 30_000, what: 'both hosts rolled up into the 24-hour ping history' },
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking'], headless: true });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  page = await context.newPage();
  watch(page);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await dep?.stopAll();
});

describe('web board in Chromium', () => {
  it('refuses a wrong token, then logs in and shows the site tile', async () => {
    await page.goto(base);
    await page.waitForSelector('#login-form');
    expect(await page.textContent('h1')).toBe('Đăng nhập');
    await page.fill('#token', 'canh_' + 'x'.repeat(43));
    await page.click('#login-submit');
    await page.waitForFunction(() => (document.getElementById('login-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#login-error')).toBe('Mã truy cập không đúng hoặc đã bị thu hồi.');
    await page.fill('#token', token);
    await page.click('#login-submit');
    const tile = page.locator(`a.tile[data-site="${SITE}"]`);
    await tile.waitFor();
    expect(await tile.locator('.site-name').textContent()).toBe(SITE_NAME);
    expect(await tile.locator('.big').textContent()).toBe('2/2');
    expect(await tile.textContent()).toContain('máy trực tuyến');
    await shot(page, '01-overview');
  });

  it('opens the site: hosts table (the hostile hostname as text), network panel, 24-hour charts', async () => {
    await page.click(`a.tile[data-site="${SITE}"]`);
    await page.waitForSelector('table.hosts tbody tr');
    expect(await page.textContent('#site-title')).toBe(SITE_NAME);
    expect(await page.locator('table.hosts tbody tr').count()).toBe(2);
    const evilLink = page.locator('tr[data-host="pc-evil"] a.host-name');
    expect(await evilLink.textContent()).toBe(EVIL);
    expect(await page.locator('tr[data-host="pc-01"] td.online').count()).toBe(1);
    await page.waitForSelector('table.targets');
    expect(await page.textContent('table.targets')).toContain('127.0.0.1');
    await page.waitForFunction(() => Number(document.querySelector('[data-chart="site-rtt"]')?.getAttribute('data-points') ?? 0) > 0);
    const rtt = await chartPixels(page, 'site-rtt');
    expect(rtt.canvases).toBe(1);
    expect(rtt.painted).toBeGreaterThan(10);
    expect(await page.locator('img').count()).toBe(0);
    await shot(page, '02-site');
  });

  it('opens the monthly report of the site from the site page (HTML, with the session cookie)', async () => {
    const link = page.locator('#report-card a.report-link').first();
    const href = await link.getAttribute('href');
    expect(href).toMatch(new RegExp(`^api/reports\\?site=${SITE}&month=\\d{4}-\\d{2}&format=html&lang=vi$`));
    const tab = await page.context().newPage();
    try {
      const res = await tab.goto(new URL(href!, page.url()).toString());
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-type']).toMatch(/^text\/html/);
      const text = (await tab.textContent('body')) ?? '';
      expect(text).toContain('BÁO CÁO TÌNH HÌNH HẠ TẦNG');
      expect(text).toContain(SITE_NAME);
      await shot(tab, '02b-report');
    } finally {
      await tab.close();
    }
    // The cost estimate alone (issue 17 point 3), for the budget request: a CSV with its header row.
    const budget = page.locator('#report-card a.report-link', { hasText: 'Dự toán kinh phí' });
    const budgetHref = await budget.getAttribute('href');
    expect(budgetHref).toMatch(new RegExp(`^api/reports\\?site=${SITE}&month=\\d{4}-\\d{2}&format=budget&lang=vi$`));
    const res = await page.request.get(new URL(budgetHref!, page.url()).toString());
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toMatch(/^text\/csv/);
    expect(res.headers()['content-disposition']).toContain('canh-du-toan-');
    expect((await res.body()).toString('utf8').split('\r\n')[0]).toBe(
      '\uFEFFMã đơn vị;Đơn vị;Mã máy;Tên máy;Đề xuất;Căn cứ;Số liệu;Số lượng;Đơn giá (đồng);Thành tiền (đồng);Ghi chú',
    );
  });

  it('opens a host: CPU, memory, disk, network and ping charts drawn with data', async () => {
    await page.click('tr[data-host="pc-01"] a.host-name');
    await page.waitForSelector('[data-chart="cpu"] canvas');
    // 24 hours (the default) reads 15-minute rollups: a fresh host has one or two buckets.
    await page.waitForFunction(() => Number(document.querySelector('[data-chart="cpu"]')?.getAttribute('data-points') ?? 0) > 0);
    expect((await chartPixels(page, 'cpu')).painted).toBeGreaterThan(0);
    await page.waitForSelector('#inventory');
    expect(await page.locator('#inventory dt').count()).toBeGreaterThanOrEqual(4); // CPU, memory, disks, OS…
    await shot(page, '03-host-24h');
    // 1 hour reads raw samples: every chart has lines.
    await page.click('a[data-range="1h"]');
    await page.waitForFunction(() => location.hash.endsWith('/1h'));
    expect(await page.getAttribute('a[data-range="1h"]', 'class')).toBe('active');
    for (const id of ['cpu', 'mem', 'disk', 'net', 'ping']) {
      await page.waitForFunction((c) => Number(document.querySelector(`[data-chart="${c}"]`)?.getAttribute('data-points') ?? 0) >= 3, id);
      const c = await chartPixels(page, id);
      expect(c.canvases, `${id} canvas`).toBe(1);
      expect(c.painted, `${id} pixels in a series colour`).toBeGreaterThan(0);
    }
    await shot(page, '03-host-1h');
  });

  it('updates live from /api/stream without reloading the page', async () => {
    await page.goto(`${base}/#/site/${SITE}`);
    await page.waitForSelector('table.hosts tbody tr');
    await page.waitForFunction(() => document.getElementById('conn')?.getAttribute('data-mode') === 'live');
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 42;
    });
    const first = await page.getAttribute('#view', 'data-loaded');
    await page.waitForFunction((f) => document.getElementById('view')?.getAttribute('data-loaded') !== f, first, { timeout: 20_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  });

  it('shows the host named <img src=x onerror=alert(1)> as text everywhere', async () => {
    await page.goto(`${base}/#/host/${SITE}/pc-evil/1h`);
    await page.waitForSelector('#inventory');
    expect(await page.textContent('#host-title')).toBe(EVIL);
    // The way back names the site as officers know it, not by its id.
    expect(await page.textContent('#host-back')).toBe(`← ${SITE_NAME}`);
    expect(await page.textContent('#inventory')).toContain(EVIL);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => document.body.innerHTML.includes('&lt;img src=x onerror=alert(1)&gt;'))).toBe(true);
    await shot(page, '04-hostile-hostname');
    expect(dialogs).toBe(0);
  });

  it('creates a silence from the alerts page, then expires it', async () => {
    const probe = await api('/api/silences');
    expect(probe.status, 'GET /api/silences (docs/api.md; the alerting module of issue 4) must be served by this collector').toBe(200);
    await page.goto(`${base}/#/alerts`);
    await page.waitForSelector('#silence-form');
    await page.waitForSelector(`#silence-site option[value="${SITE}"]`, { state: 'attached' });
    await page.selectOption('#silence-site', SITE);
    await page.fill('#silence-host', 'pc-evil');
    await page.fill('#silence-comment', 'Bảo trì máy in');
    await page.click('#silence-create');
    const row = page.locator('tr[data-silence][data-state="active"]');
    await row.first().waitFor();
    expect(await row.first().textContent()).toContain('Bảo trì máy in');
    const listed = await api<{ silences: Array<{ id: number; matchers: Record<string, string>; comment: string; state: string; endsAt: number }> }>('/api/silences');
    expect(listed.status).toBe(200);
    const s = listed.body.silences.find((x) => x.comment === 'Bảo trì máy in');
    expect(s?.matchers).toEqual({ site: SITE, host: 'pc-evil' });
    expect(s?.state).toBe('active');
    expect(s!.endsAt - Date.now()).toBeGreaterThan(50 * 60_000);
    await shot(page, '05-alerts-silence');
    await row.first().locator('button.expire').click();
    await page.waitForSelector(`tr[data-silence="${s!.id}"][data-state="expired"]`);
    const after = await api<{ silences: Array<{ id: number; state: string }> }>('/api/silences');
    expect(after.body.silences.find((x) => x.id === s!.id)?.state).toBe('expired');
  });

  it("offers the collector's rules (GET /api/rules) in the silence form, by the board's names", async () => {
    const listed = await api<{ rules: Array<{ id: string }> }>('/api/rules');
    expect(listed.status).toBe(200);
    expect(listed.body.rules.map((r) => r.id)).toEqual(BUILT_IN_RULES.map((r) => r.name));
    await page.goto(`${base}/#/alerts`);
    await page.waitForSelector(`#silence-rule option[value="${BUILT_IN_RULES.at(-1)!.name}"]`, { state: 'attached' });
    const options = await page.$$eval('#silence-rule option', (os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent ?? '']));
    expect(options.map((o) => o[0])).toEqual(['', ...BUILT_IN_RULES.map((r) => r.name)]);
    expect(Object.fromEntries(options)).toMatchObject({ '': '(tất cả)', host_offline: 'Máy mất kết nối', portal_unreachable: 'Không vào được cổng dịch vụ công' });
  });

  it('switches to English and remembers it across a reload', async () => {
    await page.goto(`${base}/#/`);
    await page.waitForSelector('a.tile');
    expect(await page.textContent('#nav-overview')).toBe('Tổng quan');
    await page.click('#lang');
    await page.waitForFunction(() => document.getElementById('nav-overview')?.textContent === 'Overview');
    await page.reload();
    await page.waitForSelector('a.tile');
    expect(await page.textContent('#nav-overview')).toBe('Overview');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('a.tile').first().textContent()).toContain('computers online');
    await page.click('#lang');
    await page.waitForFunction(() => document.getElementById('nav-overview')?.textContent === 'Tổng quan');
  });

  it('fits a phone screen: no page-wide horizontal scrolling, charts within the width', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, storageState: await context.storageState() });
    const p = await phone.newPage();
    watch(p);
    for (const [route, ready, name] of [
      ['#/', 'a.tile', '06-phone-overview'],
      [`#/site/${SITE}`, 'table.hosts tbody tr', '07-phone-site'],
      [`#/host/${SITE}/pc-01/24h`, '[data-chart="cpu"] canvas', '08-phone-host'],
    ] as const) {
      await p.goto(`${base}/${route}`);
      await p.waitForSelector(ready);
      const widths = await p.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        view: window.innerWidth,
        canvas: Math.max(0, ...Array.from(document.querySelectorAll('canvas'), (c) => c.getBoundingClientRect().right)),
      }));
      expect(widths.page, route).toBeLessThanOrEqual(widths.view);
      expect(widths.canvas, route).toBeLessThanOrEqual(widths.view);
      await shot(p, name);
    }
    await phone.close();
  });

  it('gives a read-only token no silence form, and signs out', async () => {
    const created = runCanhSync(['tokens', 'create', '--data-dir', dep.dataDir, '--name', 'can-bo-xa', '--role', 'read', '--json']);
    expect(created.status, created.stderr).toBe(0);
    const readToken = (JSON.parse(created.stdout) as { token: string }).token;
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await ctx.newPage();
    watch(p);
    // A shared link opens the login first, then the page it named.
    await p.goto(`${base}/#/alerts`);
    await p.fill('#token', readToken);
    await p.click('#login-submit');
    await p.waitForSelector('#silences');
    expect(await p.evaluate(() => location.hash)).toBe('#/alerts');
    expect(await p.locator('#silence-form').count()).toBe(0);
    expect(await p.textContent('#view')).toContain('Chỉ người vận hành hoặc quản trị viên mới tạo hoặc hủy lệnh tắt tiếng.');
    expect(await p.locator('button.expire').count()).toBe(0);
    await p.click('#logout');
    await p.waitForSelector('#login-form');
    expect(await p.evaluate(async () => (await fetch('api/auth/me')).status)).toBe(401);
    await ctx.close();
  });

  it('shows the audit log to the admin, with its CSV export (issue 14 item 8)', async () => {
    await page.goto(`${base}/#/`);
    await page.locator('#nav-audit').waitFor();
    expect(await page.textContent('#nav-audit')).toBe('Nhật ký thao tác');
    await page.click('#nav-audit');
    await page.locator('#audit tr[data-action="login"]').first().waitFor();
    expect(await page.locator('#audit tr[data-action="silence_create"]').count()).toBeGreaterThan(0);
    expect(await page.textContent('#audit')).toContain('Đăng nhập');
    const csv = await page.evaluate(async () => {
      const a = document.getElementById('audit-csv') as HTMLAnchorElement;
      const r = await fetch(a.href);
      return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
    });
    expect(csv.status).toBe(200);
    expect(csv.type).toMatch(/text\/csv/);
    expect(csv.text).toContain('Hành động');
    await shot(page, '08-audit');
  });

  it('a login scoped to one commune sees only that commune, may silence it, and has no audit log (issue 14 item 7)', async () => {
    const created = runCanhSync(['tokens', 'create', '--data-dir', dep.dataDir, '--name', 'van-hanh-xa', '--role', 'operator', '--sites', SITE, '--json']);
    expect(created.status, created.stderr).toBe(0);
    const scoped = (JSON.parse(created.stdout) as { token: string }).token;
    expect((await api<{ sites: Array<{ site: string }> }>('/api/sites')).body.sites.map((s) => s.site)).toContain(OTHER);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await ctx.newPage();
    watch(p);
    await p.goto(`${base}/#/`);
    await p.fill('#token', scoped);
    await p.click('#login-submit');
    await p.locator(`a.tile[data-site="${SITE}"]`).waitFor();
    expect(await p.locator('a.tile').count()).toBe(1);
    expect(await p.isHidden('#nav-audit')).toBe(true);
    await p.goto(`${base}/#/site/${OTHER}`);
    await p.locator('#banner:not([hidden])').waitFor();
    expect(await p.textContent('#banner')).toContain(OTHER);
    await p.goto(`${base}/#/alerts`);
    await p.locator('#silence-form').waitFor();
    await p.locator(`#silence-site option[value="${SITE}"]`).waitFor({ state: 'attached' });
    const options = await p.locator('#silence-site option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual([SITE]);
    await p.goto(`${base}/#/audit`);
    await p.locator('#audit').waitFor();
    expect(await p.textContent('#audit')).toContain('Chỉ quản trị viên cấp tỉnh');
    await ctx.close();
  });

  it('had no dialog, script error or CSP violation on any page', () => {
    expect(problems).toEqual([]);
  });
});
