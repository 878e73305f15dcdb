import { join } from 'node:path';
import type { ReleaseManifest, ReleasePlatform } from '../../contract/agent-update.js';
import { migrateModule } from '../store/module-migrations.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';

/**
 * Module `agentupdate` (issue 16 item 2): the signed agent releases the collector serves
 * (files in `<dataDir>/releases/<version>/<file>`, published by `canh release publish`),
 * the one rollout in progress, what was offered to each PC (its offer seq grows by one at
 * each new offer) and each PC's last update report.
 */
const MIGRATIONS = [
  `CREATE TABLE agent_update_releases (
     version TEXT NOT NULL, platform TEXT NOT NULL, file TEXT NOT NULL, size INTEGER NOT NULL,
     sha256 TEXT NOT NULL, signature TEXT NOT NULL, key_id TEXT NOT NULL,
     published_at INTEGER NOT NULL, published_by TEXT NOT NULL,
     PRIMARY KEY (version, platform)) WITHOUT ROWID;
   CREATE TABLE agent_update_rollout (
     id INTEGER PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL, share REAL NOT NULL,
     sites TEXT NOT NULL, force INTEGER NOT NULL, started_at INTEGER NOT NULL, started_by TEXT NOT NULL);
   CREATE TABLE agent_update_offers (
     site TEXT NOT NULL, host TEXT NOT NULL, seq INTEGER NOT NULL, version TEXT NOT NULL,
     platform TEXT NOT NULL, until INTEGER, offered_at INTEGER NOT NULL,
     PRIMARY KEY (site, host)) WITHOUT ROWID;
   CREATE TABLE agent_update_reports (
     site TEXT NOT NULL, host TEXT NOT NULL, state TEXT NOT NULL, version TEXT NOT NULL,
     from_version TEXT NOT NULL, seq INTEGER NOT NULL, reason TEXT, at INTEGER NOT NULL,
     PRIMARY KEY (site, host)) WITHOUT ROWID;
   CREATE TABLE agent_update_revision (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
   INSERT INTO agent_update_revision (id, revision) VALUES (1, 0);`,
];

export interface Release {
  version: string;
  platform: ReleasePlatform;
  file: string;
  size: number;
  sha256: string;
  signature: string;
  keyId: string;
  publishedAt: number;
  publishedBy: string;
}

export interface RolloutRow {
  version: string;
  share: number;
  sites: string[];
  /** Offer during working hours too. */
  force: boolean;
  startedAt: number;
  startedBy: string;
}

export interface Offer {
  site: string;
  host: string;
  seq: number;
  version: string;
  platform: ReleasePlatform;
  until: number | null;
  offeredAt: number;
}

export interface UpdateReportRow {
  state: string;
  version: string;
  from: string;
  seq: number;
  reason: string | null;
  at: number;
}

export const releasesDir = (dataDir: string) => join(dataDir, 'releases');
export const releaseFile = (dataDir: string, version: string, file: string) => join(releasesDir(dataDir), version, file);

export function manifestOf(r: Release): ReleaseManifest {
  return { name: 'canh-agent', version: r.version, platform: r.platform, file: r.file, size: r.size, sha256: r.sha256 };
}

interface ReleaseDbRow {
  version: string;
  platform: ReleasePlatform;
  file: string;
  size: number;
  sha256: string;
  signature: string;
  key_id: string;
  published_at: number;
  published_by: string;
}
const releaseOf = (r: ReleaseDbRow): Release => ({
  version: r.version,
  platform: r.platform,
  file: r.file,
  size: r.size,
  sha256: r.sha256,
  signature: r.signature,
  keyId: r.key_id,
  publishedAt: r.published_at,
  publishedBy: r.published_by,
});

/** SQL of the agent releases and rollout; offering lives in agent-update-service.ts. */
export class AgentUpdateStore {
  private readonly s;

  constructor(readonly db: SqliteDatabase) {
    migrateModule(db, 'agentupdate', MIGRATIONS);
    this.s = {
      addRelease: db.prepare(
        `INSERT INTO agent_update_releases (version, platform, file, size, sha256, signature, key_id, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (version, platform) DO UPDATE SET file = excluded.file, size = excluded.size, sha256 = excluded.sha256, signature = excluded.signature,
           key_id = excluded.key_id, published_at = excluded.published_at, published_by = excluded.published_by`,
      ),
      releases: db.prepare(`SELECT * FROM agent_update_releases ORDER BY published_at DESC, version, platform`),
      releasesOf: db.prepare(`SELECT * FROM agent_update_releases WHERE version = ?`),
      rollout: db.prepare(`SELECT * FROM agent_update_rollout WHERE id = 1`),
      setRollout: db.prepare(
        `INSERT INTO agent_update_rollout (id, version, share, sites, force, started_at, started_by) VALUES (1, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, share = excluded.share, sites = excluded.sites, force = excluded.force,
           started_at = excluded.started_at, started_by = excluded.started_by`,
      ),
      clearRollout: db.prepare(`DELETE FROM agent_update_rollout WHERE id = 1`),
      offer: db.prepare(`SELECT * FROM agent_update_offers WHERE site = ? AND host = ?`),
      offers: db.prepare(`SELECT * FROM agent_update_offers ORDER BY site, host`),
      saveOffer: db.prepare(
        `INSERT INTO agent_update_offers (site, host, seq, version, platform, until, offered_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (site, host) DO UPDATE SET seq = excluded.seq, version = excluded.version, platform = excluded.platform, until = excluded.until, offered_at = excluded.offered_at`,
      ),
      report: db.prepare(`SELECT state, version, from_version AS "from", seq, reason, at FROM agent_update_reports WHERE site = ? AND host = ?`),
      reports: db.prepare(`SELECT site, host, state, version, from_version AS "from", seq, reason, at FROM agent_update_reports`),
      saveReport: db.prepare(
        `INSERT INTO agent_update_reports (site, host, state, version, from_version, seq, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (site, host) DO UPDATE SET state = excluded.state, version = excluded.version, from_version = excluded.from_version,
           seq = excluded.seq, reason = excluded.reason, at = excluded.at
         WHERE excluded.at >= agent_update_reports.at`,
      ),
      bump: db.prepare(`UPDATE agent_update_revision SET revision = revision + 1 WHERE id = 1`),
      revision: db.prepare(`SELECT revision FROM agent_update_revision WHERE id = 1`),
    };
  }

  /** Record a published release (its file is already in place: `canh release publish`). */
  addRelease(r: Release): void {
    this.db.transaction(() => {
      this.s.addRelease.run(r.version, r.platform, r.file, r.size, r.sha256, r.signature, r.keyId, r.publishedAt, r.publishedBy);
      this.s.bump.run();
    })();
  }

  releases(): Release[] {
    return (this.s.releases.all() as ReleaseDbRow[]).map(releaseOf);
  }

  releasesOf(version: string): Release[] {
    return (this.s.releasesOf.all(version) as ReleaseDbRow[]).map(releaseOf);
  }

  rollout(): RolloutRow | undefined {
    const r = this.s.rollout.get() as { version: string; share: number; sites: string; force: number; started_at: number; started_by: string } | undefined;
    return r ? { version: r.version, share: r.share, sites: JSON.parse(r.sites) as string[], force: r.force === 1, startedAt: r.started_at, startedBy: r.started_by } : undefined;
  }

  setRollout(r: RolloutRow): void {
    this.db.transaction(() => {
      this.s.setRollout.run(r.version, r.share, JSON.stringify(r.sites), r.force ? 1 : 0, r.startedAt, r.startedBy);
      this.s.bump.run();
    })();
  }

  clearRollout(): boolean {
    return this.db.transaction(() => {
      const n = this.s.clearRollout.run().changes;
      this.s.bump.run();
      return n > 0;
    })();
  }

  offer(site: string, host: string): Offer | undefined {
    const r = this.s.offer.get(site, host) as OfferDbRow | undefined;
    return r ? offerOf(r) : undefined;
  }

  offers(): Offer[] {
    return (this.s.offers.all() as OfferDbRow[]).map(offerOf);
  }

  saveOffer(o: Offer): void {
    this.s.saveOffer.run(o.site, o.host, o.seq, o.version, o.platform, o.until, o.offeredAt);
  }

  report(site: string, host: string): UpdateReportRow | undefined {
    return this.s.report.get(site, host) as UpdateReportRow | undefined;
  }

  reports(): Array<UpdateReportRow & { site: string; host: string }> {
    return this.s.reports.all() as Array<UpdateReportRow & { site: string; host: string }>;
  }

  /** Keep the latest report per PC (an older one replayed from an agent's backlog does not win). */
  saveReport(site: string, host: string, r: UpdateReportRow): void {
    this.s.saveReport.run(site, host, r.state, r.version, r.from, r.seq, r.reason, r.at);
  }

  revision(): number {
    return (this.s.revision.get() as { revision: number }).revision;
  }
}

interface OfferDbRow {
  site: string;
  host: string;
  seq: number;
  version: string;
  platform: ReleasePlatform;
  until: number | null;
  offered_at: number;
}
const offerOf = (r: OfferDbRow): Offer => ({ site: r.site, host: r.host, seq: r.seq, version: r.version, platform: r.platform, until: r.until, offeredAt: r.offered_at });
