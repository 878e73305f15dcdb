import { maxBytesFor, MAX_SAMPLE_AGE_MS, CONTRACT_VERSION } from './limits.js';
import { SCHEMAS, type MessageByKind } from './schemas.js';
import { parseTopic, type MessageKind } from './topics.js';

/** Why a message was rejected; each is a label of the collector's rejection counter. */
export const REJECT_REASONS = ['bad_topic', 'too_large', 'bad_encoding', 'bad_json', 'unknown_version', 'schema', 'identity_mismatch', 'time_inconsistent'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type Decoded = {
  [K in MessageKind]: { ok: true; kind: K; site: string; host: string; message: MessageByKind[K] };
}[MessageKind];

export interface Rejected {
  ok: false;
  reason: RejectReason;
  /** Short, safe description (never echoes the payload). */
  detail: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decode and validate one MQTT message against the contract. Never throws: everything
 * wrong with untrusted input comes back as a {@link Rejected} with a reason.
 */
export function decodeMessage(topic: string, payload: Uint8Array): Decoded | Rejected {
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
  const v = (json as { v?: unknown }).v;
  if (v !== CONTRACT_VERSION) {
    // Never serialise untrusted values here: a deeply nested `v` would overflow the stack.
    const shown = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === null ? 'null' : typeof v;
    return { ok: false, reason: 'unknown_version', detail: `contract version ${shown.slice(0, 20)} not supported` };
  }
  const result = SCHEMAS[kind].safeParse(json);
  if (!result.success) {
    // Paths name our schema's keys, except inside `details`, whose keys the sender chose:
    // mask those so the log never repeats sender-chosen text.
    const first = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.map((seg, n) => (i.path[n - 1] === 'details' ? '<key>' : String(seg))).join('.') || '(root)'}: ${i.message}`);
    return { ok: false, reason: 'schema', detail: first.join('; ').slice(0, 300) };
  }
  const message = result.data;
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
