import { parseArgs } from 'node:util';
import { databaseFile } from '../collector/collector.js';
import { CollectorConfigSchema } from '../collector/config.js';
import { NotifyService } from '../collector/notify/notify-service.js';
import { testNotification } from '../collector/notify/test-notification.js';
import { MetricsRegistry } from '../collector/metrics-registry.js';
import { openDatabase } from '../collector/store/sqlite-store.js';
import { systemClock } from '../common/clock.js';
import { loadConfig } from '../common/config-loader.js';
import { createLogger } from '../common/log.js';
import { loadOrReport } from './config-errors.js';

const HELP = `canh notify test --channel NAME [--config FILE] [--data-dir DIR]
  Sends a test notification through one configured channel (the collector's config and
  store: a refreshed Zalo OA token is kept) and says whether the service accepted it.
`;

export async function runNotifyCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { config: { type: 'string', short: 'c' }, 'data-dir': { type: 'string' }, channel: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals[0] !== 'test' || !values.channel) {
    (values.help ? out : err).write(HELP);
    return values.help ? 0 : 2;
  }
  const config = loadOrReport('notify', () =>
    loadConfig(CollectorConfigSchema, {
      file: values.config ?? process.env.CANH_COLLECTOR_CONFIG,
      envPrefix: 'CANH_COLLECTOR',
      overrides: values['data-dir'] ? { dataDir: values['data-dir'] } : {},
    }),
  );
  if (!config) return 2;
  // The collector's store holds credential hashes and OA tokens: owner-only files (as `canh collector`).
  process.umask(0o077);
  const channel = values.channel;
  if (!config.notify.channels.some((c) => c.name === channel && c.enabled)) {
    const names = config.notify.channels.map((c) => `${c.name}${c.enabled ? '' : ' (disabled)'}`).join(', ') || 'none';
    err.write(`canh notify: no enabled channel "${channel}" in notify.channels (configured: ${names})\n`);
    return 2;
  }
  const log = createLogger('canh-notify', { level: config.log.level === 'info' ? 'warn' : config.log.level, destination: err });
  const db = openDatabase(databaseFile(config));
  const notify = new NotifyService(config.notify, { db, clock: systemClock, log, metrics: new MetricsRegistry() });
  try {
    const n = testNotification(channel, systemClock);
    const res = await notify.sendNow(channel, { kind: 'test', notification: n });
    if (res.outcome.status === 'accepted') {
      out.write(`canh notify: test message accepted by "${channel}" (${res.parts} part${res.parts > 1 ? 's' : ''})\n`);
      return 0;
    }
    err.write(
      `canh notify: "${channel}" did not accept the test message (${res.outcome.status === 'permanent' ? 'permanent error' : 'temporary error'}): ${res.outcome.reason}\n`,
    );
    return 1;
  } finally {
    await notify.stop();
    db.close();
  }
}
