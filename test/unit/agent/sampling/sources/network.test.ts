import { describe, expect, it } from 'vitest';
import { bytesPerSecond, createNetworkSource, interfaceFilter } from '../../../../../agent/sampling/sources/network.js';
import { SourceUnavailableError } from '../../../../../agent/sampling/sources/source.js';
import { context, FakeSystemInfo, linuxFixtureSystem, testConfig, windowsFixtureSystem } from '../../fake-system-info.js';
import { FakeClock } from '../../../../helpers/fake-clock.js';

describe('network source', () => {
  it('Linux: rates from two recorded /proc/net/dev readings 15 s apart; lo excluded', async () => {
    const clock = new FakeClock();
    const source = createNetworkSource(context(linuxFixtureSystem(), { clock }));
    await source.init!();
    clock.advance(15_000);
    const m = await source.collect();
    expect(m.map((n) => n.iface)).toEqual(['ifb0', 'ifb1', 'eth0']);
    const eth0 = m.find((n) => n.iface === 'eth0')!;
    // rx 219904187 -> 219904271 (+84 B), tx 611226 -> 640830 (+29604 B), over 15 s
    expect(eth0.rxBps).toBeCloseTo(84 / 15, 10);
    expect(eth0.txBps).toBeCloseTo(29604 / 15, 10);
    expect(eth0).toMatchObject({ rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 });
  });

  it('Windows: si.networkStats counters; a counter reset gives 0 for that interval; Loopback* excluded', async () => {
    const clock = new FakeClock();
    const source = createNetworkSource(context(windowsFixtureSystem(), { clock }));
    await source.init!();
    clock.advance(15_000);
    const m = await source.collect();
    expect(m.map((n) => n.iface)).toEqual(['Ethernet', 'Wi-Fi']);
    expect(m[0]).toEqual({ iface: 'Ethernet', rxBps: 100_000, txBps: 20_000, rxErrors: 2, txErrors: 1, rxDropped: 13, txDropped: 0 });
    // Wi-Fi went 90000000 -> 1200 (adapter reset): unknown traffic, reported as 0.
    expect(m[1]).toMatchObject({ iface: 'Wi-Fi', rxBps: 0, txBps: 0 });
  });

  it('uses monotonic time, not the wall clock, for the interval', async () => {
    const clock = new FakeClock();
    const source = createNetworkSource(context(windowsFixtureSystem(), { clock }));
    await source.init!();
    clock.advance(10_000);
    clock.setWall(clock.now() - 3_600_000); // NTP stepped the wall clock back an hour
    const m = await source.collect();
    expect(m[0]!.rxBps).toBe(150_000);
  });

  it('without init the first sample has rates 0, the next one real rates', async () => {
    const clock = new FakeClock();
    const source = createNetworkSource(context(linuxFixtureSystem(), { clock }));
    const first = await source.collect();
    expect(first.every((n) => n.rxBps === 0 && n.txBps === 0)).toBe(true);
    clock.advance(5_000);
    const second = await source.collect();
    expect(second.find((n) => n.iface === 'eth0')!.txBps).toBeCloseTo(29604 / 5, 10);
  });

  it('exclude patterns: exact names, and a trailing * as a prefix', () => {
    const include = interfaceFilter(testConfig().net.exclude);
    expect(['lo', 'eth0', 'docker0', 'veth12ab', 'br-3f2a', 'virbr0', 'Loopback Pseudo-Interface 1', 'lo2', 'Ethernet'].filter(include)).toEqual(['eth0', 'lo2', 'Ethernet']);
  });

  it('bytesPerSecond edge cases', () => {
    expect(bytesPerSecond(undefined, 100, 15)).toBe(0);
    expect(bytesPerSecond(100, 50, 15)).toBe(0);
    expect(bytesPerSecond(100, 400, 0)).toBe(0);
    expect(bytesPerSecond(100, 400, 1.5)).toBe(200);
  });

  it('a missing /proc/net/dev makes the source unavailable', async () => {
    const sys = new FakeSystemInfo();
    sys.netCounters = async () => {
      throw Object.assign(new Error('ENOENT: /proc/net/dev'), { code: 'ENOENT' });
    };
    await expect(createNetworkSource(context(sys)).init!()).rejects.toBeInstanceOf(SourceUnavailableError);
  });
});
