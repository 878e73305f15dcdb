import { loadCollectorConfig, openCollectorStore, STORE_OPTIONS } from './collector-config.js';
import { parseArgs } from 'node:util';
import { NotifyService } from '../collector/notify/notify-service.js';
import { Outbox } from '../collector/notify/outbox.js';
import { testNotification } from '../collector/notify/test-notification.js';
import { MetricsRegistry } from '../common/metrics-registry.js';
import { systemClock } from '../common/clock.js';
import type { SqliteDatabase } from '../collector/store/sqlite-store.js';
import { createLogger } from '../common/log.js';
import { cliLang, helpText, usageError } from './help.js';

export async function runNotifyCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      ...STORE_OPTIONS,
      channel: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const sub = positionals[0];
  const lang = cliLang(argv);
  if (values.help) {
    out.write(helpText('notify', lang));
    return 0;
  }
  if (!((sub === 'test' && values.channel) || sub === 'status')) {
    const what =
      sub === 'test'
        ? lang === 'vi'
          ? 'canh notify test cần --channel TÊN'
          : 'canh notify test needs --channel NAME'
        : sub === undefined
          ? lang === 'vi'
            ? 'thiếu lệnh con (test, status)'
            : 'missing subcommand (test, status)'
          : lang === 'vi'
            ? `không có lệnh con "${sub}"`
            : `unknown subcommand: ${sub}`;
    return usageError('notify', what, lang, err);
  }
  const source = { file: values.config, dataDir: values['data-dir'] };
  const config = loadCollectorConfig('notify', source);
  if (!config) return 2;
  // The collector's store holds credential hashes and OA tokens: owner-only files (as `canh collector`).
  process.umask(0o077);
  if (sub === 'status') {
    const db = openCollectorStore('notify', config, source, { create: false }, err);
    return db ? notifyStatus(db, values.json ?? false, out) : 2;
  }
  const channel = values.channel!;
  if (!config.notify.channels.some((c) => c.name === channel && c.enabled)) {
    const names = config.notify.channels.map((c) => `${c.name}${c.enabled ? '' : ' (disabled)'}`).join(', ') || 'none';
    err.write(`canh notify: no enabled channel "${channel}" in notify.channels (configured: ${names})\n`);
    return 2;
  }
  const log = createLogger('canh-notify', { level: config.log.level === 'info' ? 'warn' : config.log.level, destination: err });
  // A channel may be tried before the collector's first start, in its configured folder.
  const db = openCollectorStore('notify', config, source, { create: true }, err);
  if (!db) return 2;
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
function notifyStatus(db: SqliteDatabase, json: boolean, out: NodeJS.WritableStream): number {
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
