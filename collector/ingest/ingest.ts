import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { RateLimitedLog } from '../../common/log.js';
import { correctSkew, decodeMessage, REJECT_REASONS, type RejectReason } from '../../contract/decode.js';
import { SKEW_TOLERANCE_MS } from '../../contract/limits.js';
import { parseTopic } from '../../contract/topics.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';
import type { EventRow, InventoryRow, SampleRow, StatusRow, Store } from '../store/store.js';

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
export type StoreOutcome = IngestOutcome & { stored?: StoredMessage | undefined };

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

  constructor(private readonly deps: IngestDeps) {
    const m = deps.metrics;
    this.accepted = m.counter('canh_ingest_accepted_total', 'Messages accepted and stored, by kind.');
    this.duplicates = m.counter('canh_ingest_duplicates_total', 'Messages already stored (replays), by kind.');
    this.rejected = m.counter('canh_ingest_rejected_total', 'Messages rejected, by reason.');
    this.storeErrors = m.counter('canh_ingest_store_errors_total', 'Messages not stored because the store failed (not acked; the agent retries).');
    this.skewCorrected = m.counter('canh_ingest_clock_skew_corrected_total', 'Messages whose agent clock was off by more than the tolerance and was corrected.');
    for (const reason of REJECT_REASONS) this.rejected.inc({ reason }, 0);
    this.badLog = new RateLimitedLog(deps.log, 10_000, () => deps.clock.now());
    this.tolerance = deps.skewToleranceMs ?? SKEW_TOLERANCE_MS;
  }

  /** Count a rejection decided outside the decoder (e.g. the broker's identity check). */
  reject(reason: RejectReason, detail: string, context: Record<string, unknown> = {}): IngestOutcome {
    this.rejected.inc({ reason });
    this.badLog.warn(`reject:${reason}`, { reason, detail, ...context }, 'message rejected');
    return { status: 'rejected', reason, detail };
  }

  /** Store one message in a transaction of its own and tell the listeners (tests, tools). */
  handle(topic: string, payload: Uint8Array, context: Record<string, unknown> = {}): IngestOutcome {
    const out = this.deps.store.transaction(() => this.store(topic, payload, context));
    if (out.stored) this.emitStored(out.stored);
    const { stored: _stored, ...outcome } = out;
    return outcome;
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
   * Decode, validate and write one message; call inside the store's transaction. Listeners
   * are not called: the caller does that after the commit ({@link emitStored}).
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
    if (!decoded.ok) {
      const out = this.reject(decoded.reason, decoded.detail, { ...context, topicLength: topic.length, bytes: payload.byteLength });
      // A message that can never be stored is acked as rejected when we can tell which
      // record it was, so it cannot block the agent's window for ever. A newer contract
      // version is not: a newer collector may store it, so the agent keeps it.
      if (decoded.reason === 'schema' || decoded.reason === 'time_inconsistent') {
        const key = rejectedAckKey(topic, payload);
        if (key) return { ...out, ack: key };
      }
      return out;
    }
    const received = this.deps.clock.now();
    const { store } = this.deps;
    let fresh: boolean;
    let stored: StoredMessage;
    try {
      switch (decoded.kind) {
        case 'samples': {
          const m = decoded.message;
          const skew = correctSkew(m.t, m.sent, received, this.tolerance);
          if (skew.corrected) this.skewCorrected.inc();
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
            metrics: m.metrics,
          };
          fresh = store.insertSample(row);
          stored = { kind: 'samples', row };
          break;
        }
        case 'events': {
          const m = decoded.message;
          const skew = correctSkew(m.t, m.sent, received, this.tolerance);
          const shift = skew.corrected ? skew.skewMs : 0;
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
            // A freeze's process list is kept with the details (the board and report show it).
            details: m.processes ? { ...m.details, processes: m.processes } : m.details,
          };
          fresh = store.insertEvent(row);
          stored = { kind: 'events', row };
          break;
        }
        case 'inventory': {
          const m = decoded.message;
          const { v: _v, site, host, boot, seq, t, sent: _sent, ...data } = m;
          const row: InventoryRow = { site, host, boot, seq, t, received, hostname: m.hostname, data };
          fresh = store.upsertInventory(row);
          stored = { kind: 'inventory', row };
          break;
        }
        case 'status': {
          const m = decoded.message;
          const row: StatusRow = {
            site: m.site,
            host: m.host,
            boot: m.boot,
            t: m.t,
            received,
            state: m.state,
            hostname: m.hostname,
            agentVersion: m.agentVersion,
            osBoot: m.osBoot,
            keepalive: m.keepalive,
          };
          fresh = store.applyStatus(row);
          stored = { kind: 'status', row };
          break;
        }
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
      return { status: 'accepted', kind: decoded.kind, ack, stored };
    }
    this.duplicates.inc({ kind: decoded.kind });
    return { status: 'duplicate', kind: decoded.kind, ack };
  }
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
