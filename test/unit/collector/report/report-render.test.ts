import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { reportsRoutes } from '../../../../collector/http/api/routes/reports.js';
import type { ApiContext } from '../../../../collector/http/api/api-module.js';
import { parseOr400 } from '../../../../collector/http/api/api-errors.js';
import { buildReport } from '../../../../collector/report/report-builder.js';
import { CSV_BOM } from '../../../../collector/report/render-csv.js';
import { REPORT_FORMATS, REPORT_RENDERERS } from '../../../../collector/report/report-renderers.js';
import { ReportService } from '../../../../collector/report/report-service.js';
import { createLogger } from '../../../../common/log.js';
import { parseCsv } from '../../../helpers/csv-parse.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { freePort } from '../../../helpers/free-port.js';
import { scenarioStore, SITE, SITE_NAME, type FilledStore } from '../../../helpers/report-scenario.js';

// Building a month report takes seconds on a loaded 2-core machine.
vi.setConfig({ testTimeout: 120_000 });

let a: FilledStore;
let b: FilledStore;

beforeAll(() => {
  a = scenarioStore();
  b = scenarioStore();
}, 300_000);
afterAll(() => {
  for (const s of [a, b]) {
    s.store.close();
    rmSync(dirname(s.file), { recursive: true, force: true });
  }
});

describe('reproducible', () => {
  it('the same data gives byte-identical reports in every format and language (two stores, two runs)', () => {
    const first = buildReport({ site: SITE, month: '2026-11' }, a.sources);
    const second = buildReport({ site: SITE, month: '2026-11' }, b.sources);
    for (const lang of ['vi', 'en'] as const) {
      const one = { ...first, lang };
      const two = { ...second, lang };
      for (const f of REPORT_FORMATS) {
        const x = REPORT_RENDERERS[f].render(one);
        expect(REPORT_RENDERERS[f].render(two), `${f} ${lang}`).toBe(x);
        expect(x.length).toBeGreaterThan(1000);
      }
    }
  });

  it('the SQL path over the rollups and the HistoryReader path give the same report', () => {
    const viaSql = buildReport({ site: SITE, month: '2026-11' }, a.sources);
    const viaPort = buildReport({ site: SITE, month: '2026-11' }, { ...a.sources, siteMinutes: undefined });
    expect(REPORT_RENDERERS.json.render(viaSql)).toBe(REPORT_RENDERERS.json.render(viaPort));
  });

  it('… also when the PCs disagree (medians over 5 PCs of different loss and response times)', () => {
    const c = scenarioStore();
    try {
      // Every PC and minute its own values (a deterministic spread by host and time).
      c.db
        .exec(`UPDATE rollup_1m SET vsum = vsum * (1 + ((unicode(substr((SELECT host FROM history_series s WHERE s.id = series), -1)) * 7 + t / 60000) % 13) / 10.0) + n * ((t / 60000) % 3)
                 WHERE series IN (SELECT id FROM history_series WHERE metric IN ('ping_loss', 'http_total', 'net_rx', 'cpu'))`);
      const viaSql = buildReport({ site: SITE, month: '2026-11' }, c.sources);
      const viaPort = buildReport({ site: SITE, month: '2026-11' }, { ...c.sources, siteMinutes: undefined });
      expect(viaSql.sites[0]!.network.hours[0]!.latencyMs).not.toBe(300);
      expect(REPORT_RENDERERS.json.render(viaSql)).toBe(REPORT_RENDERERS.json.render(viaPort));
    } finally {
      c.store.close();
      rmSync(dirname(c.file), { recursive: true, force: true });
    }
  });

  it('"generated at" appears only when passed in', () => {
    const without = REPORT_RENDERERS.md.render(buildReport({ site: SITE, month: '2026-11' }, a.sources));
    expect(without).not.toContain('Thời điểm lập báo cáo');
    const withTime = REPORT_RENDERERS.md.render(buildReport({ site: SITE, month: '2026-11', generatedAt: Date.UTC(2026, 11, 1, 0, 0) }, a.sources));
    expect(withTime).toContain('Thời điểm lập báo cáo: 01/12/2026 07:00');
  });
});

describe('CSV for Excel', () => {
  it('UTF-8 with a BOM, CRLF, ";" between fields and "," as the decimal mark in Vietnamese; parses back to the figures', () => {
    const csv = REPORT_RENDERERS.csv.render(buildReport({ site: SITE, month: '2026-11' }, a.sources));
    const bytes = Buffer.from(csv, 'utf8');
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    // A decoder that honours the BOM (as Excel does) gives back the Vietnamese text intact.
    const decoded = new TextDecoder('utf-8').decode(bytes);
    expect(decoded.startsWith('Mục;Mã đơn vị;Đối tượng;Chỉ số;Giá trị;Đơn vị tính\r\n')).toBe(true);
    const rows = parseCsv(decoded, ';');
    expect(rows.every((r) => r.length === 6)).toBe(true);
    const get = (section: string, item: string, metric: string) => rows.find((r) => r[0] === section && r[2] === item && r[3] === metric)?.[4];
    expect(get('site', '', 'name')).toBe(SITE_NAME);
    expect(get('outages', 'power_cut', 'count')).toBe('4');
    expect(get('outages', 'power_cut', 'total')).toBe('192');
    expect(get('outages', 'power_cut', 'in_working_hours')).toBe('2');
    expect(get('availability', '', 'centre_available')).toBe('98,67');
    expect(get('network', '', 'congested')).toBe('195');
    expect(get('hour', '09:00', 'latency_mean')).toBe('360');
    expect(get('outage', '5', 'start')).toBe('2026-11-30 23:28');
    expect(get('proposal', '1', 'host')).toBe('pc-01');
    expect(get('pc', 'pc-05', 'os')).toBe('Microsoft Windows 7 Professional 6.1.7601');
  });

  it('English uses "," and "."; fields with separators, quotes and formula starts are quoted/neutralised', () => {
    const bundle = buildReport({ site: SITE, month: '2026-11', lang: 'en' }, a.sources);
    bundle.sites[0]!.siteName = 'Xã "Tân Phú", huyện A; =cmd';
    const csv = REPORT_RENDERERS.csv.render(bundle);
    expect(csv.startsWith(`${CSV_BOM}section,site,item,metric,value,unit\r\n`)).toBe(true);
    const rows = parseCsv(csv.slice(1), ',');
    expect(rows.every((r) => r.length === 6)).toBe(true);
    expect(rows.find((r) => r[0] === 'site' && r[3] === 'name')![4]).toBe('Xã "Tân Phú", huyện A; =cmd');
    expect(rows.find((r) => r[0] === 'availability' && r[3] === 'centre_available')![4]).toBe('98.67');
    bundle.sites[0]!.siteName = '=HYPERLINK("x")';
    const injected = parseCsv(REPORT_RENDERERS.csv.render(bundle).slice(1), ',');
    expect(injected.find((r) => r[0] === 'site' && r[3] === 'name')![4]).toBe(`'=HYPERLINK("x")`);
  });
});

describe('Markdown and HTML', () => {
  it('Markdown has every section, the outage list in local time and the method footnotes', () => {
    const md = REPORT_RENDERERS.md.render(buildReport({ site: SITE, month: '2026-11' }, a.sources));
    for (const h of [
      '# BÁO CÁO TÌNH HÌNH HẠ TẦNG CÔNG NGHỆ THÔNG TIN THÁNG 11/2026',
      '### 1. Tóm tắt',
      '### 2. Mức độ sẵn sàng',
      '### 3. Mất điện và mất kết nối mạng',
      '### 4. Chất lượng mạng trong giờ cao điểm',
      '### 5. Tình trạng máy tính',
      '### 6. Đề xuất thay thế / nâng cấp thiết bị',
      '### 7. Dự toán kinh phí thay thế, nâng cấp (ước tính)',
      '### 8. So sánh với tháng trước',
      '### 9. Ghi chú về phương pháp tính',
    ]) {
      expect(md).toContain(h);
    }
    expect(md).toContain('| 1 | Mất điện | 02/11/2026 10:00 | 02/11/2026 10:40 | 40 phút | 40 phút | 5 |');
    expect(md).toContain('| 5 | Mất điện (*) | 30/11/2026 23:28 | 01/12/2026 00:28 | 32 phút | 0 phút | 5 |');
    expect(md).toContain('| Mất điện | 4 | 3 giờ 12 phút | 1 giờ | 2 | 1 giờ 10 phút |');
    expect(md).toContain('| 1 | MAY-MOT-CUA-01 (pc-01) | Thay thế | 98 |');
    expect(md).toContain('Thời gian làm việc: Thứ Hai 07:30–11:30, 13:30–17:00');
    expect(md).toContain('không tính ngày nghỉ lễ (2026-11-16)');
    expect(md).toContain('từ 80% tốc độ đường truyền theo hợp đồng');
  });

  it('HTML is one self-contained document with inline SVG charts and escaped text', () => {
    const bundle = buildReport({ site: SITE, month: '2026-11' }, a.sources);
    bundle.sites[0]!.siteName = 'UBND xã <Tân Phú> & "A"';
    const html = REPORT_RENDERERS.html.render(bundle);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('<html lang="vi">');
    expect(html.match(/<svg /g)!.length).toBe(3);
    expect(html).toContain('UBND xã &lt;Tân Phú&gt; &amp; &quot;A&quot;');
    expect(html).not.toMatch(/<script|src=|href=/);
  });
});

describe('GET /api/reports (mounted on an express app)', () => {
  it('serves every format, validates the query, 404 for an unknown site', async () => {
    const service = new ReportService(a.sources);
    const app = express();
    const router = express.Router();
    const ctx: ApiContext = {
      clock: new FakeClock(Date.UTC(2026, 11, 5)),
      log: createLogger('test', { level: 'silent' }),
      requireRole: () => (_req, res, next) => {
        res.locals.principal = { tokenId: 1, name: 'test', role: 'admin', sites: null, via: 'token' };
        next();
      },
      parse: parseOr400,
      audit: () => {},
    };
    reportsRoutes(service).mount(router, ctx);
    app.use('/api', router);
    const port = await freePort();
    const server = app.listen(port, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const base = `http://127.0.0.1:${port}/api/reports`;
      const csv = await fetch(`${base}?site=${SITE}&month=2026-11&format=csv`);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(csv.headers.get('content-disposition')).toBe(`inline; filename="canh-bao-cao-${SITE}-2026-11.csv"`);
      const body = Buffer.from(await csv.arrayBuffer());
      expect([...body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      // No month: the last complete month at the clock (5 Dec → November).
      const json = await fetch(`${base}?site=${SITE}`);
      expect(json.status).toBe(200);
      const j = (await json.json()) as { month: string; sites: Array<{ powerCuts: { count: number } }> };
      expect(j.month).toBe('2026-11');
      expect(j.sites[0]!.powerCuts.count).toBe(4);
      const html = await fetch(`${base}?site=all&month=2026-11&format=html&lang=en`);
      expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await html.text()).toContain('IT INFRASTRUCTURE REPORT — NOVEMBER 2026');
      const bad = await fetch(`${base}?site=${SITE}&month=2026-13&format=pdf&extra=1`);
      expect(bad.status).toBe(400);
      const reasons = ((await bad.json()) as { reasons: string[] }).reasons.join('\n');
      expect(reasons).toMatch(/month/);
      expect(reasons).toMatch(/format/);
      const unknown = await fetch(`${base}?site=khong-co&month=2026-11`);
      expect(unknown.status).toBe(404);
      // A repeated request is answered from the cache (bounded, 10 minutes).
      const hits = service.cacheHits;
      const again = await fetch(`${base}?site=${SITE}&month=2026-11&format=csv`);
      expect(Buffer.from(await again.arrayBuffer()).equals(body)).toBe(true);
      expect(service.cacheHits).toBe(hits + 1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('canh report (CLI, in process)', () => {
  it('reads the collector data dir from its config and writes the file atomically', async () => {
    const { runReportCommand } = await import('../../../../cli/report-command.js');
    const dir = mkdtempSync(join(tmpdir(), 'canh-report-cli-'));
    const cfg = join(dir, 'collector.json');
    writeFileSync(
      cfg,
      JSON.stringify({ dataDir: dirname(a.file), sites: { [SITE]: { name: SITE_NAME, lineMbps: 20, workingHours: { holidays: ['2026-11-16'] } } }, log: { level: 'silent' } }),
    );
    const out = join(dir, 'bao-cao.html');
    expect(await runReportCommand(['--site', SITE, '--month', '2026-11', '--format', 'html', '--config', cfg, '--out', out])).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('4 lần mất điện với tổng thời gian 3 giờ 12 phút');
    expect(html).not.toContain('Sự cố được xác định từ các sự kiện'); // read from the collector's own outage store
    expect(await runReportCommand(['--site', SITE, '--month', '11/2026', '--config', cfg])).toBe(2);
    expect(await runReportCommand(['--site', 'khong-co', '--month', '2026-11', '--config', cfg])).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  });
});
