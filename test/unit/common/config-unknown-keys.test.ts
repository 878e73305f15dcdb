import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../../../agent/config.js';
import { resolveRulesFile } from '../../../collector/alerting/alerting-config.js';
import { CollectorConfigSchema } from '../../../collector/config.js';
import { closestKey, ConfigError, editDistance, envName, loadConfig } from '../../../common/config-loader.js';

const dir = mkdtempSync(join(tmpdir(), 'canh-unknown-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, value: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(value));
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

const AGENT_OK = { site: 'xa-an-binh', mqtt: { password: 's3cret' } };

describe('unknown configuration keys', () => {
  it('edit distance counts a transposition as one edit; typos get a suggestion, unrelated words none', () => {
    expect(editDistance('prot', 'port')).toBe(1);
    expect(editDistance('alertng', 'alerting')).toBe(1);
    expect(editDistance('Port', 'port')).toBe(0);
    expect(closestKey('intervalSecond', ['site', 'intervalSeconds', 'host'])).toBe('intervalSeconds');
    expect(closestKey('prot', ['host', 'port'])).toBe('port');
    expect(closestKey('banana', ['host', 'port'])).toBeUndefined();
    expect(envName('CANH_COLLECTOR', ['http', 'port'])).toBe('CANH_COLLECTOR__HTTP__PORT');
    expect(envName('CANH_AGENT', ['mqtt', 'ackTimeoutSeconds'])).toBe('CANH_AGENT__MQTT__ACK_TIMEOUT_SECONDS');
  });

  it('agent file: a top-level typo is an error naming the closest key (it used to run at the default 15 s)', () => {
    const p = problems(() => loadConfig(AgentConfigSchema, { file: file('agent-typo.json', { ...AGENT_OK, intervalSecond: 60 }), envPrefix: 'CANH_AGENT', env: {} }));
    expect(p).toEqual(['intervalSecond: unknown key — did you mean intervalSeconds?']);
  });

  it('agent file: nested keys, keys inside arrays of objects, and a key with no near match lists the known ones', () => {
    const p = problems(() =>
      loadConfig(AgentConfigSchema, {
        file: file('agent-nested.json', {
          ...AGENT_OK,
          mqtt: { password: 's3cret', keepalive: 10 },
          http: { probes: [{ name: 'portal', url: 'https://example.org/', timeoutSecond: 5 }] },
          ping: { zzzzzz: true },
        }),
        envPrefix: 'CANH_AGENT',
        env: {},
      }),
    );
    expect(p).toContain('http.probes.0.timeoutSecond: unknown key — did you mean http.probes.0.timeoutSeconds?');
    expect(p).toContain('ping.zzzzzz: unknown key (known keys: enabled, gateway, targets, count, timeoutSeconds)');
    expect(p.some((l) => l.startsWith('mqtt.keepalive: unknown key'))).toBe(true);
    expect(p).toHaveLength(3);
  });

  it('collector file: http.prot and alertng, with the problems zod finds in the same file', () => {
    const p = problems(() =>
      loadConfig(CollectorConfigSchema, {
        file: file('collector-typo.json', { http: { prot: 8081 }, alertng: { enabled: false }, ingest: { batchMessages: 0 } }),
        envPrefix: 'CANH_COLLECTOR',
        env: {},
      }),
    );
    expect(p).toContain('http.prot: unknown key — did you mean http.port?');
    expect(p).toContain('alertng: unknown key — did you mean alerting?');
    expect(p.some((l) => l.startsWith('ingest.batchMessages: '))).toBe(true);
    expect(p).toHaveLength(3);
  });

  it('collector file: inside records (sites.<id>), discriminated unions (notify channels) and strict sections (alerting), each reported once', () => {
    const p = problems(() =>
      loadConfig(CollectorConfigSchema, {
        file: file('collector-deep.json', {
          sites: { 'xa-an-binh': { lineMbp: 100 } },
          notify: { channels: [{ name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/x', timeoutMsx: 1000 }] },
          alerting: { enabeld: true },
        }),
        envPrefix: 'CANH_COLLECTOR',
        env: {},
      }),
    );
    expect(p).toContain('sites.xa-an-binh.lineMbp: unknown key — did you mean sites.xa-an-binh.lineMbps?');
    expect(p.some((l) => l.startsWith('notify.channels.0.timeoutMsx: unknown key'))).toBe(true);
    expect(p).toContain('alerting.enabeld: unknown key — did you mean alerting.enabled?');
    expect(p).toHaveLength(3);
  });

  it('environment: the variable is named, with the one to use instead', () => {
    const p = problems(() => loadConfig(CollectorConfigSchema, { envPrefix: 'CANH_COLLECTOR', env: { CANH_COLLECTOR__HTTP__PROT: '8081' } }));
    expect(p).toEqual(['CANH_COLLECTOR__HTTP__PROT (http.prot): unknown key — did you mean CANH_COLLECTOR__HTTP__PORT (http.port)?']);
    const q = problems(() =>
      loadConfig(AgentConfigSchema, { envPrefix: 'CANH_AGENT', env: { CANH_AGENT__SITE: 'x', CANH_AGENT__MQTT__PASSWORD: 'p', CANH_AGENT__INTERVAL_SECOND: '30' } }),
    );
    expect(q).toEqual(['CANH_AGENT__INTERVAL_SECOND (intervalSecond): unknown key — did you mean CANH_AGENT__INTERVAL_SECONDS (intervalSeconds)?']);
    // A whole unknown section from the environment names the variable that made it.
    const r = problems(() => loadConfig(CollectorConfigSchema, { envPrefix: 'CANH_COLLECTOR', env: { CANH_COLLECTOR__ALERTNG__ENABLED: 'false' } }));
    expect(r).toEqual(['CANH_COLLECTOR__ALERTNG__ENABLED (alertng): unknown key — did you mean CANH_COLLECTOR__ALERTING (alerting)?']);
  });

  it('known keys everywhere still load (the documented examples)', () => {
    const c = loadConfig(CollectorConfigSchema, {
      file: file('collector-ok.json', { http: { port: 8081 }, history: { retentionDays: { '1m': 40 } }, sites: { 'xa-an-binh': { lineMbps: 100 } } }),
      envPrefix: 'CANH_COLLECTOR',
      env: { CANH_COLLECTOR__INGEST__BATCH_DELAY_MS: '10' },
    });
    expect(c.http.port).toBe(8081);
    expect(c.ingest.batchDelayMs).toBe(10);
    const a = loadConfig(AgentConfigSchema, {
      file: file('agent-ok.json', { ...AGENT_OK, intervalSeconds: 30, mqtt: { password: 'p', tls: { rejectUnauthorized: false } } }),
      envPrefix: 'CANH_AGENT',
      env: {},
    });
    expect(a.intervalSeconds).toBe(30);
  });

  it('the alert rules file: an unknown rule parameter names the closest one', () => {
    const base = loadConfig(CollectorConfigSchema, { envPrefix: 'CANH_COLLECTOR', env: {} }).alerting;
    const f = file('rules.json', { diskNearlyFull: { usedPtc: 80 } });
    const p = problems(() => resolveRulesFile({ ...base, rulesFile: f }));
    expect(p).toEqual([`${f}: diskNearlyFull.usedPtc: unknown key — did you mean diskNearlyFull.usedPct?`]);
  });

  it('every CANH_COLLECTOR__/CANH_AGENT__ variable the deployment files set is a known key', () => {
    const files = ['deploy/docker-compose.yml', 'Dockerfile', 'deploy/systemd/canh-collector.service', 'deploy/systemd/canh-agent.service'];
    let seen = 0;
    for (const f of files) {
      const text = readFileSync(fileURLToPath(new URL(`../../../${f}`, import.meta.url)), 'utf8');
      for (const m of text.matchAll(/\b(CANH_AGENT|CANH_COLLECTOR)(__[A-Z0-9_]+)/g)) {
        const prefix = m[1]!;
        const env = { [`${prefix}${m[2]}`]: '1' };
        const schema = prefix === 'CANH_AGENT' ? AgentConfigSchema : CollectorConfigSchema;
        let stray: string[] = [];
        try {
          loadConfig(schema, { envPrefix: prefix, env });
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          stray = err.problems.filter((p) => p.includes('unknown key'));
        }
        expect(stray, `${f}: ${m[0]}`).toEqual([]);
        seen++;
      }
    }
    expect(seen).toBeGreaterThan(5);
  });
});
