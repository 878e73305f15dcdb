import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { EventRow, HostState, InventoryRow, SampleRow, StatusRow, Store, StoredSample, TimeRange } from './store.js';

export type SqliteDatabase = Database.Database;

export interface OpenDatabaseOptions {
  /**
   * `normal` (default): with WAL a commit survives a crash of the process (kill -9) and
   * costs no fsync; a power cut of the collector's PC may roll back the last commits
   * since the previous checkpoint, messages the agents already consider delivered.
   * `full`: fsync at every commit, so a power cut loses nothing acknowledged.
   */
  synchronous?: 'normal' | 'full';
  /** Page cache of this connection, MiB (config `store.cacheMiB`; default better-sqlite3's 16). */
  cacheMiB?: number;
}

/** Open (creating folders) a SQLite database tuned for an ingest-heavy collector. */
export function openDatabase(file: string, opts: OpenDatabaseOptions = {}): SqliteDatabase {
  if (file !== ':memory:') {
    // The store holds credential hashes: owner-only folder and file.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  }
  const created = file !== ':memory:' && !existsSync(file);
  const db = new Database(file);
  if (created) chmodSync(file, 0o600);
  // WAL: readers never block the writer.
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  if (opts.cacheMiB !== undefined) setCacheSize(db, opts.cacheMiB);
  // Every write transaction in Canh is BEGIN IMMEDIATE (`.immediate()`): with WAL and a
  // second writer (the store worker, a CLI command), a deferred transaction that read
  // first fails with SQLITE_BUSY when it upgrades after the other's commit, without waiting.
  db.pragma('foreign_keys = ON');
  return db;
}

/** The connection's page cache, MiB (a negative `cache_size` is KiB). */
export function setCacheSize(db: SqliteDatabase, mib: number): void {
  db.pragma(`cache_size = -${Math.round(mib * 1024)}`);
}

const MIGRATIONS: string[] = [
  `CREATE TABLE hosts (
     site TEXT NOT NULL, host TEXT NOT NULL, hostname TEXT NOT NULL DEFAULT '',
     state TEXT NOT NULL DEFAULT 'unknown', state_since INTEGER, status_t INTEGER,
     last_seen INTEGER, boot TEXT, os_boot INTEGER, agent_version TEXT, last_skew_ms INTEGER,
     first_seen INTEGER NOT NULL,
     PRIMARY KEY (site, host)) WITHOUT ROWID;
   CREATE TABLE samples (
     id INTEGER PRIMARY KEY, site TEXT NOT NULL, host TEXT NOT NULL, boot TEXT NOT NULL, seq INTEGER NOT NULL,
     t INTEGER NOT NULL, t_agent INTEGER NOT NULL, sent INTEGER NOT NULL, received INTEGER NOT NULL,
     skew_ms INTEGER NOT NULL, interval REAL NOT NULL, cpu_usage REAL, mem_used_pct REAL, metrics TEXT NOT NULL);
   CREATE UNIQUE INDEX samples_dedup ON samples (site, host, boot, seq);
   CREATE INDEX samples_host_time ON samples (site, host, t);
   CREATE TABLE events (
     id INTEGER PRIMARY KEY, site TEXT NOT NULL, host TEXT NOT NULL, boot TEXT NOT NULL, seq INTEGER NOT NULL,
     t INTEGER NOT NULL, received INTEGER NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL,
     start INTEGER, "end" INTEGER, details TEXT);
   CREATE UNIQUE INDEX events_dedup ON events (site, host, boot, seq);
   CREATE INDEX events_site_time ON events (site, t);
   CREATE TABLE inventory (
     site TEXT NOT NULL, host TEXT NOT NULL, boot TEXT NOT NULL, seq INTEGER NOT NULL, t INTEGER NOT NULL,
     received INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (site, host)) WITHOUT ROWID;`,
  // Inventory history: every inventory message once (dedup key as samples), so hardware
  // changes (a RAM upgrade, a replaced disk) stay on record for the monthly report.
  `CREATE TABLE inventory_history (
     id INTEGER PRIMARY KEY, site TEXT NOT NULL, host TEXT NOT NULL, boot TEXT NOT NULL, seq INTEGER NOT NULL,
     t INTEGER NOT NULL, received INTEGER NOT NULL, data TEXT NOT NULL);
   CREATE UNIQUE INDEX inventory_history_dedup ON inventory_history (site, host, boot, seq);`,
  // Issue 13: the clock skew raised as a `clock_skew` event, so a restart does not raise it again.
  `ALTER TABLE hosts ADD COLUMN clock_skew_ms INTEGER;
   ALTER TABLE hosts ADD COLUMN clock_skew_since INTEGER;`,
];

function migrate(db: SqliteDatabase): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

interface SampleDbRow {
  site: string;
  host: string;
  boot: string;
  seq: number;
  t: number;
  t_agent: number;
  sent: number;
  received: number;
  skew_ms: number;
  interval: number;
  metrics: string;
}

interface HostDbRow {
  site: string;
  host: string;
  hostname: string;
  state: 'online' | 'offline' | 'unknown';
  state_since: number | null;
  last_seen: number | null;
  boot: string | null;
  os_boot: number | null;
  agent_version: string | null;
  last_skew_ms: number | null;
  clock_skew_ms: number | null;
  clock_skew_since: number | null;
  first_seen: number;
}

function toSample(r: SampleDbRow): StoredSample {
  return {
    site: r.site,
    host: r.host,
    boot: r.boot,
    seq: r.seq,
    t: r.t,
    tAgent: r.t_agent,
    sent: r.sent,
    received: r.received,
    skewMs: r.skew_ms,
    interval: r.interval,
    metrics: JSON.parse(r.metrics) as StoredSample['metrics'],
  };
}

function toHost(r: HostDbRow): HostState {
  return {
    site: r.site,
    host: r.host,
    hostname: r.hostname,
    state: r.state,
    stateSince: r.state_since,
    lastSeen: r.last_seen,
    boot: r.boot,
    osBoot: r.os_boot,
    agentVersion: r.agent_version,
    lastSkewMs: r.last_skew_ms,
    clockSkewMs: r.clock_skew_ms ?? null,
    clockSkewSince: r.clock_skew_since ?? null,
    firstSeen: r.first_seen,
  };
}

/** The default embedded store: SQLite through better-sqlite3. */
export class SqliteStore implements Store {
  private readonly stmts;
  private sampleCount: number;
  /** Sample row and host last-seen in one transaction: one commit per sample, not two. */
  private readonly insertSampleTx: (row: SampleRow, metricsJson: string | undefined) => boolean;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly file: string,
  ) {
    migrate(db);
    this.stmts = {
      insertSample: db.prepare(
        `INSERT OR IGNORE INTO samples (site, host, boot, seq, t, t_agent, sent, received, skew_ms, interval, cpu_usage, mem_used_pct, metrics)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      touchHost: db.prepare(
        `INSERT INTO hosts (site, host, last_seen, last_skew_ms, first_seen) VALUES (@site, @host, @received, @skewMs, @received)
         ON CONFLICT (site, host) DO UPDATE SET last_seen = max(coalesce(last_seen, 0), excluded.last_seen), last_skew_ms = excluded.last_skew_ms`,
      ),
      insertEvent: db.prepare(
        `INSERT OR IGNORE INTO events (site, host, boot, seq, t, received, type, severity, message, start, "end", details)
         VALUES (@site, @host, @boot, @seq, @t, @received, @type, @severity, @message, @start, @end, @details)`,
      ),
      upsertInventory: db.prepare(
        `INSERT INTO inventory (site, host, boot, seq, t, received, data) VALUES (@site, @host, @boot, @seq, @t, @received, @data)
         ON CONFLICT (site, host) DO UPDATE SET boot = excluded.boot, seq = excluded.seq, t = excluded.t, received = excluded.received, data = excluded.data
         WHERE excluded.t >= inventory.t AND NOT (excluded.boot = inventory.boot AND excluded.seq = inventory.seq)`,
      ),
      inventoryHistory: db.prepare(`INSERT OR IGNORE INTO inventory_history (site, host, boot, seq, t, received, data) VALUES (@site, @host, @boot, @seq, @t, @received, @data)`),
      inventoryHostname: db.prepare(
        `INSERT INTO hosts (site, host, hostname, first_seen) VALUES (@site, @host, @hostname, @received)
         ON CONFLICT (site, host) DO UPDATE SET hostname = excluded.hostname`,
      ),
      applyStatus: db.prepare(
        `INSERT INTO hosts (site, host, hostname, state, state_since, status_t, last_seen, boot, os_boot, agent_version, first_seen)
         VALUES (@site, @host, @hostname, @state, @received, @t, @received, @boot, @osBoot, @agentVersion, @received)
         ON CONFLICT (site, host) DO UPDATE SET
           hostname = excluded.hostname,
           state_since = CASE WHEN hosts.state = excluded.state THEN hosts.state_since ELSE excluded.state_since END,
           state = excluded.state, status_t = excluded.status_t,
           last_seen = max(coalesce(hosts.last_seen, 0), excluded.last_seen),
           boot = excluded.boot, os_boot = coalesce(excluded.os_boot, hosts.os_boot), agent_version = excluded.agent_version
         -- A Last Will carries its session's connect time, which is older than that session's
         -- birth message, so within one agent boot "offline" always applies; across boots
         -- the newer status wins.
         WHERE hosts.status_t IS NULL OR excluded.status_t >= hosts.status_t
            OR (excluded.boot = hosts.boot AND excluded.state = 'offline')`,
      ),
      setClockSkew: db.prepare(`UPDATE hosts SET clock_skew_ms = @skewMs, clock_skew_since = @since WHERE site = @site AND host = @host`),
      insertSkewedHost: db.prepare(`INSERT OR IGNORE INTO hosts (site, host, clock_skew_ms, clock_skew_since, first_seen) VALUES (@site, @host, @skewMs, @since, @since)`),
      markAllUnknown: db.prepare(`UPDATE hosts SET state = 'unknown', state_since = ? WHERE state = 'online'`),
      countSamples: db.prepare(`SELECT count(*) AS n FROM samples`),
      hostsOnline: db.prepare(`SELECT count(*) AS n FROM hosts WHERE state = 'online'`),
      hostCount: db.prepare(`SELECT count(*) AS n FROM hosts`),
      listHosts: db.prepare(`SELECT * FROM hosts ORDER BY site, host`),
      listSiteHosts: db.prepare(`SELECT * FROM hosts WHERE site = ? ORDER BY host`),
      getHost: db.prepare(`SELECT * FROM hosts WHERE site = ? AND host = ?`),
      latestSample: db.prepare(`SELECT * FROM samples WHERE site = ? AND host = ? ORDER BY t DESC LIMIT 1`),
      samples: db.prepare(`SELECT * FROM samples WHERE site = ? AND host = ? AND t >= ? AND t < ? ORDER BY t ASC, seq ASC LIMIT ?`),
      hostEvents: db.prepare(`SELECT * FROM events WHERE site = ? AND host = ? AND t >= ? AND t < ? ORDER BY t ASC LIMIT ?`),
      siteEvents: db.prepare(`SELECT * FROM events WHERE site = ? AND t >= ? AND t < ? ORDER BY t ASC LIMIT ?`),
      inventory: db.prepare(`SELECT * FROM inventory WHERE site = ? AND host = ?`),
    };
    this.sampleCount = (this.stmts.countSamples.get() as { n: number }).n;
    this.insertSampleTx = db.transaction((row: SampleRow, metricsJson: string | undefined) => this.insertSampleRow(row, metricsJson));
  }

  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    // IMMEDIATE: take the write lock first (waiting up to busy_timeout for the history
    // worker or a CLI), never fail an upgrade half-way through a group commit.
    return this.db
      .transaction(() => {
        this.touches = new Map();
        try {
          const r = fn();
          this.flushTouches();
          return r;
        } finally {
          this.touches = undefined;
        }
      })
      .immediate();
  }

  /**
   * Inside `transaction()` (a group commit) a host's last-seen is written once per commit,
   * not once per sample: a batch of 1,000 samples of 200 hosts makes 200 updates, not 1,000.
   */
  private touches: Map<string, { site: string; host: string; received: number; skewMs: number | null }> | undefined;

  private touchHost(site: string, host: string, received: number, skewMs: number | null): void {
    if (!this.touches) {
      this.stmts.touchHost.run({ site, host, received, skewMs });
      return;
    }
    const key = `${site}\u0000${host}`;
    const t = this.touches.get(key);
    if (!t) this.touches.set(key, { site, host, received, skewMs });
    else {
      t.received = Math.max(t.received, received);
      t.skewMs = skewMs; // the latest sample's, as row by row
    }
  }

  private flushTouches(): void {
    for (const t of this.touches!.values()) this.stmts.touchHost.run(t);
  }

  insertSample(row: SampleRow, metricsJson?: string): boolean {
    // Inside a group commit the outer transaction covers the row and the host's last-seen.
    return this.db.inTransaction ? this.insertSampleRow(row, metricsJson) : this.insertSampleTx(row, metricsJson);
  }

  private insertSampleRow(row: SampleRow, metricsJson: string | undefined): boolean {
    const m = row.metrics;
    const cpuUsage = m.cpu && 'usage' in m.cpu ? m.cpu.usage : null;
    const memUsedPct = m.mem && 'total' in m.mem && m.mem.total > 0 ? (100 * m.mem.used) / m.mem.total : null;
    // Positional parameters, in the column order of the statement: the hottest statement of
    // the collector, and binding by name costs a lookup per parameter and an object per row.
    const res = this.stmts.insertSample.run(
      row.site,
      row.host,
      row.boot,
      row.seq,
      row.t,
      row.tAgent,
      row.sent,
      row.received,
      row.skewMs,
      row.interval,
      cpuUsage,
      memUsedPct,
      metricsJson ?? JSON.stringify(m),
    );
    this.touchHost(row.site, row.host, row.received, row.skewMs);
    if (res.changes === 1) this.sampleCount++;
    return res.changes === 1;
  }

  insertEvent(row: EventRow): boolean {
    const res = this.stmts.insertEvent.run({
      ...row,
      start: row.start ?? null,
      end: row.end ?? null,
      details: row.details ? JSON.stringify(row.details) : null,
    });
    return res.changes === 1;
  }

  upsertInventory(row: InventoryRow): boolean {
    const params = {
      site: row.site,
      host: row.host,
      boot: row.boot,
      seq: row.seq,
      t: row.t,
      received: row.received,
      data: JSON.stringify(row.data),
    };
    const fresh = this.stmts.inventoryHistory.run(params).changes === 1;
    if (!fresh) return false;
    // Latest-wins view: an older inventory replayed late must not replace a newer one.
    if (this.stmts.upsertInventory.run(params).changes === 1) {
      this.stmts.inventoryHostname.run({ site: row.site, host: row.host, hostname: row.hostname, received: row.received });
    }
    return true;
  }

  applyStatus(row: StatusRow): boolean {
    const res = this.stmts.applyStatus.run({
      site: row.site,
      host: row.host,
      hostname: row.hostname,
      state: row.state,
      received: row.received,
      t: row.t,
      boot: row.boot,
      osBoot: row.osBoot ?? null,
      agentVersion: row.agentVersion,
    });
    return res.changes === 1;
  }

  setClockSkew(site: string, host: string, skewMs: number | null, since: number | null): void {
    const params = { site, host, skewMs: skewMs === null ? null : Math.round(skewMs), since };
    // A host is known by then (its first message created it); if not, only a raised skew needs a row.
    if (this.stmts.setClockSkew.run(params).changes === 0 && since !== null) this.stmts.insertSkewedHost.run(params);
  }

  markAllUnknown(now: number): number {
    return this.stmts.markAllUnknown.run(now).changes;
  }

  countSamples(): number {
    return this.sampleCount;
  }

  hostsOnline(): number {
    return (this.stmts.hostsOnline.get() as { n: number }).n;
  }

  hostCount(): number {
    return (this.stmts.hostCount.get() as { n: number }).n;
  }

  listHosts(site?: string): HostState[] {
    const rows = (site === undefined ? this.stmts.listHosts.all() : this.stmts.listSiteHosts.all(site)) as HostDbRow[];
    return rows.map(toHost);
  }

  getHost(site: string, host: string): HostState | undefined {
    const r = this.stmts.getHost.get(site, host) as HostDbRow | undefined;
    return r ? toHost(r) : undefined;
  }

  latestSample(site: string, host: string): StoredSample | undefined {
    const r = this.stmts.latestSample.get(site, host) as SampleDbRow | undefined;
    return r ? toSample(r) : undefined;
  }

  samples(site: string, host: string, range: TimeRange): StoredSample[] {
    return (this.stmts.samples.all(site, host, range.from, range.to, range.limit) as SampleDbRow[]).map(toSample);
  }

  events(site: string, host: string | undefined, range: TimeRange): EventRow[] {
    const rows = (
      host === undefined ? this.stmts.siteEvents.all(site, range.from, range.to, range.limit) : this.stmts.hostEvents.all(site, host, range.from, range.to, range.limit)
    ) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      site: r.site as string,
      host: r.host as string,
      boot: r.boot as string,
      seq: r.seq as number,
      t: r.t as number,
      received: r.received as number,
      type: r.type as string,
      severity: r.severity as string,
      message: r.message as string,
      start: (r.start as number | null) ?? undefined,
      end: (r.end as number | null) ?? undefined,
      details: r.details ? (JSON.parse(r.details as string) as Record<string, unknown>) : undefined,
    }));
  }

  inventory(site: string, host: string): InventoryRow | undefined {
    const r = this.stmts.inventory.get(site, host) as (Omit<InventoryRow, 'data' | 'hostname'> & { data: string }) | undefined;
    if (!r) return undefined;
    const data = JSON.parse(r.data) as Record<string, unknown>;
    return { ...r, data, hostname: typeof data.hostname === 'string' ? data.hostname : '' };
  }

  sizeBytes(): number {
    if (this.file === ':memory:') return 0;
    let total = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        total += statSync(f).size;
      } catch {
        /* absent WAL is fine */
      }
    }
    return total;
  }

  close(): void {
    this.db.close();
  }
}
