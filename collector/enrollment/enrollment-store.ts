import { randomBytes } from 'node:crypto';
import type { MachineIdentity } from '../../contract/enrollment.js';
import { hashSecret } from '../http/api/auth/token-store.js';
import { migrateModule } from '../store/module-migrations.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';

/**
 * The tables of site enrolment (issue 15), module "enrollment" (module-migrations.ts):
 *
 *  - `enroll_tokens`: one per "add computers to site S" (hashed, hint kept), with expiry,
 *    use limit, approval mode, revocation, who created it;
 *  - `enroll_machines`: one per enrolled (or waiting) PC: its machine identity, the host id
 *    it was given, its state (pending / clone / approved / active / rejected);
 *  - `enroll_log`: every enrolment attempt with a known token, who/when/from where and the
 *    outcome (bounded: the oldest rows go beyond {@link LOG_MAX_ROWS}).
 */
const MIGRATIONS = [
  `CREATE TABLE enroll_tokens (
     id INTEGER PRIMARY KEY, site TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, hint TEXT NOT NULL,
     created_at INTEGER NOT NULL, created_by TEXT NOT NULL, expires_at INTEGER NOT NULL, max_uses INTEGER,
     uses INTEGER NOT NULL DEFAULT 0, require_approval INTEGER NOT NULL DEFAULT 0,
     revoked_at INTEGER, revoked_by TEXT);
   CREATE TABLE enroll_machines (
     id INTEGER PRIMARY KEY, site TEXT NOT NULL, host TEXT, machine_id TEXT NOT NULL, identity TEXT NOT NULL,
     hostname TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'clone', 'approved', 'active', 'rejected')),
     clone_of INTEGER REFERENCES enroll_machines (id), token_id INTEGER NOT NULL REFERENCES enroll_tokens (id),
     address TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, enrolments INTEGER NOT NULL DEFAULT 0,
     decided_by TEXT, decided_at INTEGER);
   CREATE INDEX enroll_machines_machine_id ON enroll_machines (machine_id);
   CREATE UNIQUE INDEX enroll_machines_host ON enroll_machines (site, host) WHERE host IS NOT NULL;
   CREATE TABLE enroll_log (
     id INTEGER PRIMARY KEY, at INTEGER NOT NULL, token_id INTEGER, site TEXT NOT NULL, host TEXT, machine INTEGER,
     hostname TEXT NOT NULL, address TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT);`,
];

export const ENROLL_TOKEN_PREFIX = 'canh_enr_';
/** enroll_log keeps this many rows (an audit trail, not a flood sink). */
export const LOG_MAX_ROWS = 20_000;

export type MachineStatus = 'pending' | 'clone' | 'approved' | 'active' | 'rejected';

export interface EnrollTokenRow {
  id: number;
  site: string;
  name: string;
  hint: string;
  createdAt: number;
  createdBy: string;
  expiresAt: number;
  maxUses: number | null;
  uses: number;
  requireApproval: boolean;
  revokedAt: number | null;
  revokedBy: string | null;
}

export interface MachineRow {
  id: number;
  site: string;
  host: string | null;
  machineId: string;
  identity: MachineIdentity;
  hostname: string;
  status: MachineStatus;
  cloneOf: number | null;
  tokenId: number;
  address: string;
  createdAt: number;
  updatedAt: number;
  /** Credentials issued to this PC (1 after the first enrolment; more after retries or reinstalls). */
  enrolments: number;
  decidedBy: string | null;
  decidedAt: number | null;
}

export interface EnrollLogRow {
  id: number;
  at: number;
  tokenId: number | null;
  site: string;
  host: string | null;
  machine: number | null;
  hostname: string;
  address: string;
  outcome: string;
  detail: string | null;
}

export interface NewToken {
  site: string;
  name: string;
  createdBy: string;
  expiresAt: number;
  maxUses: number | null;
  requireApproval: boolean;
  now: number;
}

interface TokenDb {
  id: number;
  site: string;
  name: string;
  hint: string;
  created_at: number;
  created_by: string;
  expires_at: number;
  max_uses: number | null;
  uses: number;
  require_approval: number;
  revoked_at: number | null;
  revoked_by: string | null;
}

interface MachineDb {
  id: number;
  site: string;
  host: string | null;
  machine_id: string;
  identity: string;
  hostname: string;
  status: MachineStatus;
  clone_of: number | null;
  token_id: number;
  address: string;
  created_at: number;
  updated_at: number;
  enrolments: number;
  decided_by: string | null;
  decided_at: number | null;
}

const tokenOf = (r: TokenDb): EnrollTokenRow => ({
  id: r.id,
  site: r.site,
  name: r.name,
  hint: r.hint,
  createdAt: r.created_at,
  createdBy: r.created_by,
  expiresAt: r.expires_at,
  maxUses: r.max_uses,
  uses: r.uses,
  requireApproval: r.require_approval === 1,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
});

const machineOf = (r: MachineDb): MachineRow => ({
  id: r.id,
  site: r.site,
  host: r.host,
  machineId: r.machine_id,
  identity: JSON.parse(r.identity) as MachineIdentity,
  hostname: r.hostname,
  status: r.status,
  cloneOf: r.clone_of,
  tokenId: r.token_id,
  address: r.address,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  enrolments: r.enrolments,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
});

/** SQL of the enrolment tables; decisions live in enrollment-service.ts. */
export class EnrollmentStore {
  private readonly stmts;

  constructor(readonly db: SqliteDatabase) {
    migrateModule(db, 'enrollment', MIGRATIONS);
    this.stmts = {
      insertToken: db.prepare(
        `INSERT INTO enroll_tokens (site, name, hash, hint, created_at, created_by, expires_at, max_uses, require_approval) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      tokenByHash: db.prepare(`SELECT * FROM enroll_tokens WHERE hash = ?`),
      token: db.prepare(`SELECT * FROM enroll_tokens WHERE id = ?`),
      tokens: db.prepare(`SELECT * FROM enroll_tokens ORDER BY id`),
      revokeToken: db.prepare(`UPDATE enroll_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL`),
      useToken: db.prepare(`UPDATE enroll_tokens SET uses = uses + 1 WHERE id = ?`),
      byMachineId: db.prepare(`SELECT * FROM enroll_machines WHERE machine_id = ? ORDER BY id`),
      machine: db.prepare(`SELECT * FROM enroll_machines WHERE id = ?`),
      machines: db.prepare(`SELECT * FROM enroll_machines ORDER BY id`),
      machinesOfSite: db.prepare(`SELECT * FROM enroll_machines WHERE site = ? ORDER BY id`),
      hostTaken: db.prepare(`SELECT 1 FROM enroll_machines WHERE site = ? AND host = ?`),
      insertMachine: db.prepare(
        `INSERT INTO enroll_machines (site, host, machine_id, identity, hostname, status, clone_of, token_id, address, created_at, updated_at, enrolments)
         VALUES (@site, @host, @machineId, @identity, @hostname, @status, @cloneOf, @tokenId, @address, @now, @now, @enrolments)`,
      ),
      updateMachine: db.prepare(
        `UPDATE enroll_machines SET host = @host, identity = @identity, hostname = @hostname, status = @status, token_id = @tokenId,
           address = @address, updated_at = @now, enrolments = enrolments + @issued WHERE id = @id`,
      ),
      decide: db.prepare(`UPDATE enroll_machines SET status = ?, decided_by = ?, decided_at = ?, updated_at = ? WHERE id = ? AND status IN (${"'pending', 'clone', 'rejected'"})`),
      insertLog: db.prepare(`INSERT INTO enroll_log (at, token_id, site, host, machine, hostname, address, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      trimLog: db.prepare(`DELETE FROM enroll_log WHERE id <= (SELECT max(id) FROM enroll_log) - ${LOG_MAX_ROWS}`),
      log: db.prepare(`SELECT * FROM enroll_log ORDER BY id DESC LIMIT ?`),
    };
  }

  /** Create a token; its secret is returned here only. */
  createToken(t: NewToken): EnrollTokenRow & { token: string } {
    const token = ENROLL_TOKEN_PREFIX + randomBytes(24).toString('base64url');
    const hint = token.slice(0, ENROLL_TOKEN_PREFIX.length + 4);
    const id = Number(this.stmts.insertToken.run(t.site, t.name, hashSecret(token), hint, t.now, t.createdBy, t.expiresAt, t.maxUses, t.requireApproval ? 1 : 0).lastInsertRowid);
    return { ...this.token(id)!, token };
  }

  token(id: number): EnrollTokenRow | undefined {
    const r = this.stmts.token.get(id) as TokenDb | undefined;
    return r ? tokenOf(r) : undefined;
  }

  tokenBySecret(secret: string): EnrollTokenRow | undefined {
    const r = this.stmts.tokenByHash.get(hashSecret(secret)) as TokenDb | undefined;
    return r ? tokenOf(r) : undefined;
  }

  tokens(): EnrollTokenRow[] {
    return (this.stmts.tokens.all() as TokenDb[]).map(tokenOf);
  }

  revokeToken(id: number, by: string, now: number): boolean {
    return this.stmts.revokeToken.run(now, by, id).changes === 1;
  }

  useToken(id: number): void {
    this.stmts.useToken.run(id);
  }

  machinesWithId(machineId: string): MachineRow[] {
    return (this.stmts.byMachineId.all(machineId) as MachineDb[]).map(machineOf);
  }

  machine(id: number): MachineRow | undefined {
    const r = this.stmts.machine.get(id) as MachineDb | undefined;
    return r ? machineOf(r) : undefined;
  }

  machines(site?: string): MachineRow[] {
    const rows = (site === undefined ? this.stmts.machines.all() : this.stmts.machinesOfSite.all(site)) as MachineDb[];
    return rows.map(machineOf);
  }

  hostTaken(site: string, host: string): boolean {
    return this.stmts.hostTaken.get(site, host) !== undefined;
  }

  insertMachine(m: {
    site: string;
    host: string | null;
    identity: MachineIdentity;
    hostname: string;
    status: MachineStatus;
    cloneOf: number | null;
    tokenId: number;
    address: string;
    now: number;
    issued: boolean;
  }): number {
    return Number(
      this.stmts.insertMachine.run({
        site: m.site,
        host: m.host,
        machineId: m.identity.machineId,
        identity: JSON.stringify(m.identity),
        hostname: m.hostname,
        status: m.status,
        cloneOf: m.cloneOf,
        tokenId: m.tokenId,
        address: m.address,
        now: m.now,
        enrolments: m.issued ? 1 : 0,
      }).lastInsertRowid,
    );
  }

  updateMachine(m: {
    id: number;
    host: string | null;
    identity: MachineIdentity;
    hostname: string;
    status: MachineStatus;
    tokenId: number;
    address: string;
    now: number;
    issued: boolean;
  }): void {
    this.stmts.updateMachine.run({
      id: m.id,
      host: m.host,
      identity: JSON.stringify(m.identity),
      hostname: m.hostname,
      status: m.status,
      tokenId: m.tokenId,
      address: m.address,
      now: m.now,
      issued: m.issued ? 1 : 0,
    });
  }

  /**
   * Approve (or confirm a suspected clone) / reject a waiting (or rejected) PC, recorded in
   * the log with who decided; false when it is not waiting. An approved PC gets its host
   * and credential at its next enrolment request.
   */
  decide(id: number, status: 'approved' | 'rejected', by: string, now: number): boolean {
    return this.db
      .transaction(() => {
        const m = this.machine(id);
        if (!m || this.stmts.decide.run(status, by, now, now, id).changes !== 1) return false;
        this.log({ at: now, tokenId: m.tokenId, site: m.site, host: m.host, machine: id, hostname: m.hostname, address: '', outcome: status, detail: `by ${by}` });
        return true;
      })
      .immediate();
  }

  log(e: Omit<EnrollLogRow, 'id' | 'detail'> & { detail?: string }): void {
    this.stmts.insertLog.run(e.at, e.tokenId, e.site, e.host, e.machine, e.hostname, e.address, e.outcome, e.detail ?? null);
    this.stmts.trimLog.run();
  }

  recentLog(limit: number): EnrollLogRow[] {
    return (this.stmts.log.all(limit) as Array<Record<string, unknown>>).map((r) => ({
      id: r.id as number,
      at: r.at as number,
      tokenId: r.token_id as number | null,
      site: r.site as string,
      host: r.host as string | null,
      machine: r.machine as number | null,
      hostname: r.hostname as string,
      address: r.address as string,
      outcome: r.outcome as string,
      detail: r.detail as string | null,
    }));
  }
}
