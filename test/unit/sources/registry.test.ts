import { describe, expect, it } from 'vitest';
import { createSources, SOURCE_REGISTRY } from '../../../agent/sources/index.js';
import { SampleMetrics } from '../../../contract/schemas.js';
import { context, linuxFixtureSystem, testConfig, windowsFixtureSystem } from './fake-system-info.js';

describe('source registry', () => {
  it('creates every source, one per metrics key', () => {
    const names = createSources(context(linuxFixtureSystem())).map((s) => s.name);
    expect(names).toEqual(['cpu', 'mem', 'disks', 'net', 'uptime', 'ping', 'power']);
    expect(SOURCE_REGISTRY).toHaveLength(7);
  });

  it('leaves ping out when ping is disabled', () => {
    const config = testConfig({ ping: { enabled: false } });
    expect(createSources(context(linuxFixtureSystem(), { config })).map((s) => s.name)).not.toContain('ping');
  });

  it.each([
    ['linux', linuxFixtureSystem],
    ['windows', windowsFixtureSystem],
  ])('%s: what the sources produce is a valid sample per the wire contract', async (_, system) => {
    const config = testConfig({ ping: { targets: ['127.0.0.1', '8.8.8.8'].filter((t) => system().pings.has(t)) } });
    const ctx = context(system(), { config });
    const metrics: Record<string, unknown> = {};
    for (const source of createSources(ctx)) {
      await source.init?.();
      ctx.clock.advance(15_000);
      metrics[source.name] = await source.collect();
    }
    expect(Object.keys(metrics)).toHaveLength(7);
    const parsed = SampleMetrics.safeParse(metrics);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });
});
