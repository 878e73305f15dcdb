import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../../../collector/broker/credentials.js';
import { EnrollmentService, MAX_QUEUED_ENROLMENTS, type EnrollOutcome } from '../../../../collector/enrollment/enrollment-service.js';
import { EnrollmentStore } from '../../../../collector/enrollment/enrollment-store.js';
import { compareMachines, usableMac, usableSerial } from '../../../../collector/enrollment/machine-match.js';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import type { EnrollRequest, MachineIdentity } from '../../../../contract/enrollment.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const PC1: MachineIdentity = {
  machineId: 'aaaa1111bbbb2222cccc3333dddd4444',
  source: 'linux-machine-id',
  biosSerial: 'PF0ABC12',
  diskSerials: ['ata-WDC_WD5000_WD-111'],
  macs: ['3c:52:82:00:00:01'],
};
/** Another PC made from PC1's disk image: same machine id, its own hardware. */
const CLONE: MachineIdentity = { ...PC1, biosSerial: 'PF0XYZ99', diskSerials: ['ata-WDC_WD5000_WD-222'], macs: ['3c:52:82:00:00:02'] };
const PC2: MachineIdentity = { machineId: 'eeee5555ffff6666aaaa7777bbbb8888', source: 'linux-machine-id', diskSerials: ['ata-ST500_Z3T1'], macs: ['3c:52:82:00:00:03'] };

function setup() {
  const db = new Database(':memory:');
  const credentials = new CredentialStore(db, { iterations: 100 });
  credentials.init();
  const store = new EnrollmentStore(db);
  const clock = new FakeClock();
  const known = new Set<string>();
  const service = new EnrollmentService({
    store,
    credentials,
    hostKnown: (s, h) => known.has(`${s}/${h}`),
    clock,
    log: silentLogger(),
    metrics: new MetricsRegistry(),
    pendingRetrySeconds: 30,
  });
  const token = (o: { site?: string; maxUses?: number | null; requireApproval?: boolean; expiresInMs?: number } = {}) =>
    store.createToken({
      site: o.site ?? 'xa-a',
      name: 'test',
      createdBy: 'test',
      expiresAt: clock.now() + (o.expiresInMs ?? 86_400_000),
      maxUses: o.maxUses ?? null,
      requireApproval: o.requireApproval ?? false,
      now: clock.now(),
    });
  const req = (tok: string, identity: MachineIdentity, hostname = 'PC-MotCua-01', site = 'xa-a'): EnrollRequest => ({ token: tok, site, hostname, identity });
  const enroll = (r: EnrollRequest) => service.enroll(r, '10.0.0.7', 'mqtt://10.0.0.5:1883');
  return { db, credentials, store, clock, service, token, req, enroll, known };
}

const granted = (o: EnrollOutcome) => {
  expect(o.http).toBe(200);
  if (o.http !== 200) throw new Error('not granted');
  return o.body;
};

describe('machine match', () => {
  it('ignores placeholder serials and random or multicast MACs', () => {
    expect(usableSerial('To Be Filled By O.E.M.')).toBeUndefined();
    expect(usableSerial('Default string')).toBeUndefined();
    expect(usableSerial('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(usableSerial(' PF0ABC12 ')).toBe('pf0abc12');
    expect(usableMac('02:42:ac:11:00:02')).toBeUndefined(); // locally administered (docker)
    expect(usableMac('01:00:5e:00:00:01')).toBeUndefined(); // multicast
    expect(usableMac('3C-52-82-00-00-01')).toBe('3c:52:82:00:00:01');
  });
  it('same when any hardware id is shared, different when none is, unknown without hardware ids', () => {
    expect(compareMachines(PC1, { ...PC1, macs: [] })).toBe('same');
    expect(compareMachines(PC1, CLONE)).toBe('different');
    expect(compareMachines(PC1, { ...PC1, biosSerial: 'To be filled by O.E.M.', diskSerials: [], macs: [] })).toBe('unknown');
    // Two clones of one KVM image: no DMI serial, locally administered MACs (52:54:00).
    const vm = { machineId: 'x'.repeat(32), source: 'linux-machine-id', diskSerials: [], macs: ['52:54:00:12:34:56'] };
    expect(compareMachines(vm, { ...vm, macs: ['52:54:00:65:43:21'] })).toBe('different');
    expect(compareMachines(vm, { ...vm })).toBe('same');
  });
});

describe('EnrollmentService', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  it('enrolls a new PC: host from the hostname, a working credential, one token use, logged', async () => {
    const tok = t.token({ maxUses: 5 });
    const g = granted(await t.enroll(t.req(tok.token, PC1)));
    expect(g).toMatchObject({ status: 'enrolled', site: 'xa-a', host: 'pc-motcua-01', username: 'xa-a.pc-motcua-01', mqttUrl: 'mqtt://10.0.0.5:1883' });
    expect(await t.credentials.verify(g.username, g.password)).toMatchObject({ site: 'xa-a', host: 'pc-motcua-01' });
    expect(t.store.token(tok.id)!.uses).toBe(1);
    expect(t.store.recentLog(10)[0]).toMatchObject({ outcome: 'enrolled', host: 'pc-motcua-01', address: '10.0.0.7', tokenId: tok.id });
  });

  it('a retry of the same PC gets the same host and a fresh password for the same credential, no second host or use', async () => {
    const tok = t.token({ maxUses: 1 });
    const first = granted(await t.enroll(t.req(tok.token, PC1)));
    // The answer was lost; the token is now used up, yet the same PC may retry.
    const again = granted(await t.enroll(t.req(tok.token, { ...PC1, macs: [] })));
    expect(again.host).toBe(first.host);
    expect(again.password).not.toBe(first.password);
    expect(await t.credentials.verify(first.username, first.password)).toBeUndefined();
    expect(await t.credentials.verify(again.username, again.password)).toBeDefined();
    expect(t.store.machines()).toHaveLength(1);
    expect(t.store.machines()[0]!.enrolments).toBe(2);
    expect(t.credentials.list().filter((c) => c.role === 'agent')).toHaveLength(1);
    expect(t.store.token(tok.id)!.uses).toBe(1);
  });

  it('two copies of one request at once make one host', async () => {
    const tok = t.token();
    const [a, b] = await Promise.all([t.enroll(t.req(tok.token, PC1)), t.enroll(t.req(tok.token, PC1))]);
    expect(granted(a).host).toBe(granted(b).host);
    expect(t.store.machines()).toHaveLength(1);
  });

  it('makes host ids unique within the site, against enrolments, credentials and known hosts', async () => {
    const tok = t.token();
    t.credentials.add({ site: 'xa-a', host: 'pc-motcua-01-2', now: t.clock.now() });
    t.known.add('xa-a/pc-motcua-01-3');
    expect(granted(await t.enroll(t.req(tok.token, PC1))).host).toBe('pc-motcua-01');
    expect(granted(await t.enroll(t.req(tok.token, PC2))).host).toBe('pc-motcua-01-4');
    // Another site may use the same name.
    const other = t.token({ site: 'xa-b' });
    expect(granted(await t.enroll(t.req(other.token, { ...PC2, machineId: 'ffff0000ffff0000ffff0000ffff0000' }, 'PC-MotCua-01', 'xa-b'))).host).toBe('pc-motcua-01');
  });

  it('flags a clone (same machine id, other hardware): nothing issued until an admin confirms, then its own host', async () => {
    const tok = t.token();
    const first = granted(await t.enroll(t.req(tok.token, PC1)));
    const c = await t.enroll(t.req(tok.token, CLONE));
    expect(c.http).toBe(202);
    expect(c.body).toMatchObject({ status: 'pending', reason: 'clone' });
    expect((c.body as { message: string }).message).toMatch(/cùng mã máy/);
    const row = t.store.machines().find((m) => m.status === 'clone')!;
    expect(row.cloneOf).toBe(t.store.machines()[0]!.id);
    expect(t.credentials.list()).toHaveLength(1);
    // Asking again changes nothing.
    expect((await t.enroll(t.req(tok.token, CLONE))).http).toBe(202);
    expect(t.service.decide(row.id, 'approved', 'admin')).toBe(true);
    const g = granted(await t.enroll(t.req(tok.token, CLONE)));
    expect(g.host).toBe('pc-motcua-01-2');
    expect(g.host).not.toBe(first.host);
    // Both keep their identity on later retries.
    expect(granted(await t.enroll(t.req(tok.token, PC1))).host).toBe(first.host);
    expect(granted(await t.enroll(t.req(tok.token, CLONE))).host).toBe('pc-motcua-01-2');
  });

  it('approval mode: pending until approved; a rejected PC is refused', async () => {
    const tok = t.token({ requireApproval: true });
    expect((await t.enroll(t.req(tok.token, PC1))).body).toMatchObject({ status: 'pending', reason: 'approval' });
    expect((await t.enroll(t.req(tok.token, PC2))).body).toMatchObject({ status: 'pending', reason: 'approval' });
    const [m1, m2] = t.store.machines();
    expect(t.credentials.list()).toHaveLength(0);
    t.service.decide(m1!.id, 'approved', 'admin');
    t.service.decide(m2!.id, 'rejected', 'admin');
    expect(granted(await t.enroll(t.req(tok.token, PC1))).host).toBe('pc-motcua-01');
    const r = await t.enroll(t.req(tok.token, PC2));
    expect(r.http).toBe(403);
    expect(r.body).toMatchObject({ error: 'rejected' });
    expect(t.store.recentLog(20).map((l) => l.outcome)).toEqual(expect.arrayContaining(['pending', 'approved', 'rejected', 'enrolled', 'refused:rejected']));
  });

  it('refuses expired, revoked, used-up, unknown and other-site tokens in Vietnamese, creating nothing', async () => {
    const expired = t.token({ expiresInMs: 60_000 });
    const revoked = t.token();
    const usedUp = t.token({ maxUses: 1 });
    granted(await t.enroll(t.req(usedUp.token, PC1)));
    t.store.revokeToken(revoked.id, 'admin', t.clock.now());
    t.clock.advance(61_000);
    const before = { machines: t.store.machines().length, creds: t.credentials.list().length };
    const cases: Array<[string, string, RegExp]> = [
      [expired.token, 'token_expired', /hết hạn/],
      [revoked.token, 'token_revoked', /thu hồi/],
      [usedUp.token, 'token_used_up', /dùng hết 1 lượt/],
      ['canh_enr_' + 'x'.repeat(32), 'token_invalid', /không đúng/],
    ];
    for (const [tok, code, vi] of cases) {
      const o = await t.enroll(t.req(tok, PC2));
      expect(o.http === 401 || o.http === 403).toBe(true);
      expect(o.body).toMatchObject({ error: code });
      expect((o.body as { message: string }).message).toMatch(vi);
    }
    const wrong = t.token({ site: 'xa-b' });
    expect((await t.enroll(t.req(wrong.token, PC2))).body).toMatchObject({ error: 'wrong_site' });
    expect({ machines: t.store.machines().length, creds: t.credentials.list().length }).toEqual(before);
    // A revoked token no longer re-enrolls an enrolled PC either.
    t.store.revokeToken(usedUp.id, 'admin', t.clock.now());
    expect((await t.enroll(t.req(usedUp.token, PC1))).body).toMatchObject({ error: 'token_revoked' });
  });

  it('bounds the queue of enrolments', async () => {
    const tok = t.token();
    const all = Array.from({ length: MAX_QUEUED_ENROLMENTS + 5 }, (_, i) =>
      t.enroll(t.req(tok.token, { ...PC2, machineId: `m${String(i).padStart(10, '0')}`, macs: [], diskSerials: [] }, `pc-${i}`)),
    );
    const outcomes = await Promise.all(all);
    expect(outcomes.filter((o) => o.http === 503)).toHaveLength(5);
    expect(outcomes.filter((o) => o.http === 200)).toHaveLength(MAX_QUEUED_ENROLMENTS);
  });
});
