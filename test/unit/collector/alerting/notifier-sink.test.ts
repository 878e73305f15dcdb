import { describe, expect, it } from 'vitest';
import type { Notification, NotifiedAlert } from '../../../../collector/alerting/alert-types.js';
import { MAX_ALERTS_PER_MESSAGE, NotifierOutboxSink } from '../../../../collector/alerting/notifier-sink.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { NotifyConfigSchema } from '../../../../collector/notify/config.js';
import { NotifyService } from '../../../../collector/notify/notify-service.js';
import { openDatabase } from '../../../../collector/store/sqlite-store.js';
import { silentLogger } from '../../../../common/log.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

/** The engine → notifier boundary: the engine's notification passes the notifier's schema and lands in its outbox once. */
describe('NotifierOutboxSink', () => {
  it('hands a site notification to the notifier outbox (validated, idempotent, bounded lists)', () => {
    const clock = new FakeClock();
    const db = openDatabase(':memory:');
    // A channel that is never started: deliveries stay pending in the outbox (no network).
    const notify = new NotifyService(NotifyConfigSchema.parse({ channels: [{ type: 'webhook', name: 'hook', url: 'http://127.0.0.1:9/never' }] }), {
      db,
      clock,
      log: silentLogger(),
      metrics: new MetricsRegistry(),
    });
    const alert = (i: number): NotifiedAlert => ({
      id: i,
      fingerprint: `fp${i}`,
      rule: 'host_offline',
      site: 'xa-a',
      host: `pc${i}`,
      key: '',
      severity: 'warning',
      state: 'firing',
      startsAt: clock.now() - 60_000,
      endsAt: null,
      value: 5,
      summary: { vi: 'Máy mất kết nối', en: 'PC offline' },
      hint: { vi: 'kiểm tra cáp mạng', en: 'check the cable' },
      isNew: true,
    });
    const n: Notification = {
      id: `xa-a@${clock.now()}`,
      site: 'xa-a',
      siteName: 'UBND xã A',
      createdAt: clock.now(),
      kind: 'alert',
      firing: Array.from({ length: 150 }, (_, i) => alert(i + 1)),
      resolved: [],
      title: { vi: 't', en: 't' },
      text: { vi: 't', en: 't' },
    };
    const sink = new NotifierOutboxSink(notify);
    sink.enqueue(n);
    sink.enqueue(n); // same id again (e.g. re-evaluated after a crash): nothing new
    expect(
      notify.outbox
        .counts()
        .filter((c) => c.state === 'pending')
        .reduce((s, c) => s + c.n, 0),
    ).toBe(1);
    const [msg] = notify.outbox.alertMessages(0, clock.now() + 1);
    if (msg?.kind !== 'alert') throw new Error('no alert message in the outbox');
    expect(msg.notification.firing).toHaveLength(MAX_ALERTS_PER_MESSAGE);
    expect(msg.notification.firing[0]).toMatchObject({
      fingerprint: 'fp1',
      rule: 'host_offline',
      host: 'pc1',
      summary: { vi: 'Máy mất kết nối' },
      advice: { vi: 'kiểm tra cáp mạng' },
    });
  });
});
