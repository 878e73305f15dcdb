import { describe, expect, it } from 'vitest';
import { createSources, SOURCE_REGISTRY } from '../../../../../agent/sampling/sources/index.js';
import { SampleMetrics } from '../../../../../contract/schemas.js';
import { FakeClock as TimerClock } from '../../../../helpers/fake-clock.js';
import { context, linuxFixtureSystem, testConfig, windowsFixtureSystem } from '../../fake-system-info.js';

describe('source registry', () => {
  it('creates every source, one per metrics key', () => {
    const names = createSources(context(linuxFixtureSystem())).map((s) => s.name);
    expect(names).toEqual(['cpu', 'mem', 'disks', 'net', 'uptime', 'http', 'ping', 'power', 'diskio', 'pressure']);
    expect(SOURCE_REGISTRY).toHaveLength(10);
  });

  it('leaves http out when it is disabled or has no probes', () => {
    for (const http of [{ enabled: false }, { probes: [] }]) {
      const config = testConfig({ http });
      expect(createSources(context(linuxFixtureSystem(), { config })).map((s) => s.name)).not.toContain('http');
    }
  });

  it('leaves diskio and pressure out when diskHealth.activity is off', () => {
    const config = testConfig({ diskHealth: { activity: false } });
    const names = createSources(context(linuxFixtureSystem(), { config })).map((s) => s.name);
    expect(names).not.toContain('diskio');
    expect(names).not.toContain('pressure');
  });

  it('leaves ping out when ping is disabled', () => {
    const config = testConfig({ ping: { enabled: false } });
    expect(createSources(context(linuxFixtureSystem(), { config })).map((s) => s.name)).not.toContain('ping');
  });

  it.each([
    ['linux', linuxFixtureSystem],
    ['windows', windowsFixtureSystem],
  ])('%s: what the sources produce is a valid sample per the wire contract', async (_, system) => {
    // The HTTP probe goes to a closed port on loopback (tests never leave the machine).
    const config = testConfig({
      ping: { targets: ['127.0.0.1', '8.8.8.8'].filter((t) => system().pings.has(t)) },
      http: { probes: [{ name: 'local', url: 'http://127.0.0.1:9/' }] },
    });
    // The http source probes on its own schedule: the one source that arms timers.
    const ctx = { ...context(system(), { config }), clock: new TimerClock() };
    const metrics: Record<string, unknown> = {};
    for (const source of createSources(ctx)) {
      await source.init?.();
      ctx.clock.advance(15_000);
      metrics[source.name] = await source.collect();
    }
    expect(Object.keys(metrics)).toHaveLength(10);
    const parsed = SampleMetrics.safeParse(metrics);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });
});
