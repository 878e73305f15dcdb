import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CONTRACT_VERSION } from '../../../contract/limits.js';
import {
  compareVersions,
  decodePublicKey,
  decodeUpdateOffer,
  keyIdOf,
  manifestBytes,
  manifestProblem,
  verifyManifest,
  type ReleaseManifest,
} from '../../../contract/agent-update.js';

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { raw: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32), privateKey };
}

const manifest: ReleaseManifest = { name: 'canh-agent', version: '1.2.3', platform: 'any', file: 'canh-agent-1.2.3.tar.gz', size: 1234, sha256: 'a'.repeat(64) };

describe('release manifest signature', () => {
  const k = keyPair();
  const signature = sign(null, manifestBytes(manifest), k.privateKey).toString('base64');

  it('verifies with the signing key', () => {
    expect(verifyManifest(manifest, signature, k.raw)).toBe(true);
  });

  it('does not verify with another key', () => {
    expect(verifyManifest(manifest, signature, keyPair().raw)).toBe(false);
  });

  it.each([
    ['version', { version: '1.2.4' }],
    ['platform', { platform: 'linux' as const }],
    ['sha256', { sha256: 'b'.repeat(64) }],
    ['size', { size: 1235 }],
    ['file', { file: 'other.tar.gz' }],
  ])('does not verify when the %s changed', (_what, change) => {
    expect(verifyManifest({ ...manifest, ...change }, signature, k.raw)).toBe(false);
  });

  it('signs the canonical form: key order does not matter, extra fields are not signed', () => {
    const shuffled = { sha256: manifest.sha256, size: manifest.size, file: manifest.file, platform: manifest.platform, version: manifest.version, name: manifest.name };
    expect(manifestBytes(shuffled).equals(manifestBytes(manifest))).toBe(true);
    expect(manifestBytes({ ...manifest, extra: 1 } as ReleaseManifest).equals(manifestBytes(manifest))).toBe(true);
    expect(manifestBytes(manifest).toString('utf8').startsWith('canh-release-v1\n')).toBe(true);
  });

  it('refuses malformed signatures without throwing', () => {
    expect(verifyManifest(manifest, 'not base64!', k.raw)).toBe(false);
    expect(verifyManifest(manifest, Buffer.alloc(64).toString('base64'), k.raw)).toBe(false);
  });

  it('decodes the pinned public key form and names the key', () => {
    const b64 = k.raw.toString('base64');
    expect(decodePublicKey(b64)).toEqual(k.raw);
    expect(decodePublicKey('abc')).toMatch(/32 bytes/);
    expect(keyIdOf(k.raw)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('manifest and offer validation', () => {
  it('names what is wrong in a manifest', () => {
    expect(manifestProblem(manifest)).toBeUndefined();
    expect(manifestProblem({ ...manifest, version: '1.2' })).toMatch(/semver/);
    expect(manifestProblem({ ...manifest, platform: 'mac' })).toMatch(/platform/);
    expect(manifestProblem({ ...manifest, file: '../x' })).toMatch(/file/);
    expect(manifestProblem({ ...manifest, sha256: 'x' })).toMatch(/sha256/);
    expect(manifestProblem({ ...manifest, name: 'other' })).toMatch(/name/);
  });

  const offer = { v: CONTRACT_VERSION, seq: 3, manifest, signature: 'A'.repeat(86) + '==', keyId: 'ab', path: '/install/releases/1.2.3/canh-agent-1.2.3.tar.gz', until: null };

  it('decodes an offer and refuses a bad one with the reason', () => {
    expect(decodeUpdateOffer(JSON.stringify(offer))).toEqual(offer);
    expect(decodeUpdateOffer('{')).toBe('not JSON');
    expect(decodeUpdateOffer(JSON.stringify({ ...offer, path: '/../etc/passwd' }))).toMatch(/path/);
    expect(decodeUpdateOffer(JSON.stringify({ ...offer, path: 'http://elsewhere/x' }))).toMatch(/path/);
    expect(decodeUpdateOffer(JSON.stringify({ ...offer, path: '//elsewhere/x.tar.gz' }))).toMatch(/path/);
    expect(decodeUpdateOffer(JSON.stringify({ ...offer, path: '/install//x' }))).toMatch(/path/);
    expect(decodeUpdateOffer(JSON.stringify({ ...offer, seq: -1 }))).toMatch(/seq/);
    expect(decodeUpdateOffer(JSON.stringify({ ...offer, v: 99 }))).toMatch(/contract version/);
    expect(decodeUpdateOffer('x'.repeat(20_000))).toBe('message too large');
  });

  it('orders versions by semver precedence', () => {
    expect(compareVersions('1.2.3', '1.2.3')).toBe(0);
    expect(compareVersions('1.10.0', '1.9.9')).toBeGreaterThan(0);
    expect(compareVersions('1.2.3-rc.1', '1.2.3')).toBeLessThan(0);
    expect(compareVersions('2.0.0', '10.0.0')).toBeLessThan(0);
  });
});
