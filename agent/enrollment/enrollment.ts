import { chmod, mkdir } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { VERSION } from '../../common/version.js';
import { ENROLL_PATH, type EnrollGranted, type EnrollPending, type EnrollRefusal, type EnrollRequest, type MachineIdentity } from '../../contract/enrollment.js';
import { isValidId } from '../../contract/topics.js';
import type { AgentConfig } from '../config.js';
import { readJsonFile, writeFileAtomic } from '../../common/atomic-file.js';
import { readMachineIdentity } from './machine-identity.js';

/**
 * The agent's side of site enrolment (issue 15). With `collector` + `enrollToken` and no
 * `mqtt.password`, the agent asks the collector for its own per-host credential once and
 * keeps it in `<stateDir>/enrollment.json` (0600; the state dir 0700; on Windows the
 * installer gives C:\ProgramData\Canh to SYSTEM and Administrators only). From then on the
 * token is not used: the stored credential is.
 *
 * Network errors, 5xx and 429 are retried with backoff; a refusal (expired, revoked, used
 * up, wrong site: 4xx) is final and its Vietnamese message is shown; a pending answer
 * (approval mode, clone) is asked again after the collector's `retryAfterSeconds`.
 */
export const ENROLLMENT_FILE = 'enrollment.json';

export interface StoredEnrollment {
  site: string;
  host: string;
  username: string;
  password: string;
  mqttUrl: string;
  collector: string;
  enrolledAt: number;
}

export class EnrollmentRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EnrollmentRefused';
  }
}

export class EnrollmentPending extends Error {
  constructor(readonly answer: EnrollPending) {
    super(answer.message);
    this.name = 'EnrollmentPending';
  }
}

export async function readStoredEnrollment(stateDir: string): Promise<StoredEnrollment | undefined> {
  const j = (await readJsonFile(join(stateDir, ENROLLMENT_FILE))) as Partial<StoredEnrollment> | null;
  if (!j || typeof j.password !== 'string' || typeof j.username !== 'string' || typeof j.host !== 'string' || typeof j.mqttUrl !== 'string' || typeof j.site !== 'string') {
    return undefined;
  }
  return j as StoredEnrollment;
}

async function storeEnrollment(stateDir: string, e: StoredEnrollment): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  // mkdir's mode only applies to a directory it creates: tighten an existing one too.
  await chmod(stateDir, 0o700).catch(() => undefined);
  const file = join(stateDir, ENROLLMENT_FILE);
  const old = process.umask(0o077);
  try {
    await writeFileAtomic(file, `${JSON.stringify(e, null, 2)}\n`, { fsync: true });
  } finally {
    process.umask(old);
  }
  await chmod(file, 0o600).catch(() => undefined);
}

export interface EnrollOptions {
  config: AgentConfig;
  clock: Clock;
  log: Logger;
  /** Stop after the first pending answer instead of waiting (the installer's `--enroll-only`). */
  returnWhenPending?: boolean;
  /** Give up after this many failed (retryable) attempts; default: never. */
  attempts?: number;
  identity?: () => Promise<MachineIdentity>;
  fetch?: typeof fetch;
  /** The JSON config file the agent read, whose `enrollToken` is removed once enrolled. */
  configFile?: string | undefined;
}

/** One request; resolves the granted credential, or throws EnrollmentRefused / EnrollmentPending / a retryable error. */
async function enrollOnce(opts: EnrollOptions, body: EnrollRequest): Promise<EnrollGranted> {
  const url = new URL(ENROLL_PATH, opts.config.collector).toString();
  const res = await (opts.fetch ?? fetch)(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let answer: Record<string, unknown> = {};
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON: a proxy's error page */
  }
  if (res.status === 200 && answer.status === 'enrolled') {
    const g = answer as unknown as EnrollGranted;
    if (!isValidId(g.host) || typeof g.password !== 'string' || typeof g.username !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\//.test(String(g.mqttUrl))) {
      throw new Error('the collector answered an enrolment without a usable credential');
    }
    return g;
  }
  if (res.status === 202 && answer.status === 'pending') throw new EnrollmentPending(answer as unknown as EnrollPending);
  const r = answer as Partial<EnrollRefusal>;
  if (res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408) {
    throw new EnrollmentRefused(String(r.error ?? res.status), String(r.message ?? `HTTP ${res.status}`));
  }
  throw new Error(`enrolment answered HTTP ${res.status}${r.message ? `: ${r.message}` : ''}`);
}

/**
 * The credential to run with: the stored one, or a new enrolment (retried until it is
 * granted or refused). Returns the config the agent runs with (its host, MQTT address,
 * username and password from the enrolment).
 */
export async function ensureEnrolled(opts: EnrollOptions): Promise<AgentConfig> {
  const { config, clock, log } = opts;
  const stored = await readStoredEnrollment(config.stateDir);
  if (stored && stored.site === config.site) return withCredential(config, stored);
  if (stored) log.warn({ storedSite: stored.site, site: config.site }, 'stored enrolment is for another site: enrolling again');
  if (!config.collector || !config.enrollToken) {
    throw new EnrollmentRefused(
      'not_enrolled',
      'Máy chưa được đăng ký: cần "collector" (địa chỉ máy chủ, vd. http://10.0.0.5:8080) và "enrollToken" (mã đăng ký từ canh enroll create) trong cấu hình. / Not enrolled: set collector and enrollToken.',
    );
  }
  const identity = await (opts.identity ?? (() => readMachineIdentity()))();
  const body: EnrollRequest = {
    token: config.enrollToken,
    site: config.site,
    hostname: config.hostname || osHostname(),
    identity,
    agentVersion: VERSION,
    platform: process.platform,
  };
  let delay = 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      const g = await enrollOnce(opts, body);
      const e: StoredEnrollment = {
        site: g.site,
        host: g.host,
        username: g.username,
        password: g.password,
        mqttUrl: g.mqttUrl,
        collector: config.collector,
        enrolledAt: clock.now(),
      };
      await storeEnrollment(config.stateDir, e);
      log.info({ site: g.site, host: g.host, mqttUrl: g.mqttUrl }, g.message);
      await dropTokenFromConfig(opts.configFile, log);
      return withCredential(config, e);
    } catch (err) {
      if (err instanceof EnrollmentRefused) throw err;
      if (err instanceof EnrollmentPending) {
        log.warn({ reason: err.answer.reason }, err.answer.message);
        if (opts.returnWhenPending) throw err;
        await clock.sleep(Math.min(3600, Math.max(1, err.answer.retryAfterSeconds)) * 1000);
        continue;
      }
      if (opts.attempts !== undefined && attempt >= opts.attempts) throw err;
      log.warn({ err: (err as Error).message, retryInSeconds: delay / 1000 }, 'enrolment failed; retrying');
      await clock.sleep(delay);
      delay = Math.min(delay * 2, 60_000);
    }
  }
}

/**
 * Remove `enrollToken` from the agent's JSON config file once enrolled (the token is a
 * secret that could enrol more PCs). Best effort: a read-only file (the Linux unit reads
 * /etc/canh/agent.env, which the installer already wrote without it) is left as it is.
 */
export async function dropTokenFromConfig(file: string | undefined, log: Logger): Promise<void> {
  if (!file) return;
  try {
    const j = (await readJsonFile(file)) as Record<string, unknown> | null;
    if (!j || typeof j !== 'object' || Array.isArray(j) || !('enrollToken' in j)) return;
    delete j.enrollToken;
    await writeFileAtomic(file, `${JSON.stringify(j, null, 2)}\n`, { fsync: true });
    log.info({ file }, 'enrolled: the enrolment token was removed from the config file');
  } catch (err) {
    log.warn({ file, err: (err as Error).message }, 'enrolled, but could not remove the enrolment token from the config file (it is not used again)');
  }
}

function withCredential(config: AgentConfig, e: StoredEnrollment): AgentConfig {
  return { ...config, host: e.host, mqtt: { ...config.mqtt, url: e.mqttUrl, username: e.username, password: e.password } };
}
