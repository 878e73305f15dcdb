import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Identity } from '../../../../collector/broker/acl.js';
import { CredentialExistsError, CredentialStore } from '../../../../collector/broker/credentials.js';
import { DEFAULT_ITERATIONS, GENERATED_PASSWORD_ITERATIONS, generatePassword, hashPassword, parseHash, verifyHash } from '../../../../collector/broker/password-hash.js';
import { renderAclFile, renderPasswordFile, mosquittoConf } from '../../../../collector/broker/mosquitto-config.js';
import { MAX_PACKET_BYTES } from '../../../../contract/limits.js';

const NOW = Date.UTC(2025, 0, 1);

function makeStore(opts: ConstructorParameters<typeof CredentialStore>[1] = {}) {
  const db = new Database(':memory:');
  const store = new CredentialStore(db, { iterations: 1000, ...opts });
  store.init();
  return { db, store };
}

const hostId: Identity = { username: 's1.a1', site: 's1', host: 'a1', role: 'agent' };
const siteId: Identity = { username: 's1', site: 's1', host: null, role: 'agent' };
const collectorId: Identity = { username: 'canh-collector', site: '*', host: null, role: 'collector' };

describe('password hashes', () => {
  it('writes Mosquitto $7$ format: iterations, 12-byte salt, 64-byte hash, padded base64', () => {
    const h = hashPassword('pw');
    expect(h).toMatch(/^\$7\$20000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    const parsed = parseHash(h);
    expect(parsed?.iterations).toBe(DEFAULT_ITERATIONS);
    expect(parsed?.salt.length).toBe(12);
    expect(parsed?.hash.length).toBe(64);
    expect(hashPassword('pw', 101)).toMatch(/^\$7\$101\$/);
  });

  it('stretches a given password (20000 iterations), not a generated 144-bit one (101, what Mosquitto hashes at every CONNECT)', async () => {
    const db = new Database(':memory:');
    const store = new CredentialStore(db);
    store.init();
    const iterationsOf = (username: string) => parseHash(store.activeCredentials().find((c) => c.username === username)!.hash)!.iterations;
    const gen = store.add({ site: 's1', host: 'a1', now: NOW });
    const given = store.add({ site: 's1', host: 'a2', now: NOW, password: 'given-by-deployment-tooling-42' });
    const genAsync = await store.addAsync({ site: 's1', host: 'a3', now: NOW });
    expect(GENERATED_PASSWORD_ITERATIONS).toBe(101);
    expect(iterationsOf(gen.username)).toBe(101);
    expect(iterationsOf(genAsync.username)).toBe(101);
    expect(iterationsOf(given.username)).toBe(DEFAULT_ITERATIONS);
    expect(await store.verify(gen.username, gen.password)).toMatchObject({ username: 's1.a1' });
    expect(await store.verify(given.username, given.password)).toMatchObject({ username: 's1.a2' });
  });

  it('verifies the right password only; rejects malformed hashes', async () => {
    const h = hashPassword('correct horse', 500);
    expect(await verifyHash('correct horse', h)).toBe(true);
    expect(await verifyHash('correct hors', h)).toBe(false);
    expect(await verifyHash('correct horse', '')).toBe(false);
    expect(await verifyHash('correct horse', '$7$abc$x$y')).toBe(false);
    expect(await verifyHash('correct horse', h.replace('$500$', '$501$'))).toBe(false);
    expect(await verifyHash('x', '$7$999999999$AAAAAAAAAAAAAAAA$' + 'A'.repeat(86) + '==')).toBe(false);
  });

  it('verifies a known mosquitto_passwd output (101 iterations)', async () => {
    // Produced by `mosquitto_passwd -b file alice secret` (mosquitto 2.0.11).
    const h = '$7$101$qVM/RwltbQAUEryL$xiDM8oRBlcM1YkJa8fY2LoONvZ2ixBarEn0XKfrcyRKJ6kwC8nTRSwFof1AiejzwQ3nKYvB713RFpNJ6cYvjvw==';
    expect(await verifyHash('secret', h)).toBe(true);
    expect(await verifyHash('Secret', h)).toBe(false);
  });

  it('generates 24-character base64url passwords that differ', () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generatePassword()).not.toBe(a);
  });
});

describe('CredentialStore', () => {
  let store: CredentialStore;
  let db: Database.Database;
  beforeEach(() => {
    ({ store, db } = makeStore());
  });

  it('adds per-host, per-site and collector credentials and stores only the hash', async () => {
    const a = store.add({ site: 's1', host: 'a1', now: NOW });
    const s = store.add({ site: 's2', now: NOW });
    const c = store.add({ role: 'collector', now: NOW });
    expect(a.username).toBe('s1.a1');
    expect(s.username).toBe('s2');
    expect(c.username).toBe('canh-collector');
    const rows = db.prepare('SELECT * FROM credentials').all() as Array<{ hash: string }>;
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r.hash).toMatch(/^\$7\$101\$/); // generated passwords: 101 iterations
      expect(r.hash).not.toContain(a.password);
    }
    expect(JSON.stringify(store.list())).not.toContain('$7$');
    expect(store.list()).toEqual([
      { username: 'canh-collector', site: '*', host: null, role: 'collector', createdAt: NOW, revokedAt: null },
      { username: 's1.a1', site: 's1', host: 'a1', role: 'agent', createdAt: NOW, revokedAt: null },
      { username: 's2', site: 's2', host: null, role: 'agent', createdAt: NOW, revokedAt: null },
    ]);
  });

  it('verify: good password → identity, bad password / unknown user → undefined', async () => {
    const a = store.add({ site: 's1', host: 'a1', now: NOW });
    expect(await store.verify('s1.a1', a.password)).toEqual(hostId);
    expect(await store.verify('s1.a1', a.password + 'x')).toBeUndefined();
    expect(await store.verify('s1.a2', a.password)).toBeUndefined();
    expect(await store.verify('s1', a.password)).toBeUndefined();
    const c = store.add({ role: 'collector', now: NOW });
    expect(await store.verify('canh-collector', c.password)).toEqual(collectorId);
  });

  it('revoked credentials fail verification and are listed with revokedAt', async () => {
    const a = store.add({ site: 's1', host: 'a1', now: NOW });
    expect(store.revoke('s1.a1', NOW + 1)).toBe(true);
    expect(store.revoke('s1.a1', NOW + 2)).toBe(false);
    expect(await store.verify('s1.a1', a.password)).toBeUndefined();
    expect(store.list()[0]?.revokedAt).toBe(NOW + 1);
    expect(store.activeCredentials()).toEqual([]);
  });

  it('add twice errors clearly; rotate replaces the password; a revoked name can be re-added', async () => {
    const first = store.add({ site: 's1', host: 'a1', now: NOW });
    expect(() => store.add({ site: 's1', host: 'a1', now: NOW })).toThrow(CredentialExistsError);
    expect(() => store.add({ site: 's1', host: 'a1', now: NOW })).toThrow(/already exists/);
    expect(await store.verify('s1.a1', first.password)).toEqual(hostId);

    const rotated = store.add({ site: 's1', host: 'a1', now: NOW + 5, rotate: true });
    expect(rotated.password).not.toBe(first.password);
    expect(await store.verify('s1.a1', first.password)).toBeUndefined(); // cache did not keep it
    expect(await store.verify('s1.a1', rotated.password)).toEqual(hostId);

    store.revoke('s1.a1', NOW + 6);
    const again = store.add({ site: 's1', host: 'a1', now: NOW + 7 });
    expect(await store.verify('s1.a1', again.password)).toEqual(hostId);
    expect(store.list()[0]).toMatchObject({ createdAt: NOW + 7, revokedAt: null });
  });

  it('rejects invalid ids and usernames', () => {
    expect(() => store.add({ site: 'S1', host: 'a1', now: NOW })).toThrow(/invalid site/);
    expect(() => store.add({ site: 's1', host: 'a.1', now: NOW })).toThrow(/invalid host/);
    expect(() => store.add({ site: 's1', host: '+', now: NOW })).toThrow(/invalid host/);
    expect(() => store.add({ site: 's1', host: 'a1', username: 'x', now: NOW })).toThrow(/derived/);
    expect(() => store.add({ role: 'collector', username: 'evil:name', now: NOW })).toThrow(/invalid collector/);
    expect(() => store.add({ role: 'collector', username: 'a b', now: NOW })).toThrow(/invalid collector/);
    // An agent site named like the collector cannot hijack or be hijacked by rotation.
    store.add({ role: 'collector', now: NOW });
    expect(() => store.add({ site: 'canh-collector', now: NOW, rotate: true })).toThrow(/different collector/);
    expect(store.list()).toHaveLength(1);
  });

  it('caches successful verifications and clears the cache on revoke', async () => {
    const a = store.add({ site: 's1', host: 'a1', now: NOW });
    const b = store.add({ site: 's1', host: 'a2', now: NOW });
    expect(await store.verify('s1.a1', a.password)).toBeDefined();
    expect(await store.verify('s1.a2', b.password)).toBeDefined();
    expect(store.cachedVerifications).toBe(2);
    // Corrupt the stored hash behind the store's back: only the cache can still answer.
    db.prepare("UPDATE credentials SET hash = 'garbage' WHERE username = 's1.a1'").run();
    expect(await store.verify('s1.a1', a.password)).toEqual(hostId);
    // Failed verifications are not cached.
    expect(await store.verify('s1.a1', 'wrong')).toBeUndefined();
    expect(store.cachedVerifications).toBe(2);

    store.revoke('s1.a2', NOW);
    expect(store.cachedVerifications).toBe(0);
    expect(await store.verify('s1.a1', a.password)).toBeUndefined(); // garbage hash now consulted
    expect(await store.verify('s1.a2', b.password)).toBeUndefined();
  });

  it('a revoke during an in-flight verification wins', async () => {
    const a = store.add({ site: 's1', host: 'a1', now: NOW });
    const pending = store.verify('s1.a1', a.password);
    store.revoke('s1.a1', NOW);
    expect(await pending).toBeUndefined();
    expect(store.cachedVerifications).toBe(0);
  });

  it('bounds the cache (LRU) and expires entries after the TTL', async () => {
    let t = 0;
    ({ store } = makeStore({ cacheSize: 2, cacheTtlMs: 1000, clock: { monotonic: () => t } }));
    const p = ['h1', 'h2', 'h3'].map((h) => store.add({ site: 's1', host: h, now: NOW }).password);
    await store.verify('s1.h1', p[0]!);
    await store.verify('s1.h2', p[1]!);
    await store.verify('s1.h1', p[0]!); // h1 most recent
    await store.verify('s1.h3', p[2]!); // evicts h2
    expect(store.cachedVerifications).toBe(2);
    const db2 = (store as unknown as { db: Database.Database }).db;
    db2.prepare("UPDATE credentials SET hash = 'garbage'").run();
    expect(await store.verify('s1.h1', p[0]!)).toBeDefined(); // cached
    expect(await store.verify('s1.h2', p[1]!)).toBeUndefined(); // evicted → hash consulted
    t = 1001;
    expect(await store.verify('s1.h1', p[0]!)).toBeUndefined(); // expired → hash consulted
  });

  it('mayPublish matrix', () => {
    const ok = (id: Identity, topic: string) => store.mayPublish(id, topic);
    for (const kind of ['samples', 'events', 'inventory', 'status']) {
      expect(ok(hostId, `canh/v1/s1/a1/${kind}`)).toBe(true);
    }
    expect(ok(hostId, 'canh/v1/s1/a1/other')).toBe(false); // unknown kind
    expect(ok(hostId, 'canh/v1/s1/a2/samples')).toBe(false); // other host
    expect(ok(hostId, 'canh/v1/s2/a1/samples')).toBe(false); // other site
    expect(ok(hostId, 'canh/v1/s1/+/samples')).toBe(false); // wildcard
    expect(ok(hostId, 'canh/v1/s1/a1/#')).toBe(false);
    expect(ok(hostId, 'canh/v1/#')).toBe(false);
    expect(ok(hostId, 'canh/v1/s1/a1/samples/x')).toBe(false);
    expect(ok(hostId, '/canh/v1/s1/a1/samples')).toBe(false);
    expect(ok(hostId, 'canh/v2/s1/a1/samples')).toBe(false);
    // Site credential: any valid host of its site, nothing else.
    expect(ok(siteId, 'canh/v1/s1/a1/samples')).toBe(true);
    expect(ok(siteId, 'canh/v1/s1/zz-9/status')).toBe(true);
    expect(ok(siteId, 'canh/v1/s2/a1/samples')).toBe(false);
    expect(ok(siteId, 'canh/v1/s1/+/samples')).toBe(false);
    expect(ok(siteId, 'canh/v1/s1/A1/samples')).toBe(false); // invalid host id
    // Collector publishes nothing.
    expect(ok(collectorId, 'canh/v1/s1/a1/samples')).toBe(false);
    // A forged collector identity with a site still cannot publish.
    expect(ok({ ...collectorId, site: 's1' }, 'canh/v1/s1/a1/samples')).toBe(false);
  });

  it('maySubscribe: collector within canh/v1 (incl. $share), agents only their own ack topic', () => {
    const sub = (id: Identity, f: string) => store.maySubscribe(id, f);
    expect(sub(collectorId, 'canh/v1/#')).toBe(true);
    expect(sub(collectorId, 'canh/v1/+/+/+')).toBe(true);
    expect(sub(collectorId, 'canh/v1/+/+/samples')).toBe(true);
    expect(sub(collectorId, '$share/collectors/canh/v1/#')).toBe(true);
    expect(sub(collectorId, '$share/g/canh/v1/+/+/+')).toBe(true);
    expect(sub(collectorId, '#')).toBe(false);
    expect(sub(collectorId, '+/v1/#')).toBe(false);
    expect(sub(collectorId, '$SYS/#')).toBe(false);
    expect(sub(collectorId, 'canh/v2/#')).toBe(false);
    expect(sub(collectorId, 'canh/v1/#/x')).toBe(false);
    expect(sub(collectorId, 'canh/v1/s1+/#')).toBe(false);
    expect(sub(collectorId, '$share//canh/v1/#')).toBe(false);
    expect(sub(collectorId, '$share/+/canh/v1/#')).toBe(false);
    expect(sub(collectorId, '$share/g/#')).toBe(false);
    expect(sub(hostId, 'canh/v1/s1/a1/samples')).toBe(false);
    expect(sub(siteId, 'canh/v1/#')).toBe(false);
    // End-to-end acks (contract/ack.ts): exact topic, own identity only.
    expect(sub(hostId, 'canh/v1/s1/a1/ack')).toBe(true);
    expect(sub(hostId, 'canh/v1/s1/a2/ack')).toBe(false);
    expect(sub(hostId, 'canh/v1/s2/a1/ack')).toBe(false);
    expect(sub(hostId, 'canh/v1/s1/+/ack')).toBe(false);
    expect(sub(hostId, 'canh/v1/s1/a1/#')).toBe(false);
    expect(sub(siteId, 'canh/v1/s1/zz-9/ack')).toBe(true);
    expect(sub(siteId, 'canh/v1/s1/+/ack')).toBe(false);
    expect(sub(siteId, 'canh/v1/s2/a1/ack')).toBe(false);
    // Remote configuration (contract/agent-config.ts): own config topic only, exact.
    expect(sub(hostId, 'canh/v1/s1/a1/config')).toBe(true);
    expect(sub(hostId, 'canh/v1/s1/a2/config')).toBe(false);
    expect(sub(hostId, 'canh/v1/s2/a1/config')).toBe(false);
    expect(sub(hostId, 'canh/v1/s1/+/config')).toBe(false);
    expect(sub(hostId, 'canh/v1/+/+/config')).toBe(false);
    expect(sub(siteId, 'canh/v1/s1/zz-9/config')).toBe(true);
    expect(sub(siteId, 'canh/v1/s2/a1/config')).toBe(false);
    // Update offers (contract/agent-update.ts): the same rule.
    expect(sub(hostId, 'canh/v1/s1/a1/update')).toBe(true);
    expect(sub(hostId, 'canh/v1/s1/a2/update')).toBe(false);
    expect(sub(hostId, 'canh/v1/+/+/update')).toBe(false);
    expect(sub(siteId, 'canh/v1/s1/zz-9/update')).toBe(true);
    expect(sub(siteId, 'canh/v1/s2/a1/update')).toBe(false);
  });

  it('no client publishes on a config topic: not an agent (own or other), not the collector', () => {
    for (const id of [hostId, siteId, collectorId]) {
      for (const topic of ['canh/v1/s1/a1/config', 'canh/v1/s1/a2/config', 'canh/v1/s2/a1/config', 'canh/v1/s1/+/config', 'canh/v1/s1/a1/update', 'canh/v1/s1/a2/update']) {
        expect(store.mayPublish(id, topic)).toBe(false);
      }
    }
  });
});

describe('Mosquitto file rendering', () => {
  it('renders passwd lines and explicit ACL user blocks', () => {
    const { store } = makeStore();
    store.add({ site: 's1', host: 'a1', now: NOW });
    store.add({ site: 's2', now: NOW });
    store.add({ role: 'collector', now: NOW });
    store.add({ site: 's1', host: 'gone', now: NOW });
    store.revoke('s1.gone', NOW);
    const creds = store.activeCredentials();
    const passwd = renderPasswordFile(creds);
    expect(
      passwd
        .trimEnd()
        .split('\n')
        .map((l) => l.split(':')[0]),
    ).toEqual(['canh-collector', 's1.a1', 's2']);
    expect(passwd).toMatch(/^s1\.a1:\$7\$101\$/m);
    const acl = renderAclFile(creds);
    expect(acl).toMatch(/^# Generated by Canh/);
    expect(acl).toContain(
      'user s1.a1\ntopic write canh/v1/s1/a1/samples\ntopic write canh/v1/s1/a1/events\ntopic write canh/v1/s1/a1/inventory\ntopic write canh/v1/s1/a1/status\ntopic read canh/v1/s1/a1/ack\ntopic read canh/v1/s1/a1/config\n',
    );
    expect(acl).toContain('user s2\ntopic write canh/v1/s2/+/samples\n');
    expect(acl).toContain('topic read canh/v1/s2/+/ack\n');
    expect(acl).toContain('topic read canh/v1/s2/+/config\n');
    expect(acl).toContain('user canh-collector\ntopic read canh/v1/#\ntopic write canh/v1/+/+/ack\ntopic write canh/v1/+/+/config\n');
    // Only the collector writes configuration.
    expect(acl.match(/^topic write .*\/config$/gm)).toEqual(['topic write canh/v1/+/+/config']);
    expect(acl).not.toMatch(/topic write canh\/v1\/s1\/a1\/\+/); // an agent cannot write acks
    expect(acl).not.toContain('gone');
    expect(acl).not.toMatch(/^pattern/m);
  });

  it('renders mosquitto.conf with the contract limits', () => {
    const conf = mosquittoConf({
      port: 1883,
      passwordFile: '/p',
      aclFile: '/a',
      persistenceDir: '/var/lib/m',
      tls: { port: 8883, address: '0.0.0.0', cafile: '/ca', certfile: '/c', keyfile: '/k' },
    });
    const lines = conf.split('\n');
    expect(lines.indexOf('per_listener_settings false')).toBeLessThan(lines.indexOf('listener 1883 127.0.0.1'));
    for (const l of [
      'allow_anonymous false',
      'password_file /p',
      'acl_file /a',
      `max_packet_size ${MAX_PACKET_BYTES}`,
      'max_queued_messages 100000',
      'persistence true',
      'persistence_location /var/lib/m/',
      'listener 8883 0.0.0.0',
      'cafile /ca',
      'certfile /c',
      'keyfile /k',
    ]) {
      expect(lines).toContain(l);
    }
    expect(mosquittoConf({ port: 1, passwordFile: '/p', aclFile: '/a' })).toContain('persistence false');
  });
});

describe('a password given by deployment tooling', () => {
  it('is stored hashed and verifies; a short or multi-line one is refused', async () => {
    const { store } = makeStore();
    const res = store.add({ role: 'collector', now: 1, password: 'from-the-env-file-0123' });
    expect(res.password).toBe('from-the-env-file-0123');
    expect(await store.verify('canh-collector', 'from-the-env-file-0123')).toMatchObject({ role: 'collector' });
    expect(() => store.add({ site: 's1', host: 'h1', now: 1, password: 'short' })).toThrow(/16 to 256/);
    expect(() => store.add({ site: 's1', host: 'h1', now: 1, password: 'line-one-long-enough\nline-two' })).toThrow(/one line/);
  });
});
