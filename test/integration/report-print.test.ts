import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../collector/report/report-builder.js';
import { fmtMonth } from '../../collector/report/report-format.js';
import type { ReportBundle } from '../../collector/report/report-model.js';
import { REPORT_RENDERERS } from '../../collector/report/report-renderers.js';
import { REPORT_TEXTS } from '../../collector/report/report-text.js';
import { pdfPages } from '../helpers/pdf-text.js';
import { scenarioStore, SITE, SITE_NAME, type FilledStore } from '../helpers/report-scenario.js';

// Issue 13 item 6: the report prints from the browser (Print → PDF) as a clean A4
// document: A4 pages, the unit and the month at the top of every page, the PC table inside
// the printable width, empty charts saying "không có số liệu". Checked on what Chromium
// renders and prints, not on the HTML source.

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve('test-artifacts/report');
/** A4 portrait in CSS px (96 per inch): 210 mm × 297 mm. */
const A4_PX = (210 / 25.4) * 96;
/** The report's @page margins, left and right (collector/report/render-html.ts). */
const MARGIN_PX = (12 / 25.4) * 96;
const PRINTABLE_PX = A4_PX - 2 * MARGIN_PX;
/** The collector's CSP for everything it serves, reports included (collector/http/http-server.ts). */
const COLLECTOR_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

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

/** The report served the way the collector serves it: its own origin, its CSP header. */
async function openServed(bundle: ReportBundle, width: number): Promise<{ page: Page; problems: string[] }> {
  const html = REPORT_RENDERERS.html.render(bundle);
  const page = await browser.newPage({ viewport: { width: Math.floor(width), height: 1100 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('http://canh.test/')) problems.push(`request ${r.url()}`);
  });
  await page.route('http://canh.test/**', (route) =>
    route.fulfill({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': COLLECTOR_CSP }, body: html }),
  );
  await page.goto('http://canh.test/api/reports?format=html');
  return { page, problems };
}

const MONTHS = [
  // November 2026: the scenario's full month of data.
  { name: 'print-2026-11', month: '2026-11', generatedAt: Date.UTC(2026, 11, 2), empty: false },
  // December 2026, reported mid-month: the PCs are known, not one measurement in the month.
  { name: 'print-empty', month: '2026-12', generatedAt: Date.UTC(2026, 11, 20), empty: true },
];

describe('the monthly report printed to PDF from Chromium', () => {
  for (const m of MONTHS) {
    it(`${m.month}${m.empty ? ' (no data)' : ''}: A4 pages, the unit and month on each, PC table inside the printable width; screenshot saved`, async () => {
      const bundle = buildReport({ site: SITE, month: m.month, generatedAt: m.generatedAt }, s.sources);
      expect(bundle.sites[0]!.pcs).toBe(5);
      const T = REPORT_TEXTS.vi;
      const monthText = fmtMonth(m.month, 'vi');
      writeFileSync(join(ARTIFACTS, `${m.name}.html`), REPORT_RENDERERS.html.render(bundle));

      // On screen the running head is hidden (the title says the same); in print it shows.
      const { page, problems } = await openServed(bundle, PRINTABLE_PX);
      expect(await page.locator('.running-head').isVisible()).toBe(false);
      await page.emulateMedia({ media: 'print' });
      const head = page.locator('.running-head');
      expect(await head.isVisible()).toBe(true);
      const headText = await head.innerText();
      expect(headText).toContain(SITE_NAME);
      expect(headText).toContain(T.runningHead(monthText));
      const headBox = (await head.boundingBox())!;
      expect(headBox.y).toBeLessThan(5);
      expect(headBox.height).toBeGreaterThan(8);

      // The PC table, laid out at the printable width of A4, stays inside it.
      const pcs = page.locator('table.pcs');
      expect(await pcs.locator('tbody tr').count()).toBe(5);
      const pcsBox = (await pcs.boundingBox())!;
      expect(pcsBox.x).toBeGreaterThanOrEqual(0);
      expect(pcsBox.x + pcsBox.width).toBeLessThanOrEqual(PRINTABLE_PX + 0.5);
      const overflow = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: window.innerWidth }));
      expect(overflow.doc).toBeLessThanOrEqual(overflow.view);
      // Print styles: smaller type in the PC table, no dark header backgrounds, rows not split.
      const style = await pcs.evaluate((t) => {
        const th = t.querySelector('th')!;
        return { font: parseFloat(getComputedStyle(t).fontSize), thBg: getComputedStyle(th).backgroundColor, rowBreak: getComputedStyle(t.querySelector('tr')!).breakInside };
      });
      expect(style.font).toBeLessThan(12);
      expect(style.thBg).toBe('rgba(0, 0, 0, 0)');
      expect(style.rowBreak).toBe('avoid');

      // Charts: three; in the empty month each says "không có số liệu" and draws no axis.
      const charts = page.locator('svg.chart');
      expect(await charts.count()).toBe(3);
      expect(await page.locator('svg.chart.no-data').count()).toBe(m.empty ? 3 : 0);
      if (m.empty) for (const c of await charts.all()) expect(await c.locator('text').last().textContent()).toBe(T.charts.noData);
      else expect(await page.locator('svg.chart rect').count()).toBeGreaterThan(5);

      await page.screenshot({ path: join(ARTIFACTS, `${m.name}.png`), fullPage: true });
      expect(existsSync(join(ARTIFACTS, `${m.name}.png`))).toBe(true);

      // Print → PDF: every page A4, with the unit and month at its top and its number.
      // Playwright's "A4" is 8.27 × 11.7 in (595.9 × 842.9 pt after Chromium's rounding);
      // the report's own `@page { size: A4 }`, which the browser's print dialog follows, is
      // 210 × 297 mm exactly (595.3 × 841.9 pt).
      const pdf = await page.pdf({ format: 'A4', printBackground: false });
      writeFileSync(join(ARTIFACTS, `${m.name}.pdf`), pdf);
      const own = await page.pdf({ preferCSSPageSize: true, printBackground: false });
      for (const [file, tolerance] of [
        [pdf, 1.5],
        [own, 0.5],
      ] as const) {
        const pages = pdfPages(file);
        expect(pages.length).toBeGreaterThan(m.empty ? 1 : 2);
        pages.forEach((p, i) => {
          expect(p.mediaBox.slice(0, 2)).toEqual([0, 0]);
          expect(Math.abs(p.mediaBox[2]! - 595.28)).toBeLessThan(tolerance);
          expect(Math.abs(p.mediaBox[3]! - 841.89)).toBeLessThan(tolerance);
          // The running head, as one piece: on page 1 the site name also appears in the
          // body, on the following pages only the head can put it there.
          expect(p.text, `page ${i + 1}`).toContain(`${SITE_NAME}${T.runningHead(monthText)}`);
          expect(p.text, `page ${i + 1}`).toContain(`${i + 1} / ${pages.length}`);
        });
      }
      const all = pdfPages(pdf)
        .map((p) => p.text)
        .join('\n');
      expect(all).toContain(T.sections.pcs);
      if (m.empty) expect(all).toContain(T.charts.noData);
      expect(problems).toEqual([]);
      await page.close();
    }, 120_000);
  }
});
