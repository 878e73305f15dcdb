import { describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../../../../../agent/config.js';
import type { HttpProbeTarget, HttpTimer } from '../../../../../agent/platform/http-timing.js';
import { createHttpProbeSource, HttpProbeSchedule, phaseFraction, probeTargets } from '../../../../../agent/sampling/sources/http-probe.js';
import type { HttpProbeResult } from '../../../../../contract/schemas.js';
import { FakeClock } from '../../../../helpers/fake-clock.js';
import { silentLogger } from '../../../../../common/log.js';
import { linuxFixtureSystem, testConfig } from '../../fake-system-info.js';

/** A timer whose probes end when the test says, recording when each started (fake monotonic ms). */
class FakeTimer implements HttpTimer {
  readonly started: Array<{ name: string; at: number }> = [];
  private readonly open = new Map<string, (r: HttpProbeResult) => void>();
  constructor(private readonly clock: FakeClock) {}
  probe(t: HttpProbeTarget, signal?: AbortSignal): Promise<HttpProbeResult> {
    this.started.push({ name: t.name, at: this.clock.monotonic() });
    return new Promise((resolve) => {
      const onAbort = () => resolve(result(t.name, { ok: false, error: 'ABORTED' }));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.open.set(t.name, (r) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      });
    });
  }
  /** Ends the probe `name` now. */
  answer(name: string, over: Partial<HttpProbeResult> = {}): void {
    const r = this.open.get(name);
    if (!r) throw new Error(`no probe of ${name} running`);
    this.open.delete(name);
    r(result(name, over));
  }
  running(): string[] {
    return [...this.open.keys()];
  }
}

function result(name: string, over: Partial<HttpProbeResult> = {}): HttpProbeResult {
  return { name, url: `https://${name}.test/`, ok: true, status: 200, dnsMs: 1, connectMs: 2, tlsMs: 3, firstByteMs: 4, totalMs: 5, ...over };
}

const flush = () => new Promise((r) => setImmediate(r));
const targets = (...names: string[]): HttpProbeTarget[] => names.map((name) => ({ name, url: `https://${name}.test/`, method: 'GET', timeoutSeconds: 10, maxBodyBytes: 1024 }));

describe('HTTP probe schedule', () => {
  it('spreads the probes evenly over the interval, one per target per interval, no burst', async () => {
    const clock = new FakeClock();
    const timer = new FakeTimer(clock);
    const s = new HttpProbeSchedule({ targets: targets('a', 'b', 'c'), intervalMs: 15_000, phase: 0, clock, timer });
    s.start();
    for (let i = 0; i < 12; i++) {
      clock.advance(5_000);
      for (const n of timer.running()) timer.answer(n);
      await flush();
    }
    // 0, 5, 10 s; then every 15 s: three intervals and the start of the fourth.
    expect(timer.started.filter((p) => p.name === 'a').map((p) => p.at)).toEqual([0, 15_000, 30_000, 45_000, 60_000]);
    expect(timer.started.filter((p) => p.name === 'b').map((p) => p.at)).toEqual([5_000, 20_000, 35_000, 50_000]);
    expect(timer.started.filter((p) => p.name === 'c').map((p) => p.at)).toEqual([10_000, 25_000, 40_000, 55_000]);
    await s.stop();
  });

  it('a per-host phase shifts the slots', () => {
    const clock = new FakeClock();
    const timer = new FakeTimer(clock);
    const s = new HttpProbeSchedule({ targets: targets('a', 'b'), intervalMs: 10_000, phase: 0.5, clock, timer });
    s.start();
    clock.advance(10_000);
    expect(timer.started).toEqual([
      { name: 'a', at: 2_500 },
      { name: 'b', at: 7_500 },
    ]);
    expect(phaseFraction('xa-an-binh/pc-01')).not.toBe(phaseFraction('xa-an-binh/pc-02'));
    expect(phaseFraction('x')).toBeGreaterThanOrEqual(0);
    expect(phaseFraction('x')).toBeLessThan(1);
  });

  it('take() hands each result over once, in configuration order; a probe still running is not in it', async () => {
    const clock = new FakeClock();
    const timer = new FakeTimer(clock);
    const s = new HttpProbeSchedule({ targets: targets('a', 'b'), intervalMs: 10_000, phase: 0, clock, timer });
    s.start();
    clock.advance(6_000);
    timer.answer('b', { totalMs: 42 });
    await flush();
    expect(s.take()).toEqual([result('b', { totalMs: 42 })]);
    timer.answer('a', { ok: false, status: 503, error: 'HTTP 503' });
    await flush();
    expect(s.take().map((r) => [r.name, r.error])).toEqual([['a', 'HTTP 503']]);
    expect(s.take()).toEqual([]);
  });

  it('a probe still running at its next turn skips that turn (one request per target at a time)', async () => {
    const clock = new FakeClock();
    const timer = new FakeTimer(clock);
    const skipped: string[] = [];
    const s = new HttpProbeSchedule({ targets: targets('a'), intervalMs: 5_000, phase: 0, clock, timer, onSkipped: (n) => skipped.push(n) });
    s.start();
    clock.advance(12_000); // turns at 0, 5, 10 s: the first never answered
    expect(timer.started.map((p) => p.at)).toEqual([0]);
    expect(skipped).toEqual(['a', 'a']);
    timer.answer('a');
    await flush();
    clock.advance(3_000); // turn at 15 s
    expect(timer.started.map((p) => p.at)).toEqual([0, 15_000]);
  });

  it('after a freeze it keeps its phase and skips the missed turns instead of catching up in a burst', async () => {
    /** A clock whose next timer fires `lateBy` ms late (the PC froze or slept). */
    class LateClock extends FakeClock {
      lateBy = 0;
      override setTimeout(fn: () => void, ms: number) {
        const late = this.lateBy;
        this.lateBy = 0;
        return super.setTimeout(fn, ms + late);
      }
    }
    const clock = new LateClock();
    const timer = new FakeTimer(clock);
    const s = new HttpProbeSchedule({ targets: targets('a'), intervalMs: 10_000, phase: 0.2, clock, timer });
    s.start();
    clock.lateBy = 45_000; // the turn due at 12 s comes at 57 s
    clock.advance(2_000);
    timer.answer('a');
    await flush();
    clock.advance(55_000);
    expect(timer.started.map((p) => p.at)).toEqual([2_000, 57_000]);
    timer.answer('a');
    await flush();
    clock.advance(10_000);
    expect(timer.started.map((p) => p.at)).toEqual([2_000, 57_000, 62_000]);
  });

  it('stop() clears its timers and cancels the probes in flight', async () => {
    const clock = new FakeClock();
    const timer = new FakeTimer(clock);
    const s = new HttpProbeSchedule({ targets: targets('a', 'b'), intervalMs: 10_000, phase: 0, clock, timer });
    s.start();
    clock.advance(1_000);
    await s.stop();
    expect(clock.pending).toBe(0);
    clock.advance(60_000);
    expect(timer.started).toHaveLength(1);
    expect(s.take()).toEqual([]);
  });
});

describe('http source', () => {
  it('defaults: on, the national portal over https, GET, 10 s timeout, every 60 s', () => {
    const c = testConfig();
    expect(c.http.enabled).toBe(true);
    expect(c.http.probes).toEqual([{ name: 'dichvucong', url: 'https://dichvucong.gov.vn/', method: 'GET', timeoutSeconds: 10 }]);
    expect(c.http.intervalSeconds).toBe(60);
    expect(probeTargets(c)).toEqual([{ name: 'dichvucong', url: 'https://dichvucong.gov.vn/', method: 'GET', timeoutSeconds: 10, expectStatus: undefined, maxBodyBytes: 16384 }]);
  });

  it('config errors: duplicate names, a non-http URL, a bad name, a timeout out of range', () => {
    const r = AgentConfigSchema.safeParse({
      site: 's',
      mqtt: { password: 'p' },
      http: {
        probes: [
          { name: 'dvc', url: 'https://dichvucong.gov.vn/' },
          { name: 'dvc', url: 'https://dichvucong.angiang.gov.vn/' },
          { name: 'ftp', url: 'ftp://x/' },
          { name: 'Cổng', url: 'https://x/' },
          { name: 'slow', url: 'https://x/', timeoutSeconds: 0 },
        ],
      },
    });
    const issues = (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^http\.probes\.2\.url: must be an http/),
        expect.stringMatching(/^http\.probes\.3\.name: must be a lowercase name/),
        expect.stringMatching(/^http\.probes\.4\.timeoutSeconds: /),
      ]),
    );
    const dup = AgentConfigSchema.safeParse({
      site: 's',
      mqtt: { password: 'p' },
      http: {
        probes: [
          { name: 'dvc', url: 'https://a/' },
          { name: 'dvc', url: 'https://b/' },
        ],
      },
    });
    expect((dup.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['http.probes.1.name: duplicate probe name "dvc"']);
    const badPort = AgentConfigSchema.safeParse({ site: 's', mqtt: { password: 'p' }, http: { probes: [{ name: 'dvc', url: 'https://x:99999/' }] } });
    expect((badPort.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['http.probes.0.url: is not a valid URL']);
  });

  it('probes in the background from init(); each sample carries what finished since the previous one', async () => {
    const clock = new FakeClock();
    const timer = new FakeTimer(clock);
    const config = testConfig({
      intervalSeconds: 15,
      http: {
        intervalSeconds: 15,
        probes: [
          { name: 'dvc', url: 'https://dvc.test/' },
          { name: 'motcua', url: 'https://motcua.test/' },
        ],
      },
    });
    const source = createHttpProbeSource({ sys: linuxFixtureSystem(), config, clock, log: silentLogger() }, { timer });
    await source.init!();
    expect(await source.collect()).toEqual([]);
    clock.advance(15_000);
    expect(timer.started.map((p) => p.name).sort()).toEqual(['dvc', 'motcua']);
    for (const n of timer.running()) timer.answer(n);
    await flush();
    expect((await source.collect()).map((r) => r.name)).toEqual(['dvc', 'motcua']);
    expect(await source.collect()).toEqual([]);
    await source.stop!();
    expect(clock.pending).toBe(0);
  });

  it('http.intervalSeconds slows the probes down independently of the sampling', async () => {
    const clock = new FakeClock();
    const timer = new FakeTimer(clock);
    const config = testConfig({ intervalSeconds: 15, http: { intervalSeconds: 60, probes: [{ name: 'dvc', url: 'https://dvc.test/' }] } });
    const source = createHttpProbeSource({ sys: linuxFixtureSystem(), config, clock, log: silentLogger() }, { timer });
    await source.init!();
    for (let i = 0; i < 8; i++) {
      clock.advance(15_000);
      for (const n of timer.running()) timer.answer(n);
      await flush();
    }
    expect(timer.started).toHaveLength(2);
    expect(timer.started[1]!.at - timer.started[0]!.at).toBe(60_000);
    await source.stop!();
  });
});
