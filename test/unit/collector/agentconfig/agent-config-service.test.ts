import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AgentConfigService } from '../../../../collector/agentconfig/agent-config-service.js';
import { AgentConfigStore, canonicalJson, partHash, partProblem } from '../../../../collector/agentconfig/agent-config-store.js';
import type { StoredMessage } from '../../../../collector/ingest/ingest.js';
import { systemClock } from '../../../../common/clock.js';
import { silentLogger } from '../../../../common/log.js';
import { decodeConfigMessage, type AgentConfigMessage } from '../../../../contract/agent-config.js';

function setup(hostsBySite: Record<string, string[]> = { 'xa-a': ['pc-1', 'pc-2'], 'xa-b': ['pc-9'] }) {
  const db = new Database(':memory:');
  const store = new AgentConfigStore(db);
  const sent: Array<{ topic: string; msg: AgentConfigMessage }> = [];
  let up = true;
  const service = new AgentConfigService({
    store,
    hosts: { listHosts: (site?: string) => (hostsBySite[site ?? ''] ?? []).map((host) => ({ site: site!, host })) as never },
    publisher: {
      publishConfig: (topic, payload) => {
        if (!up) return false;
        sent.push({ topic, msg: decodeConfigMessage(payload) as AgentConfigMessage });
        return true;
      },
    },
    clock: systemClock,
    log: silentLogger(),
    pollMs: 3_600_000,
  });
  return { db, store, service, sent, setUp: (v: boolean) => (up = v) };
}

describe('AgentConfigService', () => {
  it('a site setting goes to every known PC of the site, a host setting lies on top, versions grow per PC only on change', async () => {
    const { store, service, sent } = setup();
    await service.start();
    expect(sent).toEqual([]); // nothing set: nothing published
    store.set('xa-a', null, { intervalSeconds: 30 }, 'test', 1);
    await service.syncIfChanged();
    expect(sent.map((s) => [s.topic, s.msg.version, s.msg.config])).toEqual([
      ['canh/v1/xa-a/pc-1/config', 1, { intervalSeconds: 30 }],
      ['canh/v1/xa-a/pc-2/config', 1, { intervalSeconds: 30 }],
    ]);
    sent.length = 0;
    store.set('xa-a', 'pc-2', { ping: { targets: ['1.1.1.1'] } }, 'test', 2);
    await service.syncIfChanged();
    expect(sent.map((s) => [s.topic, s.msg.version, s.msg.config])).toEqual([['canh/v1/xa-a/pc-2/config', 2, { intervalSeconds: 30, ping: { targets: ['1.1.1.1'] } }]]);
    expect(sent[0]!.msg.hash).toBe(partHash({ intervalSeconds: 30, ping: { targets: ['1.1.1.1'] } }));
    // The same settings again: a new revision, but no PC's part changed.
    sent.length = 0;
    store.set('xa-a', 'pc-2', { ping: { targets: ['1.1.1.1'] } }, 'test', 3);
    await service.syncIfChanged();
    expect(sent).toEqual([]);
    // Clearing the site: pc-1 gets an empty part (back to its file), pc-2 keeps its own.
    expect(store.clear('xa-a', null)).toBe(true);
    await service.syncIfChanged();
    expect(sent.map((s) => [s.topic, s.msg.version, s.msg.config])).toEqual([
      ['canh/v1/xa-a/pc-1/config', 2, {}],
      ['canh/v1/xa-a/pc-2/config', 3, { ping: { targets: ['1.1.1.1'] } }],
    ]);
    expect(store.clear('xa-a', null)).toBe(false);
  });

  it('a restart publishes the last message of every PC again, unchanged (same version and hash)', async () => {
    const { db, store, service, sent } = setup();
    await service.start();
    store.set('xa-b', 'pc-9', { intervalSeconds: 60 }, 'test', 1);
    await service.syncIfChanged();
    const first = sent.splice(0);
    expect(first).toHaveLength(1);
    service.stop();
    // A new collector process over the same database.
    const again = new AgentConfigService({
      store: new AgentConfigStore(db),
      hosts: { listHosts: () => [] },
      publisher: { publishConfig: (topic, payload) => sent.push({ topic, msg: decodeConfigMessage(payload) as AgentConfigMessage }) > 0 },
      clock: systemClock,
      log: silentLogger(),
      pollMs: 3_600_000,
    });
    await again.start();
    again.stop();
    expect(sent).toEqual(first);
    expect(store.published('xa-b', 'pc-9')?.version).toBe(1);
  });

  it('a PC seen for the first time after a site setting gets it when it comes online; reports keep the latest per PC', async () => {
    const { store, service, sent } = setup({ 'xa-a': [] });
    await service.start();
    store.set('xa-a', null, { intervalSeconds: 20 }, 'test', 1);
    await service.syncIfChanged();
    expect(sent).toEqual([]);
    const status = { kind: 'status', row: { site: 'xa-a', host: 'pc-new', state: 'online' } } as unknown as StoredMessage;
    service.onStored(status);
    expect(sent.map((s) => [s.topic, s.msg.version])).toEqual([['canh/v1/xa-a/pc-new/config', 1]]);
    service.onStored(status);
    expect(sent).toHaveLength(1);
    const event = (t: number, details: Record<string, unknown>) =>
      ({ kind: 'events', row: { site: 'xa-a', host: 'pc-new', type: 'config', t, details } }) as unknown as StoredMessage;
    service.onStored(event(200, { state: 'refused', version: 2, hash: 'bb', reason: 'intervalSeconds: too big' }));
    service.onStored(event(100, { state: 'applied', version: 1, hash: 'aa' })); // older, replayed from a backlog
    service.onStored(event(300, { state: 'bogus', version: 3 })); // not a report
    expect(store.report('xa-a', 'pc-new')).toEqual({ version: 2, hash: 'bb', state: 'refused', reason: 'intervalSeconds: too big', at: 200 });
  });

  it('a province-wide pass goes in chunks: the event loop turns between them, every PC gets its part once', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => `pc-${i}`);
    const { store, service, sent } = setup({ 'xa-a': many });
    await service.start();
    store.set('xa-a', null, { intervalSeconds: 30 }, 'test', 1);
    let sentWhenLoopTurned = -1;
    setImmediate(() => (sentWhenLoopTurned = sent.length));
    const pass = service.syncIfChanged();
    // A second change during the pass: handled by the same promise, in another pass.
    store.set('xa-a', 'pc-0', { intervalSeconds: 40 }, 'test', 2);
    void service.syncIfChanged();
    await pass;
    expect(sentWhenLoopTurned).toBeGreaterThan(0);
    expect(sentWhenLoopTurned).toBeLessThan(1000);
    expect(new Set(sent.map((m) => m.topic)).size).toBe(1000);
    expect(sent.filter((m) => m.topic === 'canh/v1/xa-a/pc-0/config').map((m) => [m.msg.version, m.msg.config])).toEqual([
      [1, { intervalSeconds: 30 }],
      [2, { intervalSeconds: 40 }],
    ]);
    service.stop();
  });

  it('validates parts with the agent schema, bounds their size, hashes them canonically', () => {
    expect(partProblem({ intervalSeconds: 30 })).toBeUndefined();
    expect(partProblem({ mqtt: { password: 'x' } })).toMatch(/mqtt/);
    expect(partProblem([])).toMatch(/JSON object/);
    expect(partProblem({ ping: { targets: Array.from({ length: 20 }, () => 'x'.repeat(4000)) } })).toMatch(/larger than/);
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(partHash({ a: 1, b: 2 })).toBe(partHash({ b: 2, a: 1 }));
    expect(partHash({ a: 1 })).not.toBe(partHash({ a: 2 }));
  });
});
