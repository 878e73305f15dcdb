/**
 * MQTT credentials: who may connect (stored, verified with a bounded, cached PBKDF2 check);
 * what each identity may publish or subscribe is acl.ts, with the identity model.
 *
 * Passwords are generated, returned once by {@link CredentialStore.add}, and stored only
 * as Mosquitto-compatible `$7$` hashes (see password-hash.ts), so the same rows can be
 * exported to a Mosquitto password file (mosquitto-config.ts).
 */
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { isValidId } from '../../contract/topics.js';
import { systemClock, type Clock } from '../../common/clock.js';
import { mayPublish, maySubscribe, mayUseClientId, type Identity, type Role } from './acl.js';
import { DEFAULT_ITERATIONS, GENERATED_PASSWORD_ITERATIONS, generatePassword, hashPassword, hashPasswordAsync, verifyHash } from './password-hash.js';

/** One stored credential, without its hash. */
export interface CredentialInfo {
  username: string;
  site: string;
  host: string | null;
  role: Role;
  createdAt: number;
  revokedAt: number | null;
}

/** A non-revoked credential with its hash, for exporting a Mosquitto password file. */
export interface ActiveCredential extends Identity {
  hash: string;
}

export interface AddCredentialInput {
  /** Site id (agents). Ignored for a collector. */
  site?: string;
  /** Host id; omit for a per-site agent credential. */
  host?: string;
  role?: Role;
  /** Only for a collector (default {@link DEFAULT_COLLECTOR_USERNAME}); agents' usernames are derived. */
  username?: string;
  now: number;
  /** Replace the password of an existing, non-revoked credential. */
  rotate?: boolean;
  /**
   * Use this password instead of generating one (e.g. a secret that deployment tooling
   * already holds). At least 16 characters; generated ones are preferred.
   */
  password?: string;
}

export interface CredentialStoreOptions {
  /** PBKDF2 iterations for new hashes of given passwords (generated ones: GENERATED_PASSWORD_ITERATIONS, or this when lower). */
  iterations?: number;
  /** Most cached successful verifications (LRU). */
  cacheSize?: number;
  /**
   * How long a cached verification stays valid. Revocations made through this store
   * clear the cache at once; this bounds staleness when another process (the CLI)
   * revokes in the same database file.
   */
  cacheTtlMs?: number;
  clock?: Pick<Clock, 'monotonic'>;
  /**
   * PBKDF2 checks running at once (each on the libuv thread pool, off the event loop);
   * the rest wait in a queue of `maxQueuedVerifications`, beyond which {@link verify}
   * throws {@link VerificationBusyError}. Cached verifications never wait. So password
   * guessing cannot take every thread (file I/O and DNS share the pool) nor the CPU
   * that ingest needs.
   */
  maxConcurrentVerifications?: number;
  maxQueuedVerifications?: number;
}

/** Too many password checks waiting: refuse (the broker answers "server unavailable"). */
export class VerificationBusyError extends Error {
  constructor() {
    super('too many password checks waiting');
    this.name = 'VerificationBusyError';
  }
}

export const DEFAULT_COLLECTOR_USERNAME = 'canh-collector';
/** `Identity.site` of a collector. */
export const COLLECTOR_SITE = '*';

/** Collector usernames: no ':' (password file), no whitespace (ACL file), no wildcards. */
const COLLECTOR_USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class CredentialExistsError extends Error {
  constructor(readonly username: string) {
    super(`credential "${username}" already exists and is not revoked; ` + `revoke it first or pass rotate to issue a new password`);
    this.name = 'CredentialExistsError';
  }
}

interface Row {
  username: string;
  site: string;
  host: string | null;
  role: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

interface CacheEntry {
  identity: Identity;
  hash: string;
  at: number;
}

export function agentUsername(site: string, host?: string | null): string {
  return host ? `${site}.${host}` : site;
}

export class CredentialStore {
  private readonly iterations: number;
  private readonly cacheSize: number;
  private readonly cacheTtlMs: number;
  private readonly clock: Pick<Clock, 'monotonic'>;
  /** key: username NUL sha256(password) hex; Map order = recency (LRU). */
  private readonly cache = new Map<string, CacheEntry>();
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly db: Database,
    opts: CredentialStoreOptions = {},
  ) {
    this.iterations = opts.iterations ?? DEFAULT_ITERATIONS;
    this.cacheSize = opts.cacheSize ?? 10_000;
    this.cacheTtlMs = opts.cacheTtlMs ?? 5 * 60_000;
    this.clock = opts.clock ?? systemClock;
    this.maxConcurrent = opts.maxConcurrentVerifications ?? 2;
    this.maxQueued = opts.maxQueuedVerifications ?? 500;
  }

  /** Password checks running and waiting now (observability and tests). */
  verificationLoad(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }

  init(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS credentials (
      username   TEXT PRIMARY KEY,
      site       TEXT NOT NULL,
      host       TEXT,
      role       TEXT NOT NULL CHECK (role IN ('agent', 'collector')),
      hash       TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      revoked_at INTEGER
    )`);
  }

  /**
   * Create a credential (or re-create a revoked one, or with `rotate` replace the
   * password of an active one). Returns the password: it is not stored and cannot be
   * shown again.
   */
  add(input: AddCredentialInput): { username: string; password: string } {
    const target = this.target(input);
    const password = input.password ?? generatePassword();
    return this.write(input, target, password, hashPassword(password, this.iterationsFor(input)));
  }

  /**
   * {@link add} with the PBKDF2 hash computed off the event loop: for credentials the
   * running collector creates itself (site enrolment). `rotate` replaces the password of
   * the same credential (a retried enrolment gets a fresh secret, never a second host).
   */
  async addAsync(input: AddCredentialInput): Promise<{ username: string; password: string }> {
    return (await this.prepareAsync(input))();
  }

  /**
   * Validate and hash now (off the event loop), write later: the returned function writes
   * the credential synchronously, so a caller can run it inside its own transaction
   * together with its own rows (better-sqlite3 nests it as a savepoint).
   */
  async prepareAsync(input: AddCredentialInput): Promise<() => { username: string; password: string }> {
    const target = this.target(input);
    const password = input.password ?? generatePassword();
    const hash = await hashPasswordAsync(password, this.iterationsFor(input));
    return () => this.write(input, target, password, hash);
  }

  /** A generated (random, 144-bit) password needs no stretching; one given to us gets it (password-hash.ts). */
  private iterationsFor(input: AddCredentialInput): number {
    return input.password === undefined ? Math.min(this.iterations, GENERATED_PASSWORD_ITERATIONS) : this.iterations;
  }

  /** Validate an add and derive its username, site and host. */
  private target(input: AddCredentialInput): { role: Role; username: string; site: string; host: string | null } {
    const role: Role = input.role ?? 'agent';
    let username: string;
    let site: string;
    let host: string | null;
    if (role === 'collector') {
      if (input.host !== undefined) throw new Error('a collector credential has no host');
      username = input.username ?? DEFAULT_COLLECTOR_USERNAME;
      if (!COLLECTOR_USERNAME.test(username)) {
        throw new Error(`invalid collector username "${username}" (letters, digits, '.', '_', '-')`);
      }
      site = COLLECTOR_SITE;
      host = null;
    } else if (role === 'agent') {
      if (input.site === undefined || !isValidId(input.site)) {
        throw new Error(`invalid site id "${input.site ?? ''}" (must match ID_PATTERN)`);
      }
      if (input.host !== undefined && !isValidId(input.host)) {
        throw new Error(`invalid host id "${input.host}" (must match ID_PATTERN)`);
      }
      site = input.site;
      host = input.host ?? null;
      username = agentUsername(site, host);
      if (input.username !== undefined && input.username !== username) {
        throw new Error(`an agent's username is derived ("${username}"); got "${input.username}"`);
      }
    } else {
      throw new Error(`invalid role "${String(role)}"`);
    }

    if (input.password !== undefined && (input.password.length < 16 || input.password.length > 256 || /[\r\n]/.test(input.password))) {
      throw new Error('a given password must be 16 to 256 characters on one line');
    }
    return { role, username, site, host };
  }

  private write(
    input: AddCredentialInput,
    target: { role: Role; username: string; site: string; host: string | null },
    password: string,
    hash: string,
  ): { username: string; password: string } {
    const { role, username, site, host } = target;
    const tx = this.db.transaction(() => {
      const existing = this.row(username);
      if (existing) {
        if (existing.revoked_at === null && !input.rotate) throw new CredentialExistsError(username);
        if (existing.role !== role || existing.site !== site || existing.host !== host) {
          throw new Error(`username "${username}" is taken by a different ${existing.role} credential ` + `(site ${existing.site}, host ${existing.host ?? '-'})`);
        }
        this.db.prepare('UPDATE credentials SET hash = ?, created_at = ?, revoked_at = NULL WHERE username = ?').run(hash, input.now, username);
      } else {
        this.db
          .prepare('INSERT INTO credentials (username, site, host, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, NULL)')
          .run(username, site, host, role, hash, input.now);
      }
    });
    // IMMEDIATE: the CLI adds credentials while the collector commits; a deferred
    // transaction that read first cannot upgrade after another commit (SQLITE_BUSY in WAL).
    tx.immediate();
    this.forget(username);
    return { username, password };
  }

  /**
   * The identity when this username/password was verified within the cache's lifetime,
   * else undefined: no PBKDF2, so the broker may ask it even while it throttles guessing.
   */
  cachedIdentity(username: string, password: string): Identity | undefined {
    if (typeof username !== 'string' || typeof password !== 'string') return undefined;
    const key = cacheKey(username, password);
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    this.cache.delete(key);
    if (this.clock.monotonic() - hit.at > this.cacheTtlMs) return undefined;
    this.cache.set(key, hit); // refresh recency
    return { ...hit.identity };
  }

  /** The identity for a correct username/password of an active credential, else undefined. */
  async verify(username: string, password: string): Promise<Identity | undefined> {
    if (typeof username !== 'string' || typeof password !== 'string') return undefined;
    const cached = this.cachedIdentity(username, password);
    if (cached) return cached;
    const key = cacheKey(username, password);
    const t = this.clock.monotonic();
    const row = this.row(username);
    if (!row || row.revoked_at !== null) return undefined;
    const ok = await this.bounded(() => verifyHash(password, row.hash));
    if (!ok) return undefined;
    // The hash check was asynchronous: a revoke or rotate may have happened meanwhile.
    const now = this.row(username);
    if (!now || now.revoked_at !== null || now.hash !== row.hash) return undefined;
    const identity = toIdentity(now);
    this.cache.set(key, { identity, hash: now.hash, at: t });
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return { ...identity };
  }

  /** All credentials (revoked ones too), without hashes, ordered by username. */
  list(): CredentialInfo[] {
    const rows = this.db.prepare('SELECT username, site, host, role, created_at, revoked_at FROM credentials ORDER BY username').all() as Omit<Row, 'hash'>[];
    return rows.map((r) => ({
      username: r.username,
      site: r.site,
      host: r.host,
      role: r.role as Role,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }

  /** Is `username` taken by any credential (revoked ones too: their usernames are not reused for another identity)? */
  has(username: string): boolean {
    return this.row(username) !== undefined;
  }

  /** Non-revoked credentials with their hashes (for the Mosquitto export only). */
  activeCredentials(): ActiveCredential[] {
    const rows = this.db.prepare('SELECT * FROM credentials WHERE revoked_at IS NULL ORDER BY username').all() as Row[];
    return rows.map((r) => ({ ...toIdentity(r), hash: r.hash }));
  }

  /** Revoke; returns false if there is no such active credential. Clears cached verifications. */
  revoke(username: string, now: number): boolean {
    const res = this.db.prepare('UPDATE credentials SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL').run(now, username);
    this.cache.clear();
    return res.changes > 0;
  }

  /** Number of cached verifications (observability and tests). */
  get cachedVerifications(): number {
    return this.cache.size;
  }

  /** The ACL (acl.ts), for the embedded broker. */
  mayUseClientId(identity: Identity, clientId: string): boolean {
    return mayUseClientId(identity, clientId);
  }

  mayPublish(identity: Identity, topic: string): boolean {
    return mayPublish(identity, topic);
  }

  maySubscribe(identity: Identity, filter: string): boolean {
    return maySubscribe(identity, filter);
  }

  /** Run `job` when one of `maxConcurrent` slots is free; throw when the queue is full. */
  private async bounded<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueued) throw new VerificationBusyError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes on: `running` stays
      else this.running--;
    }
  }

  private row(username: string): Row | undefined {
    return this.db.prepare('SELECT * FROM credentials WHERE username = ?').get(username) as Row | undefined;
  }

  private forget(username: string): void {
    const prefix = `${username}\u0000`;
    for (const key of this.cache.keys()) if (key.startsWith(prefix)) this.cache.delete(key);
  }
}

function cacheKey(username: string, password: string): string {
  return `${username}\u0000${createHash('sha256').update(password, 'utf8').digest('hex')}`;
}

function toIdentity(r: Row): Identity {
  return { username: r.username, site: r.site, host: r.host, role: r.role as Role };
}
