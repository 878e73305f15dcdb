/**
 * Size and range limits of the wire contract. The broker (Mosquitto
 * `max_packet_size`, the embedded broker's packet guard) and the decoder enforce them.
 */
export const CONTRACT_VERSION = 1 as const;

/** Largest payload for samples, events and status. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/**
 * Most outbox records in one batch message (contract/decode.ts `decodeMessages`); the batch
 * also stays within {@link MAX_PAYLOAD_BYTES}. A collector announces its own bound (≤ this)
 * in its acks (contract/ack.ts `batch`).
 */
export const MAX_BATCH_RECORDS = 256;
/** Inventory carries disk and interface lists; allow more. */
export const MAX_INVENTORY_BYTES = 256 * 1024;
/** Largest whole MQTT packet the broker accepts (payload + topic + headers). */
export const MAX_PACKET_BYTES = MAX_INVENTORY_BYTES + 4 * 1024;

export const MAX_DISKS = 64;
export const MAX_INTERFACES = 64;
export const MAX_PING_TARGETS = 32;
export const MAX_STRING = 256;

/** Epoch-ms bounds for any time in a message: earlier or later is rejected outright. */
export const MIN_TIME_MS = Date.UTC(2000, 0, 1);
export const MAX_TIME_MS = Date.UTC(2100, 0, 1);
/** A sample may be sent at most this long after it was taken (the outbox's age bound). */
export const MAX_SAMPLE_AGE_MS = 35 * 24 * 3600 * 1000;
/** Clock skew beyond this is flagged and corrected on ingest. */
export const SKEW_TOLERANCE_MS = 60_000;

/** Payload limit per message kind (inventory may be larger). */
export function maxBytesFor(kind: 'samples' | 'events' | 'inventory' | 'status'): number {
  return kind === 'inventory' ? MAX_INVENTORY_BYTES : MAX_PAYLOAD_BYTES;
}

/**
 * The common head of decoding a collector-to-agent control message (remote configuration,
 * update offer): bounded UTF-8 text, a JSON object, this contract version. A string says
 * why it is not one.
 */
export function decodeControlObject(payload: Uint8Array | string, maxChars: number): Record<string, unknown> | string {
  const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
  if (text.length > maxChars) return 'message too large';
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'not a JSON object';
  const o = m as Record<string, unknown>;
  if (o.v !== CONTRACT_VERSION) return `unsupported contract version ${JSON.stringify(o.v)?.slice(0, 20)}`;
  return o;
}
