import { loadCollectorConfig } from './collector-config.js';
import { parseArgs } from 'node:util';
import { databaseFile } from '../collector/collector.js';
import { NotifyService } from '../collector/notify/notify-service.js';
import { Outbox } from '../collector/notify/outbox.js';
import { testNotification } from '../collector/notify/test-notification.js';
import { MetricsRegistry } from '../common/metrics-registry.js';
import { openDatabase } from '../collector/store/sqlite-store.js';
import { systemClock } from '../common/clock.js';
import { createLogger } from '../common/log.js';

const HELP = `canh notify test --channel NAME [--config FILE] [--data-dir DIR]
  Sends a test notification through one configured channel (the collector's config and
  store: a refreshed Zalo OA token is kept) and says whether the service accepted it.
canh notify status [--json] [--config FILE] [--data-dir DIR]
  Deliveries in the outbox per channel (pending, sent, failed) and the latest failures
  with their reasons.
`;

export async function runNotifyCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      'data-dir': { type: 'string' },
      channel: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const sub = positionals[0];
  if (values.help || !((sub === 'test' && values.channel) || sub === 'status')) {
    (values.help ? out : err).write(HELP);
    return values.help ? 0 : 2;
  }
  const config = loadCollectorConfig('notify', { file: values.config, dataDir: values['data-dir'] });
  if (!config) return 2;
  // The collector's store holds credential hashes and OA tokens: owner-only files (as `canh collector`).
  process.umask(0o077);
  if (sub === 'status') return notifyStatus(databaseFile(config), values.json ?? false, out);
  const channel = values.channel!;
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
    err.write(`canh notify: "${channel}" did not accept the test message (${res.outcome.status === 'permanent' ? 'permanent error' : 'temporary error'}): ${res.outcome.reason}\n`);
    return 1;
  } finally {
    await notify.stop();
    db.close();
  }
}

/** `canh notify status`: what the outbox holds, read-only. */
function notifyStatus(file: string, json: boolean, out: NodeJS.WritableStream): number {
  const db = openDatabase(file);
  try {
    const outbox = new Outbox(db, { maxPendingPerChannel: Number.MAX_SAFE_INTEGER, retentionMs: Number.MAX_SAFE_INTEGER });
    const counts = outbox.counts();
    const failed = outbox.list('failed', 20);
    if (json) {
      out.write(`${JSON.stringify({ counts, failed })}\n`);
      return 0;
    }
    const byChannel = new Map<string, Record<string, number>>();
    for (const c of counts) byChannel.set(c.channel, { ...(byChannel.get(c.channel) ?? {}), [c.state]: c.n });
    if (!byChannel.size) out.write('canh notify: the outbox is empty\n');
    for (const [ch, n] of byChannel) out.write(`${ch}: ${n.pending ?? 0} pending, ${n.sent ?? 0} sent, ${n.failed ?? 0} failed\n`);
    if (failed.length) out.write('latest failures:\n');
    for (const d of failed) out.write(`  ${new Date(d.doneAt ?? d.queuedAt).toISOString()} ${d.channel} ${d.messageId} after ${d.attempts} attempt(s): ${d.lastError ?? ''}\n`);
    return 0;
  } finally {
    db.close();
  }
}
