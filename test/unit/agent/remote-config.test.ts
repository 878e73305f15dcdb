import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentConfigSchema, changedKeys, mergeRemoteConfig } from '../../../agent/config.js';
import { REMOTE_CONFIG_FILE, RemoteConfigState } from '../../../agent/remote-config.js';
import { silentLogger } from '../../../common/log.js';
import { decodeConfigMessage } from '../../../contract/agent-config.js';
import { remoteConfigProblem } from '../../../contract/remote-config.js';

const local = AgentConfigSchema.parse({
  site: 'xa-a',
  host: 'pc-1',
  hostname: 'PC-1',
  stateDir: '/var/lib/canh-agent',
  intervalSeconds: 15,
  mqtt: { url: 'mqtt://10.0.0.5:1883', password: 'secret-password' },
  ping: { targets: ['8.8.8.8'], count: 4 },
});

describe('remote configuration over the local file (agent/config.ts)', () => {
  it('lays the remote part over the local configuration and validates with the file schema', () => {
    const r = mergeRemoteConfig(local, { intervalSeconds: 30, ping: { targets: ['1.1.1.1', 'dns.vnpt.vn'] } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.intervalSeconds).toBe(30);
    expect(r.config.ping.targets).toEqual(['1.1.1.1', 'dns.vnpt.vn']);
    // What the remote part does not name stays the local file's.
    expect(r.config.ping.count).toBe(4);
    expect(r.config.mqtt.password).toBe('secret-password');
    expect(r.config.stateDir).toBe('/var/lib/canh-agent');
    expect(changedKeys(local, r.config)).toEqual(['intervalSeconds', 'ping']);
  });

  it('refuses keys that may not be set remotely: MQTT credentials and address, stateDir, site, host', () => {
    for (const part of [{ mqtt: { password: 'x' } }, { mqtt: { url: 'mqtt://evil:1883' } }, { stateDir: '/tmp' }, { site: 'xa-b' }, { host: 'pc-9' }, { collector: 'http://x' }]) {
      const r = mergeRemoteConfig(local, part);
      expect(r.ok, JSON.stringify(part)).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/nrecognized key/);
    }
  });

  it('never accepts the self-update settings remotely: the key the agent checks releases against stays local', () => {
    expect(remoteConfigProblem({ update: { publicKey: 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=' } })).toMatch(/update/);
    expect(remoteConfigProblem({ update: { enabled: false } })).toMatch(/update/);
  });

  it('refuses values the file schema refuses, with the path in the reason', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ intervalSeconds: 0 }, /^intervalSeconds: /],
      [{ ping: { targets: ['bad host!'] } }, /^ping\.targets\.0: must be a hostname or IP/],
      [
        {
          http: {
            probes: [
              { name: 'a', url: 'https://a.vn/' },
              { name: 'a', url: 'https://b.vn/' },
            ],
          },
        },
        /http\.probes\.1\.name: duplicate probe name "a"/,
      ],
      [{ log: { level: 'loud' } }, /^log\.level: /],
      [[1, 2], /config|expected object/i],
      ['text', /config|expected object/i],
    ];
    for (const [part, reason] of cases) {
      const r = mergeRemoteConfig(local, part);
      expect(r.ok, JSON.stringify(part)).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
      expect(remoteConfigProblem(part)).toMatch(reason);
    }
    expect(
      remoteConfigProblem({ intervalSeconds: 60, freeze: { thresholdSeconds: 20 }, http: { enabled: true, probes: [{ name: 'tthc', url: 'https://dichvucong.gov.vn/' }] } }),
    ).toBeUndefined();
  });

  it('an empty part gives back the local configuration', () => {
    const r = mergeRemoteConfig(local, {});
    expect(r.ok && changedKeys(local, r.config)).toEqual([]);
  });
});

describe('config message (contract/agent-config.ts)', () => {
  it('decodes a message and says why a bad one is not', () => {
    expect(decodeConfigMessage(JSON.stringify({ v: 1, version: 3, hash: 'ab12', config: { intervalSeconds: 5 } }))).toEqual({
      v: 1,
      version: 3,
      hash: 'ab12',
      config: { intervalSeconds: 5 },
    });
    expect(decodeConfigMessage('{')).toBe('not JSON');
    expect(decodeConfigMessage('[]')).toBe('not a JSON object');
    expect(decodeConfigMessage(JSON.stringify({ v: 2, version: 1, hash: 'a', config: {} }))).toMatch(/contract version/);
    expect(decodeConfigMessage(JSON.stringify({ v: 1, version: -1, hash: 'a', config: {} }))).toMatch(/version/);
    expect(decodeConfigMessage(JSON.stringify({ v: 1, version: 1, hash: 'XYZ', config: {} }))).toMatch(/hash/);
    expect(decodeConfigMessage(JSON.stringify({ v: 1, version: 1, hash: 'a', config: [] }))).toMatch(/config/);
  });
});

describe('RemoteConfigState (agent/remote-config.ts)', () => {
  it('remembers the applied and the refused version across restarts; a remembered part that no longer fits falls back to the local file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-remote-'));
    const log = silentLogger();
    const s = await RemoteConfigState.load(dir, log);
    expect(s.seen({ version: 1, hash: 'a' })).toBe(false);
    await s.setApplied({ version: 1, hash: 'a', config: { intervalSeconds: 30 }, at: 1 });
    await s.setRefused({ version: 2, hash: 'b', reason: 'intervalSeconds: too big', at: 2 });
    const again = await RemoteConfigState.load(dir, log);
    expect(again.seen({ version: 1, hash: 'a' })).toBe(true);
    expect(again.seen({ version: 2, hash: 'b' })).toBe(true);
    expect(again.seen({ version: 1, hash: 'c' })).toBe(false);
    expect(again.seen({ version: 3, hash: 'a' })).toBe(false);
    expect(again.effective(local, log).intervalSeconds).toBe(30);
    expect(JSON.parse(readFileSync(join(dir, REMOTE_CONFIG_FILE), 'utf8')).applied.version).toBe(1);
    // Remembered from an older agent: a key this one refuses. The local file is the floor.
    await again.setApplied({ version: 3, hash: 'c', config: { someNewKey: 1 }, at: 3 });
    expect((await RemoteConfigState.load(dir, log)).effective(local, log)).toBe(local);
  });
});
