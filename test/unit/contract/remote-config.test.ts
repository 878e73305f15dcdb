import { describe, expect, it } from 'vitest';
import { AgentConfigSchema, mergeRemoteConfig } from '../../../agent/config.js';
import { remoteConfigProblem } from '../../../contract/remote-config.js';

// The collector checks a part with contract/remote-config.ts alone (it may not import agent/);
// the agent merges it over its file and validates the result with its whole schema. Both must
// give the same verdict and the same reason, or the collector would store parts agents refuse.
const floor = AgentConfigSchema.parse({ site: 'xa-a', host: 'pc-1', hostname: 'PC-1', mqtt: { password: 'secret-password' } });

const parts: unknown[] = [
  {},
  { intervalSeconds: 30 },
  { intervalSeconds: 0 },
  { intervalSeconds: 'x' },
  { ping: { targets: ['1.1.1.1', 'dns.vnpt.vn'], count: 3 } },
  { ping: { targets: ['bad host!'] } },
  { ping: { targets: Array.from({ length: 31 }, (_, i) => `10.0.0.${i}`) } },
  { http: { probes: [{ name: 'tthc', url: 'https://dichvucong.gov.vn/' }] } },
  {
    http: {
      probes: [
        { name: 'a', url: 'https://a.vn/' },
        { name: 'a', url: 'https://b.vn/' },
      ],
    },
  },
  { http: { probes: [{ name: 'a', url: 'https://[bad/' }] } },
  { http: { probes: [{ name: 'A', url: 'ftp://a' }], intervalSeconds: 0 } },
  { freeze: { thresholdSeconds: 20, topProcesses: 11 } },
  { inventory: { intervalHours: 24 * 31 } },
  { log: { level: 'loud' } },
  { mqtt: { password: 'x' } },
  { update: { enabled: false } },
  { stateDir: '/tmp', site: 'xa-b' },
  [1, 2],
  'text',
  null,
];

describe('remote part check (contract/remote-config.ts) agrees with the agent merge (agent/config.ts)', () => {
  it.each(parts.map((p) => [JSON.stringify(p), p]))('%s', (_name, part) => {
    const merged = mergeRemoteConfig(floor, part);
    expect(remoteConfigProblem(part)).toBe(merged.ok ? undefined : merged.reason);
  });

  it('refuses what the agent refuses, with the path', () => {
    expect(
      remoteConfigProblem({
        http: {
          probes: [
            { name: 'a', url: 'https://a.vn/' },
            { name: 'a', url: 'https://b.vn/' },
          ],
        },
      }),
    ).toMatch(/^http\.probes\.1\.name: duplicate probe name "a"/);
    expect(remoteConfigProblem({ mqtt: { url: 'mqtt://evil:1883' } })).toMatch(/nrecognized key.*mqtt/);
  });
});
