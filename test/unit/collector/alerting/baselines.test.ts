/**
 * Off-peak baselines (issue 13 item 5): a recorded series with a 15-minute 30 % loss
 * episode at night must not move the learnt "normal" (the EWMA went to 31.7 %), and a new
 * instance seeded from the stored 1-minute rollups gives the same baseline as the one that
 * learnt live.
 */
import { describe, expect, it } from 'vitest';
import { OffPeakBaselines, type BaselineHistory, type BaselineMinute } from '../../../../collector/alerting/baselines.js';
import { reduceMetrics } from '../../../../collector/alerting/metric-windows.js';
import { RollupBaselineHistory } from '../../../../collector/alerting/rollup-baseline-history.js';
import { SqliteHistory } from '../../../../collector/store/sqlite-history.js';
import { openDatabase, SqliteStore } from '../../../../collector/store/sqlite-store.js';
import { isWorkingTime, WorkingHoursSchema } from '../../../../collector/sites/schedule/working-hours.js';
import type { SampleMetrics } from '../../../../contract/schemas.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const WH = WorkingHoursSchema.parse({});
const offPeak = (_site: string, t: number) => !isWorkingTime(WH, t);
// Monday 2026-11-16 00:00 in Vietnam.
const DAY0 = Date.UTC(2026, 10, 15, 17, 0, 0);
const STEP = 30_000;
const HOSTS = ['pc-01', 'pc-02'];

/** Deterministic noise in [0, 1). */
function noise(i: number): number {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  return x - Math.floor(x);
}

interface Sample {
  host: string;
  t: number;
  m: SampleMetrics;
}

/** `days` days of 15-s samples from three PCs: 0–1 % loss, p95 18–26 ms; optional episode [from, to) with 30 % loss, 180 ms. */
function record(days: number, episode?: [number, number]): Sample[] {
  const out: Sample[] = [];
  let i = 0;
  for (let t = DAY0; t < DAY0 + days * 86_400_000; t += STEP) {
    for (const host of HOSTS) {
      i++;
      const bad = episode && t >= episode[0] && t < episode[1];
      const loss = bad ? 30 : noise(i) < 0.1 ? 1 : 0;
      const p95 = bad ? 180 : 18 + 8 * noise(i + 7);
      out.push({
        host,
        t,
        m: {
          ping: [{ target: '8.8.8.8', role: 'configured', sent: 4, lossPct: loss, rttMedian: p95 / 2, rttP95: p95, rttMax: p95 }],
          http: [
            {
              name: 'dichvucong',
              url: 'https://dichvucong.gov.vn',
              ok: !bad,
              status: bad ? null : 200,
              totalMs: bad ? null : 400 + 100 * noise(i + 3),
              error: bad ? 'timeout' : undefined,
            },
          ],
        } as SampleMetrics,
      });
    }
  }
  return out;
}

function learnAll(b: OffPeakBaselines, samples: readonly Sample[], until = Infinity): void {
  for (const s of samples) if (s.t < until && offPeak('xa-a', s.t)) b.learn('xa-a', reduceMetrics(s.t, s.m));
}

const pause = () => Promise.resolve();

describe('OffPeakBaselines (median of daily off-peak medians)', () => {
  it('a 15-minute 30 % loss episode at night does not move the baseline', () => {
    // Episode: Thursday 2026-11-19 22:00–22:15 local.
    const start = DAY0 + 3 * 86_400_000 + 22 * 3_600_000;
    const clean = new OffPeakBaselines();
    const withEpisode = new OffPeakBaselines();
    learnAll(clean, record(5));
    learnAll(withEpisode, record(5, [start, start + 15 * 60_000]));
    const a = clean.get('xa-a', 'ping:8.8.8.8')!;
    const b = withEpisode.get('xa-a', 'ping:8.8.8.8')!;
    expect(a.days).toBeGreaterThanOrEqual(4);
    expect(b.loss).toBeLessThan(1);
    expect(Math.abs(b.loss - a.loss)).toBeLessThan(0.2);
    expect(Math.abs(b.latency! - a.latency!)).toBeLessThan(1);
    expect(b.latency!).toBeLessThan(30);
    // Right after the episode too (the old EWMA said 31.7 % here).
    const justAfter = new OffPeakBaselines();
    learnAll(justAfter, record(5, [start, start + 15 * 60_000]), start + 16 * 60_000);
    expect(justAfter.get('xa-a', 'ping:8.8.8.8')!.loss).toBeLessThan(1);
    expect(justAfter.get('xa-a', 'http:dichvucong')!.loss).toBeLessThan(1);
  });

  it('is not trusted before a day has enough off-peak minutes', () => {
    const b = new OffPeakBaselines();
    const s = record(1).filter((x) => offPeak('xa-a', x.t));
    learnAll(b, s.slice(0, 2 * 2 * 10)); // 10 minutes of two PCs
    expect(b.get('xa-a', 'ping:8.8.8.8')).toBeUndefined();
  });

  it('a restart seeded from the 1-minute rollups gives the same baseline', async () => {
    const start = DAY0 + 3 * 86_400_000 + 22 * 3_600_000;
    const samples = record(4, [start, start + 15 * 60_000]);
    // Stop at Friday 03:10 local: part of today is off-peak already.
    const stopAt = DAY0 + 4 * 86_400_000 + 3 * 3_600_000 + 10 * 60_000;
    const extra = record(5).filter((s) => s.t >= DAY0 + 4 * 86_400_000 && s.t < stopAt);
    const all = [...samples, ...extra];
    const live = new OffPeakBaselines();
    learnAll(live, all);

    const db = openDatabase(':memory:');
    const store = new SqliteStore(db, ':memory:');
    const history = new SqliteHistory(db, new FakeClock(stopAt));
    let seq = 0;
    for (const s of all)
      store.insertSample({ site: 'xa-a', host: s.host, boot: 'bootboot01', seq: ++seq, t: s.t, tAgent: s.t, sent: s.t, received: s.t, skewMs: 0, interval: 15, metrics: s.m });
    while (!history.rollup().caughtUp);

    const seeded = new OffPeakBaselines();
    let calls = 0;
    const src = new RollupBaselineHistory(db);
    const counted: BaselineHistory = {
      sites: () => src.sites(),
      minutes: (site, from, to): BaselineMinute[] => {
        calls++;
        expect(to - from).toBeLessThanOrEqual(3_600_000); // bounded query per turn of the loop
        return src.minutes(site, from, to);
      },
    };
    const r = await seeded.seed(counted, { until: stopAt, offPeak, pause });
    expect(r.sites).toBe(1);
    expect(calls).toBeGreaterThan(24);
    for (const series of ['ping:8.8.8.8', 'http:dichvucong']) {
      const a = live.get('xa-a', series)!;
      const b = seeded.get('xa-a', series)!;
      expect(b.days).toBe(a.days);
      expect(b.loss).toBeCloseTo(a.loss, 3);
      expect(b.latency!).toBeCloseTo(a.latency!, 1);
      expect(Math.abs(b.n - a.n)).toBeLessThanOrEqual(1); // live holds the last minute open
    }
    // Samples from before the start (a replay) are not counted twice: the seed has them all.
    learnAll(seeded, extra);
    expect(seeded.get('xa-a', 'ping:8.8.8.8')!.n).toBe(live.get('xa-a', 'ping:8.8.8.8')!.n + 1);
    db.close();
  });
});
