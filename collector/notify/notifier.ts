import type { Language } from './notification.js';
import type { OutboxMessage } from './outbox-message.js';

/**
 * A message rendered for one channel and one language: the subject (email, webhook), a
 * plain text (chat apps, email text part) and a simple escaped HTML (email).
 */
export interface RenderedMessage {
  language: Language;
  subject: string;
  text: string;
  html: string;
  /** Files to attach where the channel can (e-mail): the monthly report's CSV. */
  attachments?: MessageAttachment[] | undefined;
  /** What was rendered (the webhook sends it as structured JSON too). */
  message: OutboxMessage;
}

export interface MessageAttachment {
  filename: string;
  contentType: string;
  /** Text content, sent as UTF-8. */
  content: string;
}

/** Where one send sits in its delivery (a long Zalo text goes out in several parts). */
export interface SendContext {
  /**
   * Stable across retries and restarts: `<message id>:<channel>:<part>`. Receivers that
   * support it dedup with it (webhook `Idempotency-Key`, email `Message-ID`).
   */
  idempotencyKey: string;
  /** 0-based part index and the number of parts. */
  part: number;
  parts: number;
}

/**
 * What a send came to (house style §6: errors say whether to retry).
 * - `accepted`: the service took the message; it is marked sent and never sent again.
 * - `retriable`: try again later (backoff; `retryAfterMs` when the service said when).
 * - `permanent`: retrying cannot help (refused content, bad recipient): recorded as failed.
 * `reason` is short, machine-readable and secret-free (it is logged and stored).
 */
export type SendOutcome =
  { status: 'accepted'; id?: string | undefined } | { status: 'retriable'; reason: string; retryAfterMs?: number | undefined } | { status: 'permanent'; reason: string };

/**
 * Port for one configured channel (one file per channel type, see channel-registry.ts).
 * `send` never throws: every failure is a {@link SendOutcome}.
 */
export interface Notifier {
  /** Channel name from the config (`zalo`, `email-it`, …). */
  readonly name: string;
  readonly type: string;
  readonly language: Language;
  /** Cuts a rendered message into what one send carries (default: one part). */
  parts(rendered: RenderedMessage): RenderedMessage[];
  send(part: RenderedMessage, ctx: SendContext): Promise<SendOutcome>;
  /** Releases pooled connections (stop). */
  close(): Promise<void>;
}

/** Replaces every occurrence of each secret in `text` (tokens inside URLs, echoed errors). */
export function scrubSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}
