import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { CONTRACT_VERSION, decodeControlObject } from './limits.js';
import { TOPIC_PREFIX } from './topics.js';

/**
 * Signed agent self-update (issue 16 item 2).
 *
 *   canh/v1/<site>/<host>/update      collector → agent, QoS 1, retained
 *
 * Only the collector may publish there (like `…/config`, contract/agent-config.ts). The
 * offer names one release: its signed manifest (name, version, platform, file, size and
 * SHA-256 of the package) and the detached ed25519 signature over it, made offline by
 * `canh release sign` with the release key. The agent verifies the signature against the
 * public key pinned at install time (`update.publicKey`), never against anything the
 * collector sends, so a compromised collector or broker can at worst offer a genuine
 * older or newer release, never code of its own (The Update Framework's core idea, in
 * small: the signing key is not on the server).
 *
 * The agent reports its progress as `update` events (details `state` one of
 * {@link UPDATE_STATES}, `version`, `from`, `seq`, `reason`).
 */
export const UPDATE_KIND = 'update' as const;

export function updateTopic(site: string, host: string): string {
  return `${TOPIC_PREFIX}/${site}/${host}/${UPDATE_KIND}`;
}

/** A release version: semver, used as a folder name on the PCs (`versions/<v>/`). */
export const RELEASE_VERSION = /^\d{1,6}\.\d{1,6}\.\d{1,6}(?:-[0-9A-Za-z.]{1,40})?$/;
/** `any`: the JavaScript bundle, which runs wherever the installed Node.js does. */
export const RELEASE_PLATFORMS = ['any', 'linux', 'windows'] as const;
export type ReleasePlatform = (typeof RELEASE_PLATFORMS)[number];

/** What the signature covers: the package's identity and content. */
export interface ReleaseManifest {
  name: 'canh-agent';
  version: string;
  platform: ReleasePlatform;
  /** The package's file name (a tar.gz holding the agent bundle). */
  file: string;
  size: number;
  sha256: string;
}

/** `<package>.sig.json`, written by `canh release sign`. */
export interface SignedManifest {
  manifest: ReleaseManifest;
  /** ed25519 over {@link manifestBytes}, base64. */
  signature: string;
  /** sha256 of the raw public key, 16 hex: which key signed (for people; never trusted). */
  keyId: string;
}

export interface UpdateOffer {
  v: typeof CONTRACT_VERSION;
  /** Grows with every offer to this PC (1, 2, …): an agent acts on a seq once. */
  seq: number;
  manifest: ReleaseManifest;
  signature: string;
  keyId: string;
  /** Path of the package on the collector, e.g. `/install/releases/0.2.0/canh-agent-0.2.0.tar.gz`. */
  path: string;
  /** Do not start after this time (epoch ms; the working hours begin); null: any time (forced). */
  until: number | null;
}

/** States an agent reports (event `update`, details.state). */
export const UPDATE_STATES = ['downloading', 'staged', 'applied', 'refused', 'rolled_back', 'skipped'] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];

const SIGNING_CONTEXT = 'canh-release-v1\n';
/** DER prefix of an ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 raw key bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** JSON with object keys sorted: the same manifest always gives the same bytes. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The bytes signed: a context line (no signature is valid for another purpose) and the canonical manifest. */
export function manifestBytes(m: ReleaseManifest): Buffer {
  const { name, version, platform, file, size, sha256 } = m;
  return Buffer.from(SIGNING_CONTEXT + canonical({ name, version, platform, file, size, sha256 }), 'utf8');
}

/** The raw 32-byte public key from its base64 form (the pinned `update.publicKey`); a string says why not. */
export function decodePublicKey(b64: string): Buffer | string {
  const s = b64.trim();
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(s)) return 'the public key must be 32 bytes in base64 (canh release keygen)';
  const raw = Buffer.from(s, 'base64');
  return raw.length === 32 ? raw : 'the public key must be 32 bytes in base64';
}

export function keyIdOf(rawPublicKey: Buffer): string {
  return createHash('sha256').update(rawPublicKey).digest('hex').slice(0, 16);
}

/** Does `signature` (base64) sign `m` with the key `rawPublicKey`? */
export function verifyManifest(m: ReleaseManifest, signature: string, rawPublicKey: Buffer): boolean {
  if (!/^[A-Za-z0-9+/]{86}(==)?$/.test(signature)) return false;
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, rawPublicKey]), format: 'der', type: 'spki' });
  return cryptoVerify(null, manifestBytes(m), key, Buffer.from(signature, 'base64'));
}

/** Validate a manifest's shape; a string says why it is not one. */
export function manifestProblem(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'manifest must be an object';
  const o = m as Record<string, unknown>;
  if (o.name !== 'canh-agent') return 'manifest name must be canh-agent';
  if (typeof o.version !== 'string' || !RELEASE_VERSION.test(o.version)) return 'manifest version must be semver (1.2.3)';
  if (typeof o.platform !== 'string' || !(RELEASE_PLATFORMS as readonly string[]).includes(o.platform)) return `manifest platform must be one of ${RELEASE_PLATFORMS.join(', ')}`;
  if (typeof o.file !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(o.file)) return 'manifest file must be a plain file name';
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size <= 0) return 'manifest size must be a positive integer';
  if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) return 'manifest sha256 must be 64 hex';
  return undefined;
}

/** Decode an offer; a string says why it is not one. */
export function decodeUpdateOffer(payload: Uint8Array | string): UpdateOffer | string {
  const o = decodeControlObject(payload, 16 * 1024);
  if (typeof o === 'string') return o;
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 0) return 'seq must be a non-negative integer';
  const problem = manifestProblem(o.manifest);
  if (problem) return problem;
  if (typeof o.signature !== 'string' || o.signature.length > 200) return 'signature must be base64';
  if (typeof o.keyId !== 'string' || !/^[0-9a-f]{0,64}$/.test(o.keyId)) return 'keyId must be hex';
  // A path on the collector only: never `..`, never `//host/…` (another server, protocol-relative).
  if (typeof o.path !== 'string' || !/^\/[A-Za-z0-9._-][A-Za-z0-9._/-]{0,299}$/.test(o.path) || o.path.includes('..') || o.path.includes('//'))
    return 'path must be an absolute URL path on the collector';
  if (o.until !== null && (typeof o.until !== 'number' || !Number.isFinite(o.until))) return 'until must be a time or null';
  const mf = o.manifest as ReleaseManifest;
  return {
    v: CONTRACT_VERSION,
    seq: o.seq,
    manifest: { name: 'canh-agent', version: mf.version, platform: mf.platform, file: mf.file, size: mf.size, sha256: mf.sha256 },
    signature: o.signature,
    keyId: o.keyId,
    path: o.path,
    until: o.until as number | null,
  };
}

/** Compare two release versions (semver precedence, pre-releases before their release); <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.split('-', 2) as [string, string | undefined];
    return { nums: core.split('.').map(Number), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}
