import { createHash } from 'node:crypto';
import { mergeObjects } from '../../common/merge-objects.js';
import { remoteConfigProblem } from '../../contract/remote-config.js';
import { migrateModule } from '../store/module-migrations.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';

/**
 * Module `agentconfig` (issue 16 item 1). `host` '' is the whole site's settings; a host
 * row lies on top of them. `agent_config_published` is what was last published to each PC
 * (its version grows by one at every change of the PC's effective part); `revision` grows
 * at every change of the settings, by the API or the CLI, so a running collector notices
 * the CLI's changes.
 */
const MIGRATIONS = [
  `CREATE TABLE agent_config_settings (
     site TEXT NOT NULL, host TEXT NOT NULL, config TEXT NOT NULL,
     updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL,
     PRIMARY KEY (site, host)) WITHOUT ROWID;
   CREATE TABLE agent_config_published (
     site TEXT NOT NULL, host TEXT NOT NULL, version INTEGER NOT NULL, hash TEXT NOT NULL,
     config TEXT NOT NULL, published_at INTEGER NOT NULL,
     PRIMARY KEY (site, host)) WITHOUT ROWID;
   CREATE TABLE agent_config_reports (
     site TEXT NOT NULL, host TEXT NOT NULL, version INTEGER NOT NULL, hash TEXT NOT NULL,
     state TEXT NOT NULL, reason TEXT, at INTEGER NOT NULL,
     PRIMARY KEY (site, host)) WITHOUT ROWID;
   CREATE TABLE agent_config_revision (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
   INSERT INTO agent_config_revision (id, revision) VALUES (1, 0);`,
];

export type RemotePart = Record<string, unknown>;

export interface ConfigSettings {
  site: string;
  /** null: the whole site. */
  host: string | null;
  config: RemotePart;
  updatedAt: number;
  updatedBy: string;
}

export interface PublishedConfig {
  site: string;
  host: string;
  version: number;
  hash: string;
  config: RemotePart;
  publishedAt: number;
}

export interface ConfigReport {
  version: number;
  hash: string;
  state: 'applied' | 'refused';
  reason: string | null;
  at: number;
}

/** Bytes of one remote part at most (it travels in one retained MQTT message). */
export const MAX_PART_BYTES = 64 * 1024;

/** Deep merge of remote parts (objects merged, arrays and scalars replaced): the agent's own merge (common/merge-objects.ts). */
export const mergeParts = (base: RemotePart, extra: RemotePart): RemotePart => mergeObjects(base, extra);

/** JSON with object keys sorted: the same part always gives the same hash. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as RemotePart)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function partHash(part: RemotePart): string {
  return createHash('sha256').update(canonicalJson(part)).digest('hex').slice(0, 16);
}

/** Why a part cannot be stored (the agent's own validators, contract/remote-config.ts), or undefined. */
export function partProblem(part: unknown): string | undefined {
  if (typeof part !== 'object' || part === null || Array.isArray(part)) return 'the configuration must be a JSON object';
  if (Buffer.byteLength(JSON.stringify(part)) > MAX_PART_BYTES) return `the configuration is larger than ${MAX_PART_BYTES} bytes`;
  return remoteConfigProblem(part);
}

interface SettingsRow {
  site: string;
  host: string;
  config: string;
  updated_at: number;
  updated_by: string;
}
interface PublishedRow {
  site: string;
  host: string;
  version: number;
  hash: string;
  config: string;
  published_at: number;
}

const settingsOf = (r: SettingsRow): ConfigSettings => ({
  site: r.site,
  host: r.host === '' ? null : r.host,
  config: JSON.parse(r.config) as RemotePart,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});
const publishedOf = (r: PublishedRow): PublishedConfig => ({
  site: r.site,
  host: r.host,
  version: r.version,
  hash: r.hash,
  config: JSON.parse(r.config) as RemotePart,
  publishedAt: r.published_at,
});

/** SQL of the remote agent configuration; publishing lives in agent-config-service.ts. */
export class AgentConfigStore {
  private readonly stmts;

  constructor(readonly db: SqliteDatabase) {
    migrateModule(db, 'agentconfig', MIGRATIONS);
    this.stmts = {
      upsert: db.prepare(
        `INSERT INTO agent_config_settings (site, host, config, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (site, host) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      ),
      remove: db.prepare(`DELETE FROM agent_config_settings WHERE site = ? AND host = ?`),
      one: db.prepare(`SELECT * FROM agent_config_settings WHERE site = ? AND host = ?`),
      all: db.prepare(`SELECT * FROM agent_config_settings ORDER BY site, host`),
      bump: db.prepare(`UPDATE agent_config_revision SET revision = revision + 1 WHERE id = 1`),
      revision: db.prepare(`SELECT revision FROM agent_config_revision WHERE id = 1`),
      published: db.prepare(`SELECT * FROM agent_config_published WHERE site = ? AND host = ?`),
      allPublished: db.prepare(`SELECT * FROM agent_config_published ORDER BY site, host`),
      publish: db.prepare(
        `INSERT INTO agent_config_published (site, host, version, hash, config, published_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (site, host) DO UPDATE SET version = excluded.version, hash = excluded.hash, config = excluded.config, published_at = excluded.published_at`,
      ),
      report: db.prepare(`SELECT version, hash, state, reason, at FROM agent_config_reports WHERE site = ? AND host = ?`),
      saveReport: db.prepare(
        `INSERT INTO agent_config_reports (site, host, version, hash, state, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (site, host) DO UPDATE SET version = excluded.version, hash = excluded.hash, state = excluded.state, reason = excluded.reason, at = excluded.at
         WHERE excluded.at >= agent_config_reports.at`,
      ),
    };
  }

  /** Store the settings of a site (host null) or a PC; the caller validated them (partProblem). */
  set(site: string, host: string | null, config: RemotePart, by: string, now: number): ConfigSettings {
    this.db.transaction(() => {
      this.stmts.upsert.run(site, host ?? '', JSON.stringify(config), now, by);
      this.stmts.bump.run();
    })();
    return this.get(site, host)!;
  }

  /** Remove them; false when there were none. */
  clear(site: string, host: string | null): boolean {
    return this.db.transaction(() => {
      const n = this.stmts.remove.run(site, host ?? '').changes;
      if (n > 0) this.stmts.bump.run();
      return n > 0;
    })();
  }

  get(site: string, host: string | null): ConfigSettings | undefined {
    const r = this.stmts.one.get(site, host ?? '') as SettingsRow | undefined;
    return r ? settingsOf(r) : undefined;
  }

  all(): ConfigSettings[] {
    return (this.stmts.all.all() as SettingsRow[]).map(settingsOf);
  }

  /** The PC's effective part: the site's settings with its own on top. */
  effective(site: string, host: string): RemotePart {
    return mergeParts(this.get(site, null)?.config ?? {}, this.get(site, host)?.config ?? {});
  }

  revision(): number {
    return (this.stmts.revision.get() as { revision: number }).revision;
  }

  published(site: string, host: string): PublishedConfig | undefined {
    const r = this.stmts.published.get(site, host) as PublishedRow | undefined;
    return r ? publishedOf(r) : undefined;
  }

  allPublished(): PublishedConfig[] {
    return (this.stmts.allPublished.all() as PublishedRow[]).map(publishedOf);
  }

  savePublished(p: PublishedConfig): void {
    this.stmts.publish.run(p.site, p.host, p.version, p.hash, JSON.stringify(p.config), p.publishedAt);
  }

  report(site: string, host: string): ConfigReport | undefined {
    return this.stmts.report.get(site, host) as ConfigReport | undefined;
  }

  /** Keep the latest report per PC (an older one replayed from an agent's backlog does not win). */
  saveReport(site: string, host: string, r: ConfigReport): void {
    this.stmts.saveReport.run(site, host, r.version, r.hash, r.state, r.reason, r.at);
  }
}
