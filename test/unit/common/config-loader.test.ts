import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentConfigSchema, DEFAULT_OUTBOX_BYTES } from '../../../agent/config.js';
import { CollectorConfigSchema } from '../../../collector/config.js';
import { ConfigError, loadConfig } from '../../../common/config-loader.js';

const dir = mkdtempSync(join(tmpdir(), 'canh-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('agent config', () => {
  it('applies defaults: 15 s interval, outbox bound for 7 days, fsync always', () => {
    const c = loadConfig(AgentConfigSchema, { file: file('ok.json', '{"site":"xa-an-binh","mqtt":{"password":"s3cret"}}'), envPrefix: 'CANH_AGENT', env: {} });
    expect(c.intervalSeconds).toBe(15);
    expect(c.outbox.maxBytes).toBe(DEFAULT_OUTBOX_BYTES);
    // 7 days at 15 s of ~1.5 KB samples must fit.
    expect(c.outbox.maxBytes).toBeGreaterThan(((7 * 86400) / 15) * 1500);
    expect(c.outbox.fsync).toBe('always');
    expect(c.mqtt.protocolVersion).toBe(5);
    expect(c.ping.gateway).toBe(true);
    expect(c.host).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
  });

  it('reports every problem at once as path: message lines', () => {
    const p = problems(() =>
      loadConfig(AgentConfigSchema, {
        file: file('bad.json', JSON.stringify({ site: 'Xã An Bình', intervalSeconds: 0, mqtt: { url: 'http://x', password: '' }, ping: { targets: ['bad host!'] } })),
        envPrefix: 'CANH_AGENT',
        env: {},
      }),
    );
    expect(p.some((l) => l.startsWith('site: '))).toBe(true);
    expect(p.some((l) => l.startsWith('intervalSeconds: '))).toBe(true);
    expect(p.some((l) => l.startsWith('mqtt.url: '))).toBe(true);
    expect(p.some((l) => l.startsWith('mqtt.password: '))).toBe(true);
    expect(p.some((l) => l.startsWith('ping.targets.0: '))).toBe(true);
    expect(p.length).toBeGreaterThanOrEqual(5);
  });

  it('reports malformed JSON and a missing file clearly', () => {
    expect(problems(() => loadConfig(AgentConfigSchema, { file: file('broken.json', '{"site": '), envPrefix: 'CANH_AGENT', env: {} }))[0]).toMatch(/not valid JSON/);
    expect(problems(() => loadConfig(AgentConfigSchema, { file: join(dir, 'nope.json'), envPrefix: 'CANH_AGENT', env: {} }))[0]).toMatch(/not found/);
  });

  it('env overrides the file under one prefix, with nesting and camelCase', () => {
    const c = loadConfig(AgentConfigSchema, {
      file: file('ok2.json', '{"site":"a","mqtt":{"password":"p","url":"mqtt://file:1883"}}'),
      envPrefix: 'CANH_AGENT',
      env: { CANH_AGENT__MQTT__URL: 'mqtt://env:1883', CANH_AGENT__INTERVAL_SECONDS: '5', CANH_AGENT__PING__TARGETS: '["1.1.1.1"]', OTHER__X: '1' },
    });
    expect(c.mqtt.url).toBe('mqtt://env:1883');
    expect(c.intervalSeconds).toBe(5);
    expect(c.ping.targets).toEqual(['1.1.1.1']);
  });

  it('keeps number-like env values as strings where the schema wants a string', () => {
    const c = loadConfig(AgentConfigSchema, {
      envPrefix: 'CANH_AGENT',
      env: { CANH_AGENT__SITE: '2024', CANH_AGENT__MQTT__PASSWORD: '123456789012', CANH_AGENT__INTERVAL_SECONDS: '30' },
    });
    expect(c.site).toBe('2024');
    expect(c.mqtt.password).toBe('123456789012');
    expect(c.intervalSeconds).toBe(30);
  });

  it('ignores prototype-pollution keys from the environment', () => {
    // Not a key of the agent's config: refused as unknown (and nothing polluted).
    const p = problems(() =>
      loadConfig(AgentConfigSchema, { envPrefix: 'CANH_AGENT', env: { CANH_AGENT__SITE: 'a', CANH_AGENT__MQTT__PASSWORD: 'p', CANH_AGENT____PROTO____POLLUTED: '1' } }),
    );
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^CANH_AGENT____PROTO____POLLUTED \(proto\): unknown key/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('checks cross-field rules (segment at most half the outbox)', () => {
    const p = problems(() =>
      loadConfig(AgentConfigSchema, { envPrefix: 'CANH_AGENT', env: {}, overrides: { site: 'a', mqtt: { password: 'p' }, outbox: { maxBytes: 1048576, segmentBytes: 1048576 } } }),
    );
    expect(p).toEqual(['outbox.segmentBytes: must be at most half of outbox.maxBytes']);
  });
});

describe('collector config', () => {
  it('defaults to the embedded broker on 1883 and HTTP on 8080, store in ./data', () => {
    const c = loadConfig(CollectorConfigSchema, { envPrefix: 'CANH_COLLECTOR', env: {} });
    expect(c.broker.mode).toBe('embedded');
    expect(c.broker.embedded.port).toBe(1883);
    expect(c.http.port).toBe(8080);
    expect(c.dataDir).toBe('./data');
  });
  it('requires external settings when the broker is external', () => {
    const p = problems(() => loadConfig(CollectorConfigSchema, { envPrefix: 'CANH_COLLECTOR', env: { CANH_COLLECTOR__BROKER__MODE: 'external' } }));
    expect(p).toEqual(['broker.external: required when broker.mode is "external"']);
  });
});
