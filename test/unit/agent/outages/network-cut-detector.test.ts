import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../../../agent/agent-event.js';
import { AgentConfigSchema } from '../../../../agent/config.js';
import { brokerEndpoint, cutScope, NetworkCutDetector, overallScope } from '../../../../agent/outages/network-cut-detector.js';
import { parseHostPort, type ReachabilityProbe } from '../../../../agent/outages/reachability.js';
import type { GatewayLookup } from '../../../../agent/platform/system-info.js';
import { silentLogger } from '../../../../common/log.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

describe('scope of a cut (pure)', () => {
  it('gateway down or absent → lan; gateway up, internet down → wan; both up → broker', () => {
    expect(cutScope(false, false)).toBe('lan');
    expect(cutScope(null, true)).toBe('lan');
    expect(cutScope(true, false)).toBe('wan');
    expect(cutScope(true, true)).toBe('broker');
  });
  it('the most seen scope wins, ties go to the deeper one, none is unknown', () => {
    expect(overallScope({ lan: 1, wan: 3, broker: 0 })).toBe('wan');
    expect(overallScope({ lan: 2, wan: 2, broker: 2 })).toBe('lan');
    expect(overallScope({ lan: 0, wan: 0, broker: 0 })).toBe('unknown');
  });
  it('broker endpoint from the MQTT URL, with scheme default ports; host:port targets', () => {
    expect(brokerEndpoint('mqtt://collector.xa-an-binh.local')).toEqual({ host: 'collector.xa-an-binh.local', port: 1883 });
    expect(brokerEndpoint('mqtts://10.0.0.5:9883')).toEqual({ host: '10.0.0.5', port: 9883 });
    expect(brokerEndpoint('wss://[fd00::5]/mqtt')).toEqual({ host: 'fd00::5', port: 443 });
    expect(parseHostPort('8.8.8.8:53')).toEqual({ host: '8.8.8.8', port: 53 });
    expect(parseHostPort('[2001:4860:4860::8888]:53')).toEqual({ host: '2001:4860:4860::8888', port: 53 });
    expect(parseHostPort('8.8.8.8')).toBeNull();
  });
});

/** Reachability decided by the test: a set of `host` strings that answer. */
class FakeProbe implements ReachabilityProbe {
  up = new Set<string>();
  calls = 0;
  async reachable(host: string) {
    this.calls++;
    return this.up.has(host);
  }
}

function setup() {
  const config = AgentConfigSchema.parse({
    site: 'xa-an-binh',
    host: 'pc-01',
    intervalSeconds: 15,
    mqtt: { url: 'mqtt://10.9.9.9:1883', password: 'secret-secret' },
    network: { internetTargets: ['8.8.8.8:53', '1.1.1.1:443'], probeSeconds: 5, minCutSeconds: 5 },
  });
  const clock = new FakeClock();
  const probe = new FakeProbe();
  probe.up = new Set(['192.168.1.1', '8.8.8.8', '1.1.1.1', '10.9.9.9']);
  const events: AgentEvent[] = [];
  let lastContact: number | undefined;
  const sys: GatewayLookup = { defaultGateway: async () => '192.168.1.1' };
  const det = new NetworkCutDetector({ config, clock, log: silentLogger(), sys, probe, emit: (e) => events.push(e), lastContactAt: () => lastContact });
  const settle = () => new Promise((r) => setTimeout(r, 2));
  const run = async (ms: number) => {
    for (let left = ms; left > 0; left -= 1000) {
      clock.advance(Math.min(1000, left));
      await settle();
    }
  };
  return { clock, probe, events, det, settle, run, contact: (t: number) => (lastContact = t) };
}

describe('NetworkCutDetector (fake clock, fake probe)', () => {
  it('WAN cut: gateway answers, internet and broker do not; reported when the link returns, start = last broker packet', async () => {
    const s = setup();
    s.det.start();
    s.det.onLink(true); // first connection, at once: nothing to report
    await s.settle();
    s.contact(s.clock.now() - 400);
    const lastContact = s.clock.now() - 400;
    s.probe.up = new Set(['192.168.1.1']);
    s.det.onLink(false);
    await s.run(30_000);
    expect(s.events).toEqual([]);
    // The link heals: the broker port answers at the next round, MQTT reconnects later.
    s.probe.up = new Set(['192.168.1.1', '8.8.8.8', '1.1.1.1', '10.9.9.9']);
    await s.run(5000);
    const backAt = s.clock.now();
    await s.run(8000);
    s.det.onLink(true);
    await s.settle();
    expect(s.events).toHaveLength(1);
    const ev = s.events[0]!;
    expect(ev).toMatchObject({ type: 'network_cut', start: lastContact });
    expect(ev.details).toMatchObject({ scope: 'wan', gateway: '192.168.1.1', probesLan: 0, probesBroker: 0, sinceAgentStart: false });
    expect(ev.details!.probesWan as number).toBeGreaterThanOrEqual(6);
    // End: when the probes first reached the broker again (within one probe period).
    expect(ev.end!).toBeGreaterThan(backAt - 5000);
    expect(ev.end!).toBeLessThanOrEqual(backAt);
    await s.det.stop();
  });

  it('LAN cut: the gateway does not answer', async () => {
    const s = setup();
    s.det.start();
    s.det.onLink(true);
    s.contact(s.clock.now());
    s.probe.up = new Set();
    s.det.onLink(false);
    s.det.onLink(false); // every failed reconnect says so again: still one cut
    await s.run(20_000);
    s.det.onLink(true);
    await s.settle();
    expect(s.events.map((e) => e.details?.scope)).toEqual(['lan']);
  });

  it('a broker restart of 2 s is under minCutSeconds: not reported', async () => {
    const s = setup();
    s.det.start();
    s.det.onLink(true);
    s.contact(s.clock.now());
    s.probe.up.delete('10.9.9.9');
    s.det.onLink(false);
    await s.run(2000);
    s.det.onLink(true);
    await s.settle();
    expect(s.events).toEqual([]);
  });

  it('the collector unreachable since the agent started: reported from the start, scope broker', async () => {
    const s = setup();
    const startedAt = s.clock.now();
    s.probe.up.delete('10.9.9.9');
    s.det.start();
    await s.run(40_000);
    s.det.onLink(true);
    await s.settle();
    expect(s.events).toHaveLength(1);
    expect(s.events[0]).toMatchObject({ start: startedAt, details: { scope: 'broker', sinceAgentStart: true } });
  });

  it('no probing while connected, none after stop', async () => {
    const s = setup();
    s.det.start();
    s.det.onLink(true);
    await s.run(60_000);
    expect(s.probe.calls).toBe(0);
    s.det.onLink(false);
    await s.det.stop();
    await s.run(60_000);
    expect(s.probe.calls).toBeLessThanOrEqual(4); // at most the one round started before stop
    expect(s.clock.pending).toBe(0);
  });
});

describe('a link lost while the PC was frozen', () => {
  it('is not reported as a network cut when the probes found the network whole', async () => {
    const s = setup();
    s.det.start();
    s.det.onLink(true);
    const frozenAt = s.clock.now();
    s.contact(frozenAt - 500);
    // Frozen 20 s: the broker dropped the session; after the freeze the client sees the close.
    s.clock.advance(20_000);
    s.det.noteFreeze(frozenAt, s.clock.now());
    s.probe.up.delete('10.9.9.9');
    s.det.onLink(false);
    await s.run(10_000);
    s.det.onLink(true);
    await s.settle();
    expect(s.events).toEqual([]);
  });
});
