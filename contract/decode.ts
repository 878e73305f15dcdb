import { maxBytesFor, MAX_BATCH_RECORDS, MAX_SAMPLE_AGE_MS, CONTRACT_VERSION } from './limits.js';
import { isPlainSample } from './fast-sample.js';
import { rawMetricsTexts } from './raw-metrics.js';
import { SCHEMAS, type MessageByKind } from './schemas.js';
import { parseTopic, type MessageKind } from './topics.js';

/** Why a message was rejected; each is a label of the collector's rejection counter. */
export const REJECT_REASONS = ['bad_topic', 'too_large', 'bad_encoding', 'bad_json', 'unknown_version', 'schema', 'identity_mismatch', 'time_inconsistent', 'bad_batch'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type Decoded = {
  [K in MessageKind]: {
    ok: true;
    kind: K;
    site: string;
    host: string;
    message: MessageByKind[K];
    /**
     * A sample's `metrics` as the agent wrote them (contract/raw-metrics.ts), when the decoder
     * took the parsed record unchanged and the text is certainly that value: the store keeps
     * it instead of serialising the object again.
     */
    metricsJson?: string | undefined;
  };
}[MessageKind];

export interface Rejected {
  ok: false;
  reason: RejectReason;
  /** Short, safe description (never echoes the payload). */
  detail: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A record of a batch that failed validation, with its (boot, seq) when it still tells them. */
export type RejectedRecord = Rejected & { key?: { boot: string; seq: number } | undefined };

/** The records of one MQTT message: one for a single-record message, up to {@link MAX_BATCH_RECORDS} for a batch. */
export interface DecodedMessages {
  ok: true;
  /** True for a batch envelope `{"v":1,"records":[…]}`. */
  batch: boolean;
  records: Array<Decoded | RejectedRecord>;
}

/**
 * Batches (several outbox records in one MQTT message). On the `samples` and `events` topics
 * a payload may be `{"v":1,"records":[<record>,<record>,…]}`: each record is exactly the
 * JSON object a single-record message carries (with its own boot, seq, t and `sent`), of
 * the topic's kind, at most {@link MAX_BATCH_RECORDS} of them, the whole payload within
 * {@link MAX_PAYLOAD_BYTES}. Each record is validated alone: a bad one is refused (and acked
 * as rejected when its boot and seq are readable), the others are stored. A malformed
 * envelope (records not an array, empty, too many, another key, on the inventory or status
 * topic) is refused whole with reason `bad_batch`.
 *
 * Agents send batches only to a collector that announced it takes them (contract/ack.ts);
 * single-record messages stay valid for ever (older agents).
 */
export function decodeMessages(topic: string, payload: Uint8Array): DecodedMessages | Rejected {
  const head = decodeHead(topic, payload);
  if (!head.ok) return head;
  const { kind, site, host, json } = head;
  if (!('records' in json)) return { ok: true, batch: false, records: [withRawMetrics(validateRecord(kind, site, host, json), json, head.text, payload, false, 0)] };
  const v = json.v;
  if (v !== CONTRACT_VERSION) return unknownVersion(v);
  const records = json.records;
  if (kind !== 'samples' && kind !== 'events') return { ok: false, reason: 'bad_batch', detail: `no batches on the ${kind} topic` };
  if (!Array.isArray(records)) return { ok: false, reason: 'bad_batch', detail: 'records is not an array' };
  if (records.length === 0 || records.length > MAX_BATCH_RECORDS) {
    return { ok: false, reason: 'bad_batch', detail: `${records.length} records (1 to ${MAX_BATCH_RECORDS})` };
  }
  if (Object.keys(json).length !== 2) return { ok: false, reason: 'bad_batch', detail: 'batch envelope has keys other than v and records' };
  const out: Array<Decoded | RejectedRecord> = [];
  const raw: RawTexts = { texts: null };
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as unknown;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      out.push({ ok: false, reason: 'bad_json', detail: 'batch record is not a JSON object' });
      continue;
    }
    const d = validateRecord(kind, site, host, r as Record<string, unknown>);
    out.push(d.ok ? withRawMetrics(d, r, head.text, payload, true, i, raw) : { ...d, key: recordKeyOf(r as Record<string, unknown>) });
  }
  return { ok: true, batch: true, records: out };
}

/**
 * Decode and validate one single-record MQTT message against the contract (a batch envelope
 * is no valid record: use {@link decodeMessages}). Never throws: everything wrong with
 * untrusted input comes back as a {@link Rejected} with a reason.
 */
export function decodeMessage(topic: string, payload: Uint8Array): Decoded | Rejected {
  const head = decodeHead(topic, payload);
  if (!head.ok) return head;
  return withRawMetrics(validateRecord(head.kind, head.site, head.host, head.json), head.json, head.text, payload, false, 0);
}

/** The raw metrics texts of one message, computed at most once (`null`: not yet). */
interface RawTexts {
  texts: Array<string | undefined> | undefined | null;
}

/**
 * Attach the agent's own text of a sample's `metrics` (contract/raw-metrics.ts) when the
 * decoder returned the parsed record itself (the fast path: zod returns a copy), so the
 * text is the JSON of exactly the object that was checked.
 */
function withRawMetrics<D extends Decoded | Rejected>(d: D, parsed: unknown, text: string, bytes: Uint8Array, batch: boolean, index: number, raw: RawTexts = { texts: null }): D {
  if (!d.ok || d.kind !== 'samples' || d.message !== parsed) return d;
  if (raw.texts === null) raw.texts = rawMetricsTexts(text, bytes, batch);
  const metricsJson = raw.texts?.[index];
  if (metricsJson !== undefined) d.metricsJson = metricsJson;
  return d;
}

/** The (boot, seq) of a record, when both are well-formed (nothing else of it is trusted). */
export function recordKeyOf(json: Record<string, unknown>): { boot: string; seq: number } | undefined {
  const { boot, seq } = json;
  if (typeof boot !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(boot)) return undefined;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { boot, seq };
}

type Head = { ok: true; kind: MessageKind; site: string; host: string; json: Record<string, unknown>; text: string } | Rejected;

/** Topic, size, UTF-8, a JSON object. */
function decodeHead(topic: string, payload: Uint8Array): Head {
  const parsedTopic = parseTopic(topic);
  if (!parsedTopic) return { ok: false, reason: 'bad_topic', detail: 'not a canh/v1/<site>/<host>/<kind> topic' };
  const { kind, site, host } = parsedTopic;
  if (payload.byteLength > maxBytesFor(kind)) {
    return { ok: false, reason: 'too_large', detail: `${payload.byteLength} bytes > ${maxBytesFor(kind)}` };
  }
  let textPayload: string;
  try {
    textPayload = utf8.decode(payload);
  } catch {
    return { ok: false, reason: 'bad_encoding', detail: 'payload is not valid UTF-8' };
  }
  let json: unknown;
  try {
    json = JSON.parse(textPayload);
  } catch {
    return { ok: false, reason: 'bad_json', detail: 'payload is not valid JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, reason: 'bad_json', detail: 'payload is not a JSON object' };
  }
  return { ok: true, kind, site, host, json: json as Record<string, unknown>, text: textPayload };
}

function unknownVersion(v: unknown): Rejected {
  // Never serialise untrusted values here: a deeply nested `v` would overflow the stack.
  const shown = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === null ? 'null' : typeof v;
  return { ok: false, reason: 'unknown_version', detail: `contract version ${shown.slice(0, 20)} not supported` };
}

/** Version, schema, identity and time checks of one record (a parsed JSON object). */
function validateRecord(kind: MessageKind, site: string, host: string, json: Record<string, unknown>): Decoded | Rejected {
  const v = json.v;
  if (v !== CONTRACT_VERSION) return unknownVersion(v);
  // The hot shape: a sample zod would accept and return unchanged is taken as it is
  // (contract/fast-sample.ts); anything else goes through zod, for its result or its error.
  if (kind === 'samples' && isPlainSample(json)) return checkRecord(kind, site, host, json);
  const result = SCHEMAS[kind].safeParse(json);
  if (!result.success) {
    // Paths name our schema's keys, except inside `details`, whose keys the sender chose:
    // mask those so the log never repeats sender-chosen text.
    const first = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.map((seg, n) => (i.path[n - 1] === 'details' ? '<key>' : String(seg))).join('.') || '(root)'}: ${i.message}`);
    return { ok: false, reason: 'schema', detail: first.join('; ').slice(0, 300) };
  }
  return checkRecord(kind, site, host, result.data);
}

/** Identity and time checks of a record that passed its schema. */
function checkRecord(kind: MessageKind, site: string, host: string, message: MessageByKind[MessageKind]): Decoded | Rejected {
  if (message.site !== site || message.host !== host) {
    return { ok: false, reason: 'identity_mismatch', detail: 'payload site/host differ from the topic' };
  }
  if (message.sent < message.t - 60_000 || message.sent - message.t > MAX_SAMPLE_AGE_MS) {
    return { ok: false, reason: 'time_inconsistent', detail: 'send time before sample time, or sample too old' };
  }
  return { ok: true, kind, site, host, message } as Decoded;
}

/**
 * Clock-skew correction. Old PCs lose their clock after a power cut, so the agent's
 * times can be far off. The skew is (receive time − send time); when it exceeds the
 * tolerance, the sample time is shifted by it, which keeps the spacing of replayed
 * samples (their age at send time is preserved).
 */
export function correctSkew(t: number, sent: number, receivedAt: number, toleranceMs: number): { t: number; skewMs: number; corrected: boolean } {
  const skewMs = receivedAt - sent;
  if (Math.abs(skewMs) <= toleranceMs) return { t, skewMs, corrected: false };
  return { t: t + skewMs, skewMs, corrected: true };
}
