import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import { Ingest, StoreUnavailableError } from '../../../../collector/ingest/ingest.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { openDatabase, SqliteStore } from '../../../../collector/store/sqlite-store.js';
import type { Store } from '../../../../collector/store/store.js';
import { topicFor } from '../../../../contract/topics.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

function setup(store?: Store) {
  const clock = new FakeClock();
  const metrics = new MetricsRegistry();
  const s = store ?? new SqliteStore(openDatabase(':memory:'), ':memory:');
  const ingest = new Ingest({ store: s, clock, log: silentLogger(), metrics });
  return { clock, metrics, store: s, ingest };
}

const topic = topicFor('s1', 'h1', 'samples');
function sample(clock: FakeClock, seq: number, over: Record<string, unknown> = {}) {
  const t = clock.now();
  return Buffer.from(
    JSON.stringify({
      v: 1,
      site: 's1',
      host: 'h1',
      boot: 'boot0001',
      seq,
      t,
      sent: t,
      interval: 15,
      metrics: { cpu: { usage: 12.5, load1: 0.1, load5: 0.1, load15: 0.1, cores: 2 } },
      ...over,
    }),
  );
}

describe('Ingest', () => {
  it('accepts, dedups replays, and counts both', () => {
    const { clock, ingest, metrics, store } = setup();
    expect(ingest.handle(topic, sample(clock, 1)).status).toBe('accepted');
    expect(ingest.handle(topic, sample(clock, 1)).status).toBe('duplicate');
    expect(ingest.handle(topic, sample(clock, 2)).status).toBe('accepted');
    expect(store.countSamples()).toBe(2);
    const text = metrics.render();
    expect(text).toContain('canh_ingest_accepted_total{kind="samples"} 2');
    expect(text).toContain('canh_ingest_duplicates_total{kind="samples"} 1');
  });

  it("keeps a freeze event's process list with its details", () => {
    const { clock, ingest, store } = setup();
    const t = clock.now();
    const freeze = {
      v: 1,
      site: 's1',
      host: 'h1',
      boot: 'boot0001',
      seq: 5,
      t,
      sent: t,
      type: 'freeze',
      severity: 'warning',
      message: 'frozen 20 s',
      start: t - 20_000,
      end: t,
      details: { durationMs: 20_000 },
      processes: [{ name: 'TTHC.exe', pid: 4242, cpuPct: 97.5, memBytes: 512 * 1024 * 1024 }],
    };
    expect(ingest.handle(topicFor('s1', 'h1', 'events'), Buffer.from(JSON.stringify(freeze))).status).toBe('accepted');
    const [row] = store.events('s1', 'h1', { from: t - 60_000, to: t + 1, limit: 10 });
    expect(row?.details).toEqual({ durationMs: 20_000, processes: freeze.processes });
  });

  it('rejects bad input with a counted reason and never throws', () => {
    const { clock, ingest, metrics } = setup();
    expect(ingest.handle(topic, Buffer.from('{nope')).status).toBe('rejected');
    expect(ingest.handle(topic, sample(clock, 3, { v: 9 }))).toMatchObject({ status: 'rejected', reason: 'unknown_version' });
    expect(ingest.handle(topicFor('s1', 'h2', 'samples'), sample(clock, 4))).toMatchObject({ status: 'rejected', reason: 'identity_mismatch' });
    const text = metrics.render();
    expect(text).toContain('canh_ingest_rejected_total{reason="bad_json"} 1');
    expect(text).toContain('canh_ingest_rejected_total{reason="unknown_version"} 1');
    expect(text).toContain('canh_ingest_rejected_total{reason="identity_mismatch"} 1');
    expect(text).toContain('canh_ingest_rejected_total{reason="schema"} 0');
  });

  it('corrects a skewed agent clock and keeps the agent time', () => {
    const { clock, ingest, store } = setup();
    const agentT = clock.now() - 3 * 3600_000; // PC clock 3 h behind after a power cut
    ingest.handle(topic, sample(clock, 5, { t: agentT - 15_000, sent: agentT }));
    const s = store.latestSample('s1', 'h1')!;
    expect(s.tAgent).toBe(agentT - 15_000);
    expect(s.t).toBe(clock.now() - 15_000);
    expect(s.skewMs).toBe(3 * 3600_000);
  });

  it('throws StoreUnavailableError when the store fails, so the message is not acked', () => {
    const store = new SqliteStore(openDatabase(':memory:'), ':memory:');
    const broken: Store = Object.assign(Object.create(store) as Store, {
      insertSample: () => {
        const e = new Error('database or disk is full') as Error & { code: string };
        e.code = 'SQLITE_FULL';
        throw e;
      },
    });
    const { clock, ingest, metrics } = setup(broken);
    expect(() => ingest.handle(topic, sample(clock, 6))).toThrow(StoreUnavailableError);
    expect(metrics.render()).toContain('canh_ingest_store_errors_total 1');
  });

  it('updates host state from status and stores inventory', () => {
    const { clock, ingest, store } = setup();
    const t = clock.now();
    const env = { v: 1, site: 's1', host: 'h1', boot: 'boot0001', seq: 0, t, sent: t };
    ingest.handle(topicFor('s1', 'h1', 'status'), Buffer.from(JSON.stringify({ ...env, state: 'online', hostname: 'Máy 1', agentVersion: '0.1.0' })));
    expect(store.getHost('s1', 'h1')).toMatchObject({ state: 'online', hostname: 'Máy 1' });
    ingest.handle(
      topicFor('s1', 'h1', 'inventory'),
      Buffer.from(
        JSON.stringify({
          ...env,
          seq: 1,
          hostname: 'Máy 1',
          cpu: { manufacturer: 'Intel', brand: 'Pentium G2030', cores: 2, physicalCores: 2, speedGHz: 3 },
          memTotal: 2 * 1024 ** 3,
          disks: [{ device: '/dev/sda', name: 'WDC', type: 'HDD', size: 5e11 }],
          os: { platform: 'linux', distro: 'Debian', release: '12', arch: 'x64', kernel: '6.1' },
          agentVersion: '0.1.0',
        }),
      ),
    );
    expect(store.inventory('s1', 'h1')?.data).toMatchObject({ memTotal: 2 * 1024 ** 3, disks: [{ type: 'HDD' }] });
  });
});
