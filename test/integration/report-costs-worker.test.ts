/**
 * Issue 17 point 3: the province's price list reaches the report where the collector builds
 * it, in the report worker thread (collector/report/report-worker.ts from `dist/`, its own
 * read-only connection), as `report.prices` / `report.costRules` of the collector's config
 * are handed to it (collector/jobs/collector-jobs.ts). The worker's budget CSV and report
 * must be those of an in-process build with the same prices, and use them.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CollectorConfigSchema } from '../../collector/config.js';
import { ReportService } from '../../collector/report/report-service.js';
import type { WorkerReportRunner } from '../../collector/report/report-runner.js';
import { assertBuilt } from '../helpers/processes.js';
import { COST_SITE, COST_SITE_SETTINGS, costScenarioStore, type CostStore } from '../helpers/report-cost-scenario.js';

let s: CostStore;
let runner: WorkerReportRunner;
const config = CollectorConfigSchema.parse({
  report: { prices: { ssd: { sizeGb: 256, vnd: 1_100_000 }, newPc: { vnd: 18_000_000 }, ups: { vnd: 3_000_000 } }, costRules: { upsPowerCuts: 3 } },
});

beforeAll(async () => {
  assertBuilt();
  // The compiled runner, whose worker entry (report-worker.js) sits beside it in dist/.
  const compiled = (await import(new URL('../../dist/collector/report/report-runner.js', import.meta.url).href)) as { WorkerReportRunner: typeof WorkerReportRunner };
  s = costScenarioStore();
  runner = new compiled.WorkerReportRunner({
    data: {
      dbFile: s.file,
      sites: COST_SITE_SETTINGS,
      siteDefaults: config.siteDefaults,
      // Nothing of November past retention whatever today's date.
      retention: { '1m': 3650 * 86_400_000, '15m': 3650 * 86_400_000, '1h': 3650 * 86_400_000 },
      prices: config.report.prices,
      costRules: config.report.costRules,
    },
  });
  runner.start();
}, 300_000);
afterAll(async () => {
  await runner?.stop();
  s?.store.close();
  if (s) rmSync(s.dir, { recursive: true, force: true });
});

it('the worker prices with the configured list and rules, as an inline build does', async () => {
  const req = { site: 'all', month: '2026-11', lang: 'vi' as const, formats: ['budget' as const, 'md' as const], withBundle: true };
  const fromWorker = await runner.run(req);
  const inline = new ReportService({ ...s.sources, prices: config.report.prices, costRules: config.report.costRules }).run(req);
  expect(fromWorker.files.map((f) => f.body)).toEqual(inline.files.map((f) => f.body));
  const site = fromWorker.bundle!.sites.find((x) => x.site === COST_SITE)!;
  // 16 + … : pc-a and pc-c SSD 2 × 1,100,000; pc-b RAM 950,000 (default); pc-d 18,000,000; 3 cuts ≥ 3: 5 UPS × 3,000,000.
  expect(site.costs.totalVnd).toBe(2 * 1_100_000 + 950_000 + 18_000_000 + 5 * 3_000_000);
  expect(fromWorker.bundle!.costs.totalVnd).toBe(site.costs.totalVnd + 1_100_000);
  const budget = fromWorker.files[0]!;
  expect(budget.filename).toBe('canh-du-toan-all-2026-11.csv');
  expect(budget.body).toContain(';Thay ổ cứng SSD 256 GB;');
  expect(budget.body).toContain(';18000000;18000000;');
  expect(fromWorker.files[1]!.body).toContain('ổ SSD 256 GB 1.100.000 ₫; RAM 8 GB 950.000 ₫; máy tính mới 18.000.000 ₫; bộ lưu điện (UPS) 3.000.000 ₫');
}, 300_000);
