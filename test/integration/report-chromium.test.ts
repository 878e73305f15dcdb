import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildReport } from '../../collector/report/report-builder.js';
import { REPORT_RENDERERS } from '../../collector/report/report-renderers.js';
import { scenarioStore, SITE, type FilledStore } from '../helpers/report-scenario.js';

// Issue 7: the HTML report renders in a real headless Chromium with its Vietnamese intact
// (checked on the rendered text, not the source) and its SVG charts drawn.

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve('test-artifacts/report');
let s: FilledStore;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it (e.g. apt-get install chromium)`);
  s = scenarioStore();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking'] });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 300_000);
afterAll(async () => {
  await browser?.close();
  s?.store.close();
  if (s) rmSync(dirname(s.file), { recursive: true, force: true });
});

it('renders the Vietnamese report with diacritics intact, tables and three SVG charts; screenshot saved', async () => {
  const bundle = buildReport({ site: SITE, month: '2026-11' }, s.sources);
  const html = REPORT_RENDERERS.html.render(bundle);
  const file = join(ARTIFACTS, 'bao-cao-2026-11.html');
  writeFileSync(file, html);
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  // Offline: the report must not need anything from the network.
  const requests: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.goto(`file://${file}`);
  const text = await page.locator('body').innerText();
  for (const phrase of [
    'BÁO CÁO TÌNH HÌNH HẠ TẦNG CÔNG NGHỆ THÔNG TIN THÁNG 11/2026',
    'UBND xã Tân Phú',
    'Mức độ sẵn sàng của Trung tâm trong giờ làm việc',
    'Đã xảy ra 4 lần mất điện với tổng thời gian 3 giờ 12 phút',
    'Đề xuất thay thế / nâng cấp thiết bị',
    'Ổ đĩa hệ thống là ổ cứng cơ (HDD)',
    'Thời gian phản hồi cổng dịch vụ công theo khung giờ làm việc (ms)',
  ]) {
    expect(text).toContain(phrase);
  }
  // Decomposed forms or replacement characters would mean broken encoding.
  expect(text).not.toContain('\uFFFD');
  expect(text.normalize('NFC')).toBe(text);
  expect(await page.evaluate('document.characterSet')).toBe('UTF-8');
  const charts: Array<{ w: number; bars: number }> = [];
  for (const svg of await page.locator('svg.chart').all()) charts.push({ w: (await svg.boundingBox())?.width ?? 0, bars: await svg.locator('rect').count() });
  expect(charts).toHaveLength(3);
  for (const c of charts) expect(c.w).toBeGreaterThan(300);
  expect(charts.every((c) => c.bars > 0)).toBe(true);
  expect(await page.locator('table').count()).toBeGreaterThan(8);
  await page.screenshot({ path: join(ARTIFACTS, 'bao-cao-2026-11.png'), fullPage: true });
  expect(existsSync(join(ARTIFACTS, 'bao-cao-2026-11.png'))).toBe(true);
  expect(requests).toEqual([]);
  await page.close();
}, 120_000);

it('renders the English report as well', async () => {
  const bundle = { ...buildReport({ site: SITE, month: '2026-11' }, s.sources), lang: 'en' as const };
  const page = await browser.newPage();
  await page.setContent(REPORT_RENDERERS.html.render(bundle));
  const text = await page.locator('body').innerText();
  expect(text).toContain('There were 4 power cuts totalling 3 h 12 min');
  await page.screenshot({ path: join(ARTIFACTS, 'report-2026-11-en.png'), fullPage: true });
  await page.close();
}, 120_000);
