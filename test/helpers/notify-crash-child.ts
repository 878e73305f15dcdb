/**
 * A process that owns a notifier outbox, for the kill -9 test (notify-crash.test.ts):
 * `node child.mjs <db file> <zalo stand-in url>` enqueues five notifications (ids fixed, so
 * a restarted child's enqueue is a no-op) and sends them to the stand-in's Bot API.
 */
import { systemClock } from '../../common/clock.js';
import { silentLogger } from '../../common/log.js';
import { MetricsRegistry } from '../../common/metrics-registry.js';
import { NotifyConfigSchema } from '../../collector/notify/config.js';
import { NotifyService } from '../../collector/notify/notify-service.js';
import { openDatabase } from '../../collector/store/sqlite-store.js';
import { congestionAlert, notification } from './notifications.js';

const CRASH_BOT_TOKEN = '7000000007:CrashTestBotToken';

const [file, url] = process.argv.slice(2);
if (!file || !url) {
  process.stderr.write('usage: child <db file> <stand-in url>\n');
  process.exit(2);
}
const db = openDatabase(file);
const notify = new NotifyService(
  NotifyConfigSchema.parse({
    channels: [{ type: 'zalo_bot', name: 'zalo', token: CRASH_BOT_TOKEN, chatId: 'crash', baseUrl: url, timeoutMs: 60_000 }],
    retry: { minDelayMs: 20, maxDelayMs: 50 },
  }),
  { db, clock: systemClock, log: silentLogger(), metrics: new MetricsRegistry() },
);
for (let i = 0; i < 5; i++) notify.enqueue(notification(`crash-${i}`, { siteName: `Xã số ${i}`, firing: [congestionAlert()] }));
notify.start();
process.stdout.write('ready\n');
setInterval(() => undefined, 1000);
