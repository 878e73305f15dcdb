/**
 * Password hashing in Mosquitto 2's own format, so one stored hash serves both the
 * collector's embedded authentication and an exported Mosquitto `password_file`:
 *
 *   $7$<iterations>$<base64 salt>$<base64 hash>
 *
 * PBKDF2-HMAC-SHA512, 12-byte random salt, 64-byte derived key, standard base64
 * alphabet with padding (exactly what `mosquitto_passwd` writes). `mosquitto_passwd`
 * uses 101 iterations; we default to {@link DEFAULT_ITERATIONS}, which Mosquitto reads
 * from the hash itself (verified against the real broker in
 * test/integration/mosquitto-acl.test.ts).
 *
 * Verification also accepts Mosquitto 1.x `$6$<salt>$<hash>` lines (SHA-512 of
 * password ‖ salt) so an imported legacy password file keeps working; we never write it.
 */
import { createHash, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** For a password someone gave (deployment tooling's secret: at least 16 characters, maybe not random). */
export const DEFAULT_ITERATIONS = 20_000;
/** What `mosquitto_passwd` itself uses. */
export const MOSQUITTO_PASSWD_ITERATIONS = 101;
/**
 * For the passwords Canh generates ({@link generatePassword}: 144 random bits). Stretching
 * protects guessable passwords; no iteration count changes the 2^144 guesses a random one
 * takes, while Mosquitto computes the hash on its one thread at every CONNECT with no cache:
 * at 20,000 iterations a province's 10,000 agents reconnecting (a broker restart, the
 * morning power-on) kept it hashing for ~150 s, forwarding nothing meanwhile
 * (`npm run bench:connect-storm`). Mosquitto's own count, then.
 */
export const GENERATED_PASSWORD_ITERATIONS = MOSQUITTO_PASSWD_ITERATIONS;
export const SALT_BYTES = 12;
export const HASH_BYTES = 64;
/** Refuse absurd iteration counts from a hash string (a CPU-exhaustion guard). */
export const MAX_ITERATIONS = 10_000_000;

export interface ParsedHash {
  type: 6 | 7;
  iterations: number;
  salt: Buffer;
  hash: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeB64(s: string): Buffer | undefined {
  if (!B64.test(s)) return undefined;
  const buf = Buffer.from(s, 'base64');
  return buf.length ? buf : undefined;
}

/** Parse a `$7$…` (or legacy `$6$…`) hash string; `undefined` if malformed. */
export function parseHash(encoded: string): ParsedHash | undefined {
  const parts = encoded.split('$');
  // ['', '7', iterations, salt, hash] or ['', '6', salt, hash]
  if (parts[0] !== '') return undefined;
  if (parts[1] === '7' && parts.length === 5) {
    const [, , it, s, h] = parts as [string, string, string, string, string];
    if (!/^[1-9][0-9]{0,8}$/.test(it)) return undefined;
    const iterations = Number(it);
    if (iterations > MAX_ITERATIONS) return undefined;
    const salt = decodeB64(s);
    const hash = decodeB64(h);
    if (!salt || !hash || hash.length !== HASH_BYTES) return undefined;
    return { type: 7, iterations, salt, hash };
  }
  if (parts[1] === '6' && parts.length === 4) {
    const [, , s, h] = parts as [string, string, string, string];
    const salt = decodeB64(s);
    const hash = decodeB64(h);
    if (!salt || !hash || hash.length !== HASH_BYTES) return undefined;
    return { type: 6, iterations: 1, salt, hash };
  }
  return undefined;
}

/**
 * {@link hashPassword} on libuv's thread pool: for credentials the collector itself creates
 * while it serves (site enrolment, collector/enrollment/), whose PBKDF2 must stay off
 * the event loop.
 */
export async function hashPasswordAsync(password: string, iterations: number = DEFAULT_ITERATIONS): Promise<string> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new RangeError(`iterations must be an integer in 1..${MAX_ITERATIONS}, got ${iterations}`);
  }
  const salt = randomBytes(SALT_BYTES);
  const hash = await pbkdf2Async(password, salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * Hash a password in Mosquitto `$7$` format. Synchronous on purpose: it runs when an
 * operator creates a credential (CLI), once, inside the SQLite write; verification,
 * which runs per connection, is asynchronous ({@link verifyHash}).
 */
export function hashPassword(password: string, iterations: number = DEFAULT_ITERATIONS): string {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new RangeError(`iterations must be an integer in 1..${MAX_ITERATIONS}, got ${iterations}`);
  }
  const salt = randomBytes(SALT_BYTES);
  const hash = pbkdf2Sync(password, salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Constant-time check of `password` against a `$7$`/`$6$` hash; false if malformed. */
export async function verifyHash(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed) return false;
  let computed: Buffer;
  if (parsed.type === 7) {
    computed = await pbkdf2Async(password, parsed.salt, parsed.iterations, parsed.hash.length, 'sha512');
  } else {
    computed = createHash('sha512').update(password, 'utf8').update(parsed.salt).digest();
  }
  return computed.length === parsed.hash.length && timingSafeEqual(computed, parsed.hash);
}

/** A fresh random password: 18 random bytes, base64url (24 characters, no padding). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
