import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import type { EnrollGranted, EnrollPending, EnrollRefusal, EnrollRefusalCode, EnrollRequest } from '../../contract/enrollment.js';
import { slugifyId } from '../../contract/topics.js';
import { agentUsername, type CredentialStore } from '../broker/credentials.js';
import { compareMachines } from './machine-match.js';
import type { EnrollmentStore, EnrollTokenRow, MachineRow } from './enrollment-store.js';

/** Most enrolments waiting for the one before them; more are refused with 503 (retry later). */
export const MAX_QUEUED_ENROLMENTS = 64;

export type EnrollOutcome = { http: 200; body: EnrollGranted } | { http: 202; body: EnrollPending } | { http: 400 | 401 | 403 | 503; body: EnrollRefusal };

export interface EnrollmentServiceDeps {
  store: EnrollmentStore;
  credentials: CredentialStore;
  /** Does the collector already know this host (from its messages, whatever its credential)? */
  hostKnown: (site: string, host: string) => boolean;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** How often a waiting agent asks again (`enrollment.pendingRetrySeconds`). */
  pendingRetrySeconds: number;
}

const fmt = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

function refusal(http: 400 | 401 | 403 | 503, error: EnrollRefusalCode, message: string, messageEn: string): EnrollOutcome {
  return { http, body: { error, message, messageEn } };
}

/** Why a token cannot enrol a new PC now, or undefined when it can. */
function tokenProblem(t: EnrollTokenRow, now: number, forNewMachine: boolean): EnrollOutcome | undefined {
  if (t.revokedAt !== null) {
    return refusal(
      403,
      'token_revoked',
      `Mã đăng ký đã bị thu hồi lúc ${fmt(t.revokedAt)}. Hãy xin quản trị viên một mã mới (canh enroll create --site ${t.site}).`,
      `The enrolment token was revoked at ${fmt(t.revokedAt)}. Ask the administrator for a new one.`,
    );
  }
  if (t.expiresAt <= now) {
    return refusal(
      403,
      'token_expired',
      `Mã đăng ký đã hết hạn lúc ${fmt(t.expiresAt)}. Hãy xin quản trị viên một mã mới (canh enroll create --site ${t.site}).`,
      `The enrolment token expired at ${fmt(t.expiresAt)}. Ask the administrator for a new one.`,
    );
  }
  if (forNewMachine && t.maxUses !== null && t.uses >= t.maxUses) {
    return refusal(
      403,
      'token_used_up',
      `Mã đăng ký đã dùng hết ${t.maxUses} lượt (đã đăng ký ${t.uses} máy). Hãy xin quản trị viên một mã mới hoặc mã có nhiều lượt hơn.`,
      `The enrolment token is used up (${t.uses} of ${t.maxUses} computers). Ask the administrator for a new one.`,
    );
  }
  return undefined;
}

/**
 * Site enrolment (issue 15): an agent holding only {site, collector address, enrolment
 * token} gets its own per-host MQTT credential. Decisions, in order:
 *
 *  1. the token must exist, be unrevoked and unexpired, and be for the agent's site;
 *  2. a PC already enrolled at this site (same machine id and the same hardware, see
 *     machine-match.ts) gets the same host and a fresh password for the same credential:
 *     a retry after a lost answer or a reinstall, never a second host, no token use;
 *  3. a new PC needs a token use left; if another PC has the same machine id but other
 *     hardware it is a clone: recorded, and waits until an admin confirms it; with an
 *     approval-mode token it waits for an admin too;
 *  4. otherwise (or once approved) it gets a host id made from its hostname, unique
 *     within the site, and a new credential.
 *
 * Enrolments run one at a time (a queue bounded by {@link MAX_QUEUED_ENROLMENTS}): two
 * copies of one request can never both create a host. The PBKDF2 hash of the new password
 * runs off the event loop; every write of one enrolment is one transaction.
 */
export class EnrollmentService {
  private chain: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private readonly outcomes;

  constructor(private readonly deps: EnrollmentServiceDeps) {
    this.outcomes = deps.metrics.counter('canh_enrollments_total', 'Enrolment requests, by outcome.');
  }

  enroll(req: EnrollRequest, address: string, mqttUrl: string): Promise<EnrollOutcome> {
    if (this.queued >= MAX_QUEUED_ENROLMENTS) {
      this.outcomes.inc({ outcome: 'busy' });
      return Promise.resolve(
        refusal(503, 'unavailable', 'Máy chủ đang bận đăng ký các máy khác; máy này sẽ tự thử lại.', 'The collector is busy enrolling other computers; retry later.'),
      );
    }
    this.queued++;
    const run = this.chain.then(() => this.enrollNow(req, address, mqttUrl));
    this.chain = run.catch(() => undefined).finally(() => this.queued--);
    return run;
  }

  private async enrollNow(req: EnrollRequest, address: string, mqttUrl: string): Promise<EnrollOutcome> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const token = store.tokenBySecret(req.token);
    if (!token) {
      this.outcomes.inc({ outcome: 'token_invalid' });
      return refusal(
        401,
        'token_invalid',
        'Mã đăng ký không đúng (gõ sai, hoặc của máy chủ khác). Hãy kiểm tra lại mã trên trang "Thêm máy tính".',
        'Unknown enrolment token (mistyped, or from another collector).',
      );
    }
    const base = { tokenId: token.id, site: req.site, hostname: req.hostname, address };
    const refuse = (o: EnrollOutcome, machine: MachineRow | undefined): EnrollOutcome => {
      const code = 'error' in o.body ? o.body.error : 'refused';
      this.outcomes.inc({ outcome: code });
      store.log({ ...base, at: now, host: machine?.host ?? null, machine: machine?.id ?? null, outcome: `refused:${code}` });
      return o;
    };
    if (req.site !== token.site) {
      return refuse(
        refusal(
          403,
          'wrong_site',
          `Mã đăng ký này dành cho điểm "${token.site}", không phải "${req.site}". Hãy dùng đúng mã của điểm này.`,
          `This enrolment token is for site "${token.site}", not "${req.site}".`,
        ),
        undefined,
      );
    }

    const others = store.machinesWithId(req.identity.machineId);
    const here = others.filter((m) => m.site === req.site && compareMachines(m.identity, req.identity) !== 'different');
    // Prefer the row with a host (an enrolled PC) over a waiting one.
    const mine = here.find((m) => m.status === 'active') ?? here.find((m) => m.status === 'approved') ?? here[0];

    if (mine) {
      const problem = tokenProblem(token, now, false);
      if (problem) return refuse(problem, mine);
      if (mine.status === 'rejected') {
        return refuse(
          refusal(403, 'rejected', 'Quản trị viên đã từ chối máy này. Hãy liên hệ quản trị viên nếu đây là nhầm lẫn.', 'An administrator rejected this computer.'),
          mine,
        );
      }
      if (mine.status === 'pending' || mine.status === 'clone') {
        store.updateMachine({ ...mine, identity: req.identity, hostname: req.hostname, tokenId: token.id, address, now, issued: false });
        this.outcomes.inc({ outcome: 'pending' });
        return this.pending(mine.status === 'clone' ? 'clone' : 'approval', mine);
      }
      const host = mine.host ?? this.allocateHost(req.site, req.hostname);
      const outcome = mine.status === 'active' ? 're-enrolled' : 'enrolled';
      return this.grant(req, token, host, mqttUrl, address, now, outcome, (issued) => {
        store.updateMachine({ id: mine.id, host, identity: req.identity, hostname: req.hostname, status: 'active', tokenId: token.id, address, now, issued });
        return mine.id;
      });
    }

    const problem = tokenProblem(token, now, true);
    if (problem) return refuse(problem, undefined);
    const original = others.find((m) => m.status !== 'rejected' && compareMachines(m.identity, req.identity) === 'different');
    if (original || token.requireApproval) {
      const status = original ? 'clone' : 'pending';
      const id = store.db
        .transaction(() => {
          store.useToken(token.id);
          const id = store.insertMachine({ ...base, host: null, identity: req.identity, status, cloneOf: original?.id ?? null, now, issued: false });
          store.log({
            ...base,
            at: now,
            host: null,
            machine: id,
            outcome: status,
            detail: original ? `same machine id as #${original.id} (${original.site}/${original.host ?? '-'})` : undefined,
          });
          return id;
        })
        .immediate();
      this.outcomes.inc({ outcome: status });
      if (original) {
        this.deps.log.warn(
          { site: req.site, machine: id, cloneOf: original.id, address },
          'enrolment: same machine id as another computer (cloned disk image?): waiting for an admin',
        );
      }
      return this.pending(original ? 'clone' : 'approval', store.machine(id)!);
    }
    const host = this.allocateHost(req.site, req.hostname);
    return this.grant(req, token, host, mqttUrl, address, now, 'enrolled', (issued) => {
      store.useToken(token.id);
      return store.insertMachine({ ...base, host, identity: req.identity, status: 'active', cloneOf: null, now, issued });
    });
  }

  /** Create (or rotate) the host's credential and write the rows, in one transaction. */
  private async grant(
    req: EnrollRequest,
    token: EnrollTokenRow,
    host: string,
    mqttUrl: string,
    address: string,
    now: number,
    outcome: 'enrolled' | 're-enrolled',
    writeRows: (issued: boolean) => number,
  ): Promise<EnrollOutcome> {
    const { store, credentials } = this.deps;
    const commit = await credentials.prepareAsync({ site: req.site, host, now, rotate: true });
    const { username, password } = store.db
      .transaction(() => {
        const cred = commit();
        const machine = writeRows(true);
        store.log({ at: now, tokenId: token.id, site: req.site, host, machine, hostname: req.hostname, address, outcome });
        return cred;
      })
      .immediate();
    this.outcomes.inc({ outcome });
    this.deps.log.info({ site: req.site, host, tokenId: token.id, outcome }, 'enrolment: credential issued');
    return {
      http: 200,
      body: {
        status: 'enrolled',
        site: req.site,
        host,
        username,
        password,
        mqttUrl,
        message: outcome === 'enrolled' ? `Đã đăng ký máy "${host}" vào điểm "${req.site}".` : `Máy "${host}" đã đăng ký trước đó; đã cấp lại mật khẩu.`,
      },
    };
  }

  private pending(reason: 'approval' | 'clone', m: MachineRow): EnrollOutcome {
    return {
      http: 202,
      body: {
        status: 'pending',
        reason,
        message:
          reason === 'clone'
            ? `Máy này có cùng mã máy với một máy đã đăng ký (có thể do sao chép ổ đĩa). Đang chờ quản trị viên xác nhận (yêu cầu số ${m.id}).`
            : `Đang chờ quản trị viên duyệt máy này (yêu cầu số ${m.id}).`,
        messageEn:
          reason === 'clone'
            ? `This computer has the same machine id as an enrolled one (cloned disk image?). Waiting for an administrator to confirm (request ${m.id}).`
            : `Waiting for an administrator to approve this computer (request ${m.id}).`,
        retryAfterSeconds: this.deps.pendingRetrySeconds,
      },
    };
  }

  /** A host id from the hostname, unique within the site (`pc-01`, `pc-01-2`, …). */
  private allocateHost(site: string, hostname: string): string {
    const base = (slugifyId(hostname) || 'pc').slice(0, 56).replace(/[-_]+$/, '') || 'pc';
    const { store, credentials, hostKnown } = this.deps;
    for (let n = 1; n < 10_000; n++) {
      const host = n === 1 ? base : `${base}-${n}`;
      if (!store.hostTaken(site, host) && !credentials.has(agentUsername(site, host)) && !hostKnown(site, host)) return host;
    }
    throw new Error(`no free host id for ${hostname} at ${site}`);
  }

  /** Approve (or confirm a clone) / reject a waiting PC. */
  decide(id: number, decision: 'approved' | 'rejected', by: string): boolean {
    return this.deps.store.decide(id, decision, by, this.deps.clock.now());
  }
}
