/**
 * `canh release keygen|sign|publish|target` (issue 16 item 2) as an admin runs them: real
 * CLI processes (dist/) against a collector data folder, no collector running.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { verifyManifest, type SignedManifest } from '../../contract/agent-update.js';
import { runCanhSync } from '../helpers/processes.js';

describe('canh release', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canh-release-cli-'));
  const dataDir = join(dir, 'data');
  const key = join(dir, 'k.key');
  const pkg = join(dir, 'canh-agent-1.2.3.tar.gz');
  writeFileSync(pkg, Buffer.from('not really a tarball, but bytes to sign'));

  it('keygen writes a private key only its owner reads and never overwrites one', () => {
    const r = runCanhSync(['release', 'keygen', '--out', key, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { publicKey: string; keyId: string };
    expect(out.publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(readFileSync(`${key}.pub`, 'utf8').trim()).toBe(out.publicKey);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(key, 'utf8')).toContain('BEGIN PRIVATE KEY');
    const again = runCanhSync(['release', 'keygen', '--out', key, '--lang', 'en']);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('a key is never overwritten');
  });

  it('sign writes a manifest and a signature that verifies with the public key only', () => {
    const r = runCanhSync(['release', 'sign', '--key', key, '--version', '1.2.3', pkg]);
    expect(r.status, r.stderr).toBe(0);
    const signed = JSON.parse(readFileSync(`${pkg}.sig.json`, 'utf8')) as SignedManifest;
    expect(signed.manifest).toMatchObject({ name: 'canh-agent', version: '1.2.3', platform: 'any', file: 'canh-agent-1.2.3.tar.gz', size: statSync(pkg).size });
    const pub = Buffer.from(readFileSync(`${key}.pub`, 'utf8').trim(), 'base64');
    expect(verifyManifest(signed.manifest, signed.signature, pub)).toBe(true);
    expect(runCanhSync(['release', 'sign', '--key', key, '--version', '1.2', pkg, '--lang', 'en']).stderr).toContain('--version like 1.2.3');
    expect(runCanhSync(['release', 'sign', '--key', key, '--version', '1.2.3', '--platform', 'mac', pkg, '--lang', 'en']).status).toBe(2);
  });

  it('publish checks the package against the signed manifest and the given key, then records it', () => {
    const otherKey = join(dir, 'other.key');
    expect(runCanhSync(['release', 'keygen', '--out', otherKey]).status).toBe(0);
    const otherPub = readFileSync(`${otherKey}.pub`, 'utf8').trim();
    const wrongKey = runCanhSync(['release', 'publish', pkg, '--data-dir', dataDir, '--public-key', otherPub, '--lang', 'en']);
    expect(wrongKey.status).toBe(2);
    expect(wrongKey.stderr).toContain('does not verify with the given public key');
    const ok = runCanhSync(['release', 'publish', pkg, '--data-dir', dataDir, '--public-key', readFileSync(`${key}.pub`, 'utf8').trim(), '--lang', 'en']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(readFileSync(join(dataDir, 'releases', '1.2.3', 'canh-agent-1.2.3.tar.gz'))).toEqual(readFileSync(pkg));
    // A changed package is not the one signed.
    writeFileSync(pkg, Buffer.from('not really a tarball, but bytes to sigN'));
    const changed = runCanhSync(['release', 'publish', pkg, '--data-dir', dataDir, '--lang', 'en']);
    expect(changed.status).toBe(2);
    expect(changed.stderr).toContain('the package is not the one signed');
    const db = new Database(join(dataDir, 'canh.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT version, platform FROM agent_update_releases').all()).toEqual([{ version: '1.2.3', platform: 'any' }]);
      expect(db.prepare(`SELECT version FROM schema_migrations WHERE module = 'agentupdate'`).get()).toEqual({ version: 1 });
      expect(db.prepare(`SELECT count(*) AS n FROM audit_log WHERE action = 'agent_release_publish'`).get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('target needs a published version; --stop ends it', () => {
    const none = runCanhSync(['release', 'target', '9.9.9', '--data-dir', dataDir, '--lang', 'en']);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no published release 9.9.9');
    expect(runCanhSync(['release', 'target', '1.2.3', '--share', '1.5', '--data-dir', dataDir, '--lang', 'en']).stderr).toContain('--share: 0 to 1');
    const ok = runCanhSync(['release', 'target', '1.2.3', '--share', '0.2', '--sites', 'xa-a', '--data-dir', dataDir, '--lang', 'en']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('rollout 1.2.3: 20% of the PCs and sites xa-a first, outside working hours');
    const status = JSON.parse(runCanhSync(['release', 'status', '--json', '--data-dir', dataDir]).stdout) as { rollout: unknown };
    expect(status.rollout).toMatchObject({ version: '1.2.3', share: 0.2, sites: ['xa-a'], force: false });
    expect(runCanhSync(['release', 'target', '--stop', '--data-dir', dataDir]).status).toBe(0);
    expect(runCanhSync(['release', 'target', '--stop', '--data-dir', dataDir]).status).toBe(1);
  });
});
