import type { SampleMetrics } from '../../contract/schemas.js';

/** What identifies a stored message (the dedup key) and when it was taken and received. */
export interface MessageKey {
  site: string;
  host: string;
  boot: string;
  seq: number;
  /** Message time after clock-skew correction where applied (epoch ms). */
  t: number;
  /** When the collector received it (collector clock). */
  received: number;
}

/** A sample as stored: the message's identity, its times, and the metrics. */
export interface SampleRow extends MessageKey {
  /** Sample time as the agent reported it. */
  tAgent: number;
  sent: number;
  skewMs: number;
  interval: number;
  metrics: SampleMetrics;
}

export interface EventRow extends MessageKey {
  type: string;
  severity: string;
  message: string;
  start?: number | undefined;
  end?: number | undefined;
  details?: Record<string, unknown> | undefined;
}

export interface InventoryRow extends MessageKey {
  hostname: string;
  data: Record<string, unknown>;
}

/** Status is not deduplicated (it carries the current sequence number, unconsumed). */
export interface StatusRow extends Omit<MessageKey, 'seq'> {
  state: 'online' | 'offline';
  hostname: string;
  agentVersion: string;
  osBoot?: number | undefined;
  keepalive?: number | undefined;
  /** Delivered by the broker as a retained message at a subscription (not as published): read late, no clock measure. */
  retained?: boolean | undefined;
}

export interface HostState {
  site: string;
  host: string;
  hostname: string;
  state: 'online' | 'offline' | 'unknown';
  stateSince: number | null;
  lastSeen: number | null;
  boot: string | null;
  osBoot: number | null;
  agentVersion: string | null;
  lastSkewMs: number | null;
  /**
   * The host's clock skew raised as a `clock_skew` event (ms, collector receive − agent send:
   * positive = the PC's clock is behind), or null while its clock is within the tolerance.
   */
  clockSkewMs: number | null;
  /** Since when (collector time) {@link clockSkewMs} holds. */
  clockSkewSince: number | null;
  firstSeen: number;
}

/** A sample as read back: the same fields as written. */
export type StoredSample = SampleRow;

export interface TimeRange {
  from: number;
  to: number;
  limit: number;
}

/**
 * The collector's embedded store (port). Synchronous by design: the embedded store is
 * SQLite in-process, and ingest acknowledges a message to the broker only after the
 * write returned (at-least-once end to end; duplicates are removed by the unique
 * (site, host, boot, seq) key). Write methods return `false` for a duplicate.
 * They throw on storage failure (disk full, I/O error): the caller must not ack.
 */
export interface Store {
  /**
   * Run `fn` in one transaction (group commit: many messages, one commit); nested calls
   * join the outer one. Throws what `fn` throws, after rolling back.
   */
  transaction<T>(fn: () => T): T;
  /**
   * `metricsJson`: the JSON text of `row.metrics` when the caller has it already (the agent's
   * own text, contract/raw-metrics.ts); otherwise the store serialises `row.metrics`.
   */
  insertSample(row: SampleRow, metricsJson?: string): boolean;
  insertEvent(row: EventRow): boolean;
  /** Record an inventory (history, deduped) and make it the host's current one if newest. */
  upsertInventory(row: InventoryRow): boolean;
  /** Apply a status (birth / Last Will); older statuses than the stored one are ignored. */
  applyStatus(row: StatusRow): boolean;
  /** Flag a host's clock skew (null: clock right again), decided by ingest's clock-skew watch; kept across restarts. */
  setClockSkew(site: string, host: string, skewMs: number | null, since: number | null): void;
  /** Mark every host offline, e.g. when the embedded broker (and so every session) restarts. */
  markAllUnknown(now: number): number;

  countSamples(): number;
  hostsOnline(): number;
  hostCount(): number;
  listHosts(site?: string): HostState[];
  getHost(site: string, host: string): HostState | undefined;
  latestSample(site: string, host: string): StoredSample | undefined;
  samples(site: string, host: string, range: TimeRange): StoredSample[];
  events(site: string, host: string | undefined, range: TimeRange): EventRow[];
  inventory(site: string, host: string): InventoryRow | undefined;
  /** Bytes used on disk (database + WAL). */
  sizeBytes(): number;
  close(): void;
}
