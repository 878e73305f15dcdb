import { describe, expect, it } from 'vitest';
import { planRollout, type RolloutHost } from '../../../../collector/agentupdate/rollout-plan.js';

const fleet = (n: number, sites = ['xa-a', 'xa-b']): RolloutHost[] =>
  Array.from({ length: n }, (_, i) => ({ site: sites[i % sites.length]!, host: `pc-${i}`, online: true, agentVersion: '1.0.0' }));
const k = (h: { site: string; host: string }) => `${h.site}/${h.host}`;

describe('staged rollout plan', () => {
  it('offers only the first stage (a share plus the chosen sites) until it is healthy', () => {
    const hosts = fleet(20);
    const p = planRollout({ version: '1.1.0', share: 0.1, sites: [] }, hosts);
    expect(p.stage).toBe(1);
    expect(p.first.total).toBe(2);
    expect(p.eligible.map(k).sort()).toEqual([...p.firstStage].sort());
    const withSite = planRollout({ version: '1.1.0', share: 0.1, sites: ['xa-b'] }, hosts);
    expect(withSite.first.total).toBeGreaterThanOrEqual(10);
    expect(hosts.filter((h) => h.site === 'xa-b').every((h) => withSite.firstStage.has(k(h)))).toBe(true);
  });

  it('picks the same first stage at every evaluation, another for another version', () => {
    const hosts = fleet(50);
    const a = planRollout({ version: '1.1.0', share: 0.2, sites: [] }, hosts);
    const b = planRollout({ version: '1.1.0', share: 0.2, sites: [] }, [...hosts].reverse());
    expect([...a.firstStage].sort()).toEqual([...b.firstStage].sort());
    const c = planRollout({ version: '1.2.0', share: 0.2, sites: [] }, hosts);
    expect([...c.firstStage].sort()).not.toEqual([...a.firstStage].sort());
  });

  it('offers the rest once every first-stage PC runs the version (offline ones do not block)', () => {
    const hosts = fleet(10);
    const r = { version: '1.1.0', share: 0.3, sites: [] };
    const first = planRollout(r, hosts).firstStage;
    const firstHosts = hosts.filter((h) => first.has(k(h)));
    firstHosts[0]!.agentVersion = '1.1.0';
    firstHosts[1]!.agentVersion = '1.1.0';
    expect(planRollout(r, hosts).stage).toBe(1);
    firstHosts[2]!.online = false;
    const p = planRollout(r, hosts);
    expect(p.stage).toBe(2);
    expect(p.first).toEqual({ total: 3, updated: 2, failed: 0 });
    // The offline first-stage PC comes first, then the 7 others.
    expect(p.eligible.map(k)).toEqual([k(firstHosts[2]!), ...hosts.filter((h) => !first.has(k(h))).map(k)]);
  });

  it('halts on a refusal or a rollback of this version, not of an older one', () => {
    const hosts = fleet(10);
    const r = { version: '1.1.0', share: 0.3, sites: [] };
    const firstHost = hosts.find((h) => planRollout(r, hosts).firstStage.has(k(h)))!;
    firstHost.report = { state: 'rolled_back', version: '1.0.0', from: '1.0.5' };
    expect(planRollout(r, hosts).halted).toBeNull();
    firstHost.report = { state: 'refused', version: '1.0.5', from: '1.0.0' };
    expect(planRollout(r, hosts).halted).toBeNull();
    // A rollback names the version gone back to; `from` is the one that failed.
    firstHost.report = { state: 'rolled_back', version: '1.0.0', from: '1.1.0' };
    expect(planRollout(r, hosts).halted).toMatch(/1 PC/);
    firstHost.report = { state: 'refused', version: '1.1.0', from: '1.0.0' };
    const p = planRollout(r, hosts);
    expect(p.halted).toMatch(/1 PC\(s\) refused or rolled back version 1.1.0/);
    expect(p.eligible).toEqual([]);
    expect(p.first.failed).toBe(1);
  });

  it('share 1 offers everyone at once; an empty fleet is fine', () => {
    const p = planRollout({ version: '1.1.0', share: 1, sites: [] }, fleet(7));
    expect(p.eligible).toHaveLength(7);
    expect(planRollout({ version: '1.1.0', share: 0.5, sites: [] }, []).eligible).toEqual([]);
  });
});
