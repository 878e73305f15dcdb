import { describe, expect, it } from 'vitest';
import { createPingSource, PING_MISSING_REASON, summarizePing } from '../../../../../agent/sampling/sources/ping.js';
import { SourceUnavailableError } from '../../../../../agent/sampling/sources/source.js';
import { pingReadingFromResponse } from '../../../../../agent/platform/si-system-info.js';
import { STATIC_REFRESH_MS } from '../../../../../agent/sampling/sources/source.js';
import { context, fixtureText, linuxFixtureSystem, parsePingOutput, testConfig, windowsFixtureSystem } from '../../fake-system-info.js';
import { FakeClock } from '../../../../helpers/fake-clock.js';

const linuxReading = (file: string, target: string, count: number) => pingReadingFromResponse(parsePingOutput(fixtureText(`linux/${file}`), 'linux', target, count), count);

describe('ping statistics', () => {
  it('Linux: median / p95 (nearest rank) / max from a recorded 20-probe run', () => {
    const r = summarizePing({ target: '192.0.2.1', role: 'gateway' }, linuxReading('ping-192.0.2.1-c20.txt', '192.0.2.1', 20));
    // sorted: .166 .169 .172 .178 .180 .183 .185 .192 .194 .207 | .218 .226 .226 .228 .232 .238 .242 .243 .246 .262
    expect(r).toEqual({ target: '192.0.2.1', role: 'gateway', sent: 20, lossPct: 0, rttMedian: (0.207 + 0.218) / 2, rttP95: 0.246, rttMax: 0.262 });
  });

  it('Linux: 50% loss', () => {
    const r = summarizePing({ target: '192.0.2.1', role: 'gateway' }, linuxReading('ping-192.0.2.1-50loss.txt', '192.0.2.1', 4));
    expect(r).toMatchObject({ sent: 4, lossPct: 50, rttMedian: (0.093 + 0.413) / 2, rttP95: 0.413, rttMax: 0.413 });
  });

  it('Linux: 100% loss (ICMP errors, not replies) gives null RTTs', () => {
    const r = summarizePing({ target: '10.255.255.1', role: 'configured' }, linuxReading('ping-10.255.255.1-100loss.txt', '10.255.255.1', 4));
    expect(r).toEqual({ target: '10.255.255.1', role: 'configured', sent: 4, lossPct: 100, rttMedian: null, rttP95: null, rttMax: null });
  });

  it('falls back to the reply lines of the raw output when the package gives no times', () => {
    const reading = pingReadingFromResponse({ output: fixtureText('linux/ping-127.0.0.1-c4.txt') }, 4);
    expect(reading).toEqual({ sent: 4, times: [0.032, 0.035, 0.037, 0.036] });
    const win = pingReadingFromResponse({ times: [], output: fixtureText('windows/ping-8.8.8.8-50loss.txt') }, 4);
    expect(win).toEqual({ sent: 4, times: [41, 67] });
  });
});

describe('ping source', () => {
  it('Windows: gateway first, then configured targets, all from real ping.exe output shapes', async () => {
    const config = testConfig({ ping: { targets: ['8.8.8.8', '10.0.0.99', '192.168.1.250'] } });
    const source = createPingSource(context(windowsFixtureSystem(), { config }));
    await source.init!();
    const m = await source.collect();
    expect(m).toEqual([
      // replies 3, <1 (the package reads "time<1ms" as 1), 1, 12 ms
      { target: '192.168.1.1', role: 'gateway', sent: 4, lossPct: 0, rttMedian: 2, rttP95: 12, rttMax: 12 },
      { target: '8.8.8.8', role: 'configured', sent: 4, lossPct: 50, rttMedian: 54, rttP95: 67, rttMax: 67 },
      { target: '10.0.0.99', role: 'configured', sent: 4, lossPct: 100, rttMedian: null, rttP95: null, rttMax: null },
      // ping.exe says "Received = 4, Lost = 0 (0% loss)" for "Destination host unreachable": it is 100% loss.
      { target: '192.168.1.250', role: 'configured', sent: 4, lossPct: 100, rttMedian: null, rttP95: null, rttMax: null },
    ]);
  });

  it('Linux: gateway found by si plus configured targets', async () => {
    const config = testConfig({ ping: { targets: ['127.0.0.1'] } });
    const m = await createPingSource(context(linuxFixtureSystem(), { config })).collect();
    expect(m.map((r) => [r.target, r.role, r.lossPct])).toEqual([
      ['192.0.2.1', 'gateway', 0],
      ['127.0.0.1', 'configured', 0],
    ]);
    expect(m[0]).toMatchObject({ rttMedian: (0.222 + 0.269) / 2, rttP95: 0.413, rttMax: 0.413 });
  });

  it('no gateway ping when ping.gateway is false or no gateway exists', async () => {
    const sys = linuxFixtureSystem();
    const off = testConfig({ ping: { gateway: false, targets: ['127.0.0.1'] } });
    expect((await createPingSource(context(sys, { config: off })).collect()).map((r) => r.target)).toEqual(['127.0.0.1']);
    expect(sys.calls.defaultGateway).toBeUndefined();

    sys.gateway = null;
    const on = testConfig({ ping: { targets: ['127.0.0.1'] } });
    expect((await createPingSource(context(sys, { config: on })).collect()).map((r) => r.role)).toEqual(['configured']);
  });

  it('looks the gateway up again only every 5 minutes', async () => {
    const sys = windowsFixtureSystem();
    const clock = new FakeClock();
    const source = createPingSource(context(sys, { clock }));
    await source.init!();
    clock.advance(STATIC_REFRESH_MS - 1);
    await source.collect();
    expect(sys.calls.defaultGateway).toBe(1);
    sys.gateway = '8.8.8.8'; // say the PC moved to another network
    clock.advance(1);
    const m = await source.collect();
    expect(sys.calls.defaultGateway).toBe(2);
    expect(m[0]).toMatchObject({ target: '8.8.8.8', role: 'gateway', lossPct: 50 });
  });

  it('a missing ping binary makes the source unavailable with an install hint', async () => {
    const sys = linuxFixtureSystem();
    sys.ping = async () => {
      throw Object.assign(new Error('ping binary not found'), { code: 'ENOENT' });
    };
    const err = await createPingSource(context(sys))
      .collect()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceUnavailableError);
    expect((err as SourceUnavailableError).reason).toBe(PING_MISSING_REASON);
    expect(PING_MISSING_REASON).toBe('ping binary not found (install iputils-ping)');
  });

  it('one target failing oddly does not hide the others', async () => {
    const config = testConfig({ ping: { targets: ['127.0.0.1', 'not-recorded.example'] } });
    const m = await createPingSource(context(linuxFixtureSystem(), { config })).collect();
    expect(m.map((r) => r.target)).toEqual(['192.0.2.1', '127.0.0.1']);
  });
});
