import { loadCollectorConfig, openCollectorStore } from './collector-config.js';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../common/clock.js';
import { rollupSiteMinutes } from '../collector/report/rollup-site-minutes.js';
import { UnknownSiteError } from '../collector/report/report-builder.js';
import { parseMonth } from '../collector/report/report-period.js';
import { REPORT_FORMATS, type ReportFormat } from '../collector/report/report-renderers.js';
import { lastCompleteMonth, ReportService } from '../collector/report/report-service.js';
import { siteDirectory } from '../collector/sites/site-settings.js';
import { SqliteOutageStore } from '../collector/outage/sqlite-outage-store.js';
import { SqliteHistory } from '../collector/store/sqlite-history.js';
import { SqliteStore } from '../collector/store/sqlite-store.js';
import { cliLang, helpText, parseArgsMessage, usageError } from './help.js';

/** `canh report`: build one month's report from the collector's store (read only). */
export async function runReportCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        site: { type: 'string' },
        month: { type: 'string' },
        format: { type: 'string', default: 'md' },
        lang: { type: 'string', default: 'vi' },
        out: { type: 'string', short: 'o' },
        config: { type: 'string', short: 'c' },
        'data-dir': { type: 'string' },
        'generated-at': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    const lang = cliLang(argv);
    return usageError('report', parseArgsMessage(err, lang) ?? (err as Error).message, lang);
  }
  const lang = cliLang(argv);
  if (values.help) {
    process.stdout.write(helpText('report', lang));
    return 0;
  }
  const problems: string[] = [];
  if (!values.site) problems.push('--site is required (a site id, or "all")');
  if (!(REPORT_FORMATS as readonly string[]).includes(values.format)) problems.push(`--format must be one of ${REPORT_FORMATS.join(', ')}`);
  if (values.lang !== 'vi' && values.lang !== 'en') problems.push('--lang must be vi or en');
  let generatedAt: number | null = null;
  if (values['generated-at'] !== undefined) {
    generatedAt = Date.parse(values['generated-at']);
    if (Number.isNaN(generatedAt)) problems.push('--generated-at must be an ISO time, e.g. 2026-12-01T07:00:00+07:00');
  }
  const source = { file: values.config, dataDir: values['data-dir'] };
  const config = loadCollectorConfig('report', source);
  if (!config) return 2;
  const month = values.month ?? lastCompleteMonth(systemClock.now(), config.siteDefaults.workingHours.timezone);
  try {
    parseMonth(month);
  } catch (err) {
    problems.push(`--month: ${(err as Error).message}`);
  }
  if (problems.length) return usageError('report', problems.join('\ncanh report: '), lang);

  const file = join(config.dataDir, 'canh.db');
  const db = openCollectorStore('report', config, source, { create: false });
  if (!db) return 1;
  try {
    const store = new SqliteStore(db, file);
    const history = new SqliteHistory(db, systemClock);
    const service = new ReportService({
      store,
      history,
      siteMinutes: rollupSiteMinutes(db, history),
      // The outages the collector's tracker recorded (issue 3), as the collector's own report reads them.
      outages: new SqliteOutageStore(db),
      sites: siteDirectory(config.sites, config.siteDefaults),
      prices: config.report.prices,
      costRules: config.report.costRules,
    });
    let out;
    try {
      out = service.render({ site: values.site!, month, format: values.format as ReportFormat, lang: values.lang as 'vi' | 'en', generatedAt });
    } catch (err) {
      if (err instanceof UnknownSiteError) {
        process.stderr.write(`canh report: ${err.message} (data: ${file})\n`);
        return 1;
      }
      throw err;
    }
    if (values.out) {
      // Written whole or not at all.
      const tmp = `${values.out}.tmp-${process.pid}`;
      writeFileSync(tmp, out.body);
      renameSync(tmp, values.out);
      process.stderr.write(`canh report: ${values.out} (${out.bundle.sites.length} site(s), ${month})\n`);
    } else {
      process.stdout.write(out.body);
    }
    return 0;
  } finally {
    db.close();
  }
}
