import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { RateLimitedLog } from '../../common/log.js';
import { correctSkew, decodeMessage, decodeMessages, REJECT_REASONS, type Decoded, type RejectReason } from '../../contract/decode.js';
import { SKEW_TOLERANCE_MS } from '../../contract/limits.js';
import { parseTopic } from '../../contract/topics.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';
import type { SampleMetrics } from '../../contract/schemas.js';
import type { EventRow, InventoryRow, SampleRow, StatusRow, Store } from '../store/store.js';
import { CLOCK_SKEW_EVENT_TYPE, COLLECTOR_EVENT_BOOT_PREFIX, observeSkew, skewMessage, skewRules, type SkewRules, type SkewState } from './clock-skew.js';

/**
 * A clock found wrong this soon after the OS started is a clock lost at power-up (a flat
 * CMOS battery): the monthly report lists those PCs (`details.afterBoot`).
 */
export const SKEW_AFTER_BOOT_MS = 60 * 60_000;

/** Which outbox record of which agent a message was (for the end-to-end ack, contract/ack.ts). */
export interface AckKey {
  site: string;
  host: string;
  boot: string;
  seq: number;
}

export type IngestOutcome =
  | { status: 'accepted'; kind: string; ack?: AckKey | undefined }
  | { status: 'duplicate'; kind: string; ack?: AckKey | undefined }
  | { status: 'rejected'; reason: RejectReason; detail: string; ack?: AckKey | undefined };

/** An outcome of {@link Ingest.store}: what to ack, and what to tell the listeners after the commit. */
export type StoreOutcome = IngestOutcome & {
  stored?: StoredMessage | undefined;
  /** A `clock_skew` host event the collector raised on this message (stored in the same transaction). */
  raised?: StoredMessage | undefined;
};

/** Thrown when the store cannot take a message (disk full, I/O error): do not ack it. */
export class StoreUnavailableError extends Error {
  readonly retriable = true;
  constructor(cause: unknown) {
    super(`store write failed: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'StoreUnavailableError';
    this.cause = cause;
  }
}

/** A message that was stored for the first time (never a replayed duplicate). */
export type StoredMessage = { kind: 'samples'; row: SampleRow } | { kind: 'events'; row: EventRow } | { kind: 'inventory'; row: InventoryRow } | { kind: 'status'; row: StatusRow };

export interface IngestDeps {
  store: Store;
  /**
   * Called after a message was stored for the first time (exports such as the InfluxDB
   * writer). Must not throw and must not block: exports queue and spool on their own.
   */
  onStored?: ((msg: StoredMessage) => void) | undefined;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  skewToleranceMs?: number;
  /** Observations needed to enter/change/leave clock skew (default 2: one late message is not a wrong clock). */
  skewConfirm?: number;
}

/** What ingest keeps per host for the clock-skew watch. */
interface HostClock {
  skew: SkewState;
  /** Collector-time OS boot of the host, as last reported (corrected), when known. */
  osBootAt?: number | undefined;
}

/**
 * Decode → validate → dedup → store, for one MQTT message. `store()` is the step the group
 * commit (group-commit.ts) runs inside its transaction: it returns what to acknowledge to
 * the agent and what to tell the listeners once the transaction committed. `handle()` does
 * both at once for one message (tests, tools). Bad input is counted per reason and logged
 * at a limited rate; it never throws. Only a storage failure throws ({@link StoreUnavailableError}).
 */
export class Ingest {
  private readonly accepted: Counter;
  private readonly duplicates: Counter;
  private readonly rejected: Counter;
  private readonly storeErrors: Counter;
  private readonly skewCorrected: Counter;
  private readonly badLog: RateLimitedLog;
  private readonly tolerance: number;
  private readonly skewRules: SkewRules;
  private readonly skewEvents: Counter;
  private readonly batchRecords: Counter;
  private readonly batchMessages: Counter;
  /** Per host (`site/host`): loaded from the store at first sight, so bounded by the enrolled hosts. */
  private readonly clocks = new Map<string, HostClock>();
  /** Boot and seq of the collector's own host events (dedup key; never an agent's boot). */
  private readonly eventBoot = `${COLLECTOR_EVENT_BOOT_PREFIX}${randomUUID()}`;
  private eventSeq = 0;

  constructor(private readonly deps: IngestDeps) {
    const m = deps.metrics;
    this.accepted = m.counter('canh_ingest_accepted_total', 'Messages accepted and stored, by kind.');
    this.duplicates = m.counter('canh_ingest_duplicates_total', 'Messages already stored (replays), by kind.');
    this.rejected = m.counter('canh_ingest_rejected_total', 'Messages rejected, by reason.');
    this.storeErrors = m.counter('canh_ingest_store_errors_total', 'Messages not stored because the store failed (not acked; the agent retries).');
    this.skewCorrected = m.counter('canh_ingest_clock_skew_corrected_total', 'Messages whose agent clock was off by more than the tolerance and was corrected.');
    for (const reason of REJECT_REASONS) this.rejected.inc({ reason }, 0);
    this.badLog = new RateLimitedLog(deps.log, 10_000, () => deps.clock.now());
    this.skewEvents = m.counter('canh_ingest_clock_skew_events_total', 'clock_skew host events raised, by change (entered, changed, resolved).');
    this.batchMessages = m.counter('canh_ingest_batch_messages_total', 'Batch messages received (several outbox records per MQTT message, contract/decode.ts).');
    this.batchRecords = m.counter('canh_ingest_batch_records_total', 'Records received in batch messages.');
    this.tolerance = deps.skewToleranceMs ?? SKEW_TOLERANCE_MS;
    this.skewRules = skewRules(this.tolerance, deps.skewConfirm);
  }

  /** Count a rejection decided outside the decoder (e.g. the broker's identity check). */
  reject(reason: RejectReason, detail: string, context: Record<string, unknown> = {}): IngestOutcome {
    this.rejected.inc({ reason });
    this.badLog.warn(`reject:${reason}`, { reason, detail, ...context }, 'message rejected');
    return { status: 'rejected', reason, detail };
  }

  /** Store one message in a transaction of its own and tell the listeners (tests, tools). */
  handle(topic: string, payload: Uint8Array, context: Record<string, unknown> = {}): IngestOutcome {
    let out: StoreOutcome;
    try {
      out = this.deps.store.transaction(() => this.store(topic, payload, context));
    } catch (err) {
      this.rolledBack();
      throw err;
    }
    if (out.stored) this.emitStored(out.stored);
    if (out.raised) this.emitStored(out.raised);
    const { stored: _stored, raised: _raised, ...outcome } = out;
    return outcome;
  }

  /** Store every record of one message (one or a batch) in a transaction of its own and tell the listeners (tests, tools). */
  handleAll(topic: string, payload: Uint8Array, context: Record<string, unknown> = {}): IngestOutcome[] {
    let outs: StoreOutcome[];
    try {
      outs = this.deps.store.transaction(() => this.storeAll(topic, payload, context));
    } catch (err) {
      this.rolledBack();
      throw err;
    }
    return outs.map(({ stored, raised, ...outcome }) => {
      if (stored) this.emitStored(stored);
      if (raised) this.emitStored(raised);
      return outcome;
    });
  }

  /**
   * The transaction that ran {@link store} rolled back: forget the in-memory clock-skew state
   * (it is reloaded from the store), so a skew event that was not committed is raised again.
   */
  rolledBack(): void {
    this.clocks.clear();
  }

  /** Tell the listeners (exports, outages, alerting, live board) about a committed message. */
  emitStored(stored: StoredMessage): void {
    if (!this.deps.onStored) return;
    try {
      this.deps.onStored(stored);
    } catch (err) {
      this.badLog.warn('export_error', { err: (err as Error).message }, 'export hook failed (message is stored)');
    }
  }

  /**
   * Decode, validate and write every record of one message (one, or a batch: contract/decode.ts
   * `decodeMessages`); call inside the store's transaction. One outcome per record, each
   * acked, rejected and deduplicated alone; a malformed batch envelope is one rejection.
   */
  storeAll(topic: string, payload: Uint8Array, context: Record<string, unknown> = {}): StoreOutcome[] {
    let decoded: ReturnType<typeof decodeMessages>;
    try {
      decoded = decodeMessages(topic, payload);
    } catch (err) {
      return [this.reject('schema', `decoder error: ${(err as Error)?.name ?? 'unknown'}`, { ...context, bytes: payload.byteLength })];
    }
    if (!decoded.ok) return [this.rejectMessage(decoded.reason, decoded.detail, topic, payload, context)];
    if (!decoded.batch) {
      const only = decoded.records[0]!;
      return [only.ok ? this.storeDecoded(only, context.retained === true) : this.rejectMessage(only.reason, only.detail, topic, payload, context)];
    }
    this.batchMessages.inc();
    this.batchRecords.inc({}, decoded.records.length);
    const out: StoreOutcome[] = [];
    let index = 0;
    for (const r of decoded.records) {
      if (r.ok) out.push(this.storeDecoded(r, context.retained === true));
      else {
        const o = this.reject(r.reason, r.detail, { ...context, batchIndex: index, bytes: payload.byteLength });
        const parsed = r.key && ACKED_REJECTIONS.has(r.reason) ? parseTopic(topic) : undefined;
        out.push(parsed && r.key ? { ...o, ack: { site: parsed.site, host: parsed.host, ...r.key } } : o);
      }
      index++;
    }
    return out;
  }

  /**
   * Decode, validate and write one single-record message; call inside the store's transaction.
   * Listeners are not called: the caller does that after the commit ({@link emitStored}).
   */
  store(topic: string, payload: Uint8Array, context: Record<string, unknown> = {}): StoreOutcome {
    let decoded: ReturnType<typeof decodeMessage>;
    try {
      decoded = decodeMessage(topic, payload);
    } catch (err) {
      // The decoder is written not to throw; if untrusted input still finds a way, it is
      // that input's fault: count and drop it rather than failing the connection.
      return this.reject('schema', `decoder error: ${(err as Error)?.name ?? 'unknown'}`, { ...context, bytes: payload.byteLength });
    }
    if (!decoded.ok) return this.rejectMessage(decoded.reason, decoded.detail, topic, payload, context);
    return this.storeDecoded(decoded, context.retained === true);
  }

  private rejectMessage(reason: RejectReason, detail: string, topic: string, payload: Uint8Array, context: Record<string, unknown>): StoreOutcome {
    const out = this.reject(reason, detail, { ...context, topicLength: topic.length, bytes: payload.byteLength });
    // A message that can never be stored is acked as rejected when we can tell which
    // record it was, so it cannot block the agent's window for ever. A newer contract
    // version is not: a newer collector may store it, so the agent keeps it.
    if (ACKED_REJECTIONS.has(reason)) {
      const key = rejectedAckKey(topic, payload);
      if (key) return { ...out, ack: key };
    }
    return out;
  }

  /**
   * Write one validated record (dedup by boot and seq); throws {@link StoreUnavailableError} when the store fails.
   * `retained`: the broker delivered a retained message because the collector subscribed
   * (its start, a status re-read), not as it was published: sent long ago, so no measure of
   * the agent's clock.
   */
  private storeDecoded(decoded: Decoded, retained = false): StoreOutcome {
    const received = this.deps.clock.now();
    const { store } = this.deps;
    let fresh: boolean;
    let stored: StoredMessage;
    /** This message's measure of the agent clock (receive − send), when it is one. */
    let observed: number | undefined;
    let clock: HostClock | undefined;
    let raised: StoredMessage | undefined;
    try {
      switch (decoded.kind) {
        case 'samples': {
          const m = decoded.message;
          const skew = correctSkew(m.t, m.sent, received, this.tolerance);
          if (skew.corrected) this.skewCorrected.inc();
          const shift = skew.corrected ? skew.skewMs : 0;
          const up = m.metrics.uptime;
          clock = this.clockOf(m.site, m.host);
          if (up && 'seconds' in up) clock.osBootAt = received - up.seconds * 1000;
          observed = skew.skewMs;
          const row: SampleRow = {
            site: m.site,
            host: m.host,
            boot: m.boot,
            seq: m.seq,
            t: skew.t,
            tAgent: m.t,
            sent: m.sent,
            received,
            skewMs: skew.skewMs,
            interval: m.interval,
            metrics: shiftMetrics(m.metrics, shift),
          };
          // The agent's own text of the metrics when it is exactly what is stored (not shifted).
          fresh = store.insertSample(row, shift === 0 ? decoded.metricsJson : undefined);
          stored = { kind: 'samples', row };
          break;
        }
        case 'events': {
          const m = decoded.message;
          const skew = correctSkew(m.t, m.sent, received, this.tolerance);
          const shift = skew.corrected ? skew.skewMs : 0;
          if (skew.corrected) this.skewCorrected.inc();
          observed = skew.skewMs;
          const row: EventRow = {
            site: m.site,
            host: m.host,
            boot: m.boot,
            seq: m.seq,
            t: skew.t,
            received,
            type: m.type,
            severity: m.severity,
            message: m.message,
            start: m.start === undefined ? undefined : m.start + shift,
            end: m.end === undefined ? undefined : m.end + shift,
            // A freeze's process list and a disk_health check's disks are kept with the details
            // (the board, the rules and the report read them there).
            details: m.processes || m.disks ? { ...m.details, ...(m.processes ? { processes: m.processes } : {}), ...(m.disks ? { disks: m.disks } : {}) } : m.details,
          };
          fresh = store.insertEvent(row);
          stored = { kind: 'events', row };
          break;
        }
        case 'inventory': {
          const m = decoded.message;
          const { v: _v, site, host, boot, seq, t, sent, ...data } = m;
          const skew = correctSkew(t, sent, received, this.tolerance);
          if (skew.corrected) this.skewCorrected.inc();
          observed = skew.skewMs;
          const row: InventoryRow = { site, host, boot, seq, t: skew.t, received, hostname: m.hostname, data };
          fresh = store.upsertInventory(row);
          stored = { kind: 'inventory', row };
          break;
        }
        case 'status': {
          const m = decoded.message;
          clock = this.clockOf(m.site, m.host);
          // A birth is sent at connect: its send time measures the clock. A Last Will is
          // published by the broker long after the agent stamped it (at connect): it is no
          // measure, and takes the skew the host is flagged with. Nor is a retained birth the
          // broker hands over at a (re)subscription: read 40 minutes after a collector
          // outage it made every PC's clock look 40 minutes slow.
          let shift: number;
          if (m.state === 'online' && !retained) {
            const skew = correctSkew(m.t, m.sent, received, this.tolerance);
            shift = skew.corrected ? skew.skewMs : 0;
            observed = skew.skewMs;
          } else {
            shift = clock.skew.flaggedMs ?? 0;
          }
          if (shift !== 0) this.skewCorrected.inc();
          const osBoot = m.osBoot === undefined ? undefined : m.osBoot + shift;
          if (osBoot !== undefined) clock.osBootAt = osBoot;
          const row: StatusRow = {
            site: m.site,
            host: m.host,
            boot: m.boot,
            t: m.t + shift,
            received,
            state: m.state,
            hostname: m.hostname,
            agentVersion: m.agentVersion,
            osBoot,
            keepalive: m.keepalive,
            ...(retained ? { retained: true } : {}),
          };
          fresh = store.applyStatus(row);
          stored = { kind: 'status', row };
          break;
        }
      }
      if (observed !== undefined) {
        const m = decoded.message;
        const row = this.watchSkew(m.site, m.host, m.boot, observed, received, clock ?? this.clockOf(m.site, m.host));
        if (row) raised = { kind: 'events', row };
      }
    } catch (err) {
      this.storeErrors.inc();
      this.badLog.warn('store_error', { err: (err as Error).message, kind: decoded.kind }, 'store write failed; message not acknowledged');
      throw new StoreUnavailableError(err);
    }
    // Status messages are not outbox records (their seq is the agent's counter, not
    // consumed): never acked.
    const m = decoded.message;
    const ack: AckKey | undefined = decoded.kind === 'status' ? undefined : { site: m.site, host: m.host, boot: m.boot, seq: m.seq };
    if (fresh) {
      this.accepted.inc({ kind: decoded.kind });
      return { status: 'accepted', kind: decoded.kind, ack, stored, raised };
    }
    this.duplicates.inc({ kind: decoded.kind });
    return { status: 'duplicate', kind: decoded.kind, ack, raised };
  }

  private clockOf(site: string, host: string): HostClock {
    const key = `${site}/${host}`;
    let c = this.clocks.get(key);
    if (!c) {
      const h = this.deps.store.getHost(site, host);
      c = { skew: { flaggedMs: h?.clockSkewMs ?? null, since: h?.clockSkewSince ?? null } };
      this.clocks.set(key, c);
    }
    return c;
  }

  /**
   * Issue 13 item 4: one `clock_skew` host event when a host's clock goes wrong, changes a
   * lot, or is right again (clock-skew.ts), stored as the collector's own event of that host
   * and flagged on the host (`clockSkewMs` in /api/hosts, the board's mark).
   */
  private watchSkew(site: string, host: string, agentBoot: string, observedMs: number, received: number, clock: HostClock): EventRow | undefined {
    const previous = clock.skew;
    const d = observeSkew(previous, observedMs, received, this.skewRules);
    clock.skew = d.state;
    if (!d.raise) return undefined;
    const { change, skewMs, previousMs } = d.raise;
    const { store } = this.deps;
    store.setClockSkew(site, host, d.state.flaggedMs, d.state.since);
    const osBootAgoMs = clock.osBootAt === undefined ? undefined : Math.max(0, received - clock.osBootAt);
    const row: EventRow = {
      site,
      host,
      boot: this.eventBoot,
      seq: ++this.eventSeq,
      t: received,
      received,
      type: CLOCK_SKEW_EVENT_TYPE,
      severity: change === 'resolved' ? 'info' : 'warning',
      message: skewMessage(change, skewMs, previousMs),
      // While wrong: from when it was found; once right again: the whole wrong period.
      start: change === 'resolved' ? (previous.since ?? received) : received,
      end: change === 'resolved' ? received : undefined,
      details: {
        change,
        skewMs: Math.round(change === 'resolved' ? 0 : skewMs),
        previousMs: previousMs === null ? null : Math.round(previousMs),
        observedMs: Math.round(observedMs),
        toleranceMs: this.tolerance,
        agentBoot,
        ...(osBootAgoMs === undefined ? {} : { osBootAgoMs: Math.round(osBootAgoMs), afterBoot: change !== 'resolved' && osBootAgoMs <= SKEW_AFTER_BOOT_MS }),
      },
    };
    store.insertEvent(row);
    this.skewEvents.inc({ change });
    this.deps.log.info({ site, host, change, skewMs: Math.round(skewMs), previousMs }, 'clock skew');
    return row;
  }
}

/** Failed validation for good: acked as rejected (a newer contract version is not: a newer collector may store it). */
const ACKED_REJECTIONS: ReadonlySet<RejectReason> = new Set<RejectReason>(['schema', 'time_inconsistent']);

/** The sample's metrics with their own times (the OS boot time) corrected by the clock skew. */
function shiftMetrics(metrics: SampleMetrics, shift: number): SampleMetrics {
  const up = metrics.uptime;
  if (shift === 0 || !up || !('bootTime' in up)) return metrics;
  return { ...metrics, uptime: { ...up, bootTime: up.bootTime + shift } };
}

/**
 * Which record a message that failed validation was, when the topic and the envelope's
 * `boot`/`seq` still say so (never trusting anything else in it).
 */
function rejectedAckKey(topic: string, payload: Uint8Array): AckKey | undefined {
  const parsed = parseTopic(topic);
  if (!parsed || parsed.kind === 'status') return undefined;
  try {
    const json = JSON.parse(Buffer.from(payload).toString('utf8')) as { boot?: unknown; seq?: unknown };
    const { boot, seq } = json;
    if (typeof boot !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(boot)) return undefined;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
    return { site: parsed.site, host: parsed.host, boot, seq };
  } catch {
    return undefined;
  }
}
