/**
 * Generic webhook (issue 4, "for anything else"): `POST <url>` with a JSON body holding the
 * rendered texts and the structured notification, `Idempotency-Key` (stable across retries
 * and restarts, so a receiver can drop a repeat), an optional fixed secret header and an
 * optional HMAC signature: `X-Canh-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`
 * with `X-Canh-Timestamp` (seconds), so a receiver can reject forged or replayed calls.
 */
import { createHmac } from 'node:crypto';
import type { z } from 'zod';
import type { Clock } from '../../../common/clock.js';
import type { WebhookChannelSchema } from '../config.js';
import { httpRequest, outcomeForStatus, outcomeForTransportError } from '../http-request.js';
import type { Notifier, RenderedMessage, SendContext, SendOutcome } from '../notifier.js';
import type { OutboxMessage } from '../outbox-message.js';
import { webhookReport } from '../report-message.js';

export type WebhookChannelConfig = z.output<typeof WebhookChannelSchema>;

/** The structured part of the body: the notification, the digest, the province digest, or the report's figures (not its HTML). */
function messagePayload(m: OutboxMessage): Record<string, unknown> {
  if (m.kind === 'digest') return { digest: m.digest };
  if (m.kind === 'report') return { report: webhookReport(m.report) };
  if (m.kind === 'province') return { province: m.province };
  return { notification: m.notification };
}

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookNotifier implements Notifier {
  readonly type = 'webhook';
  readonly name: string;
  readonly language;

  constructor(
    private readonly cfg: WebhookChannelConfig,
    private readonly deps: { clock: Clock },
  ) {
    this.name = cfg.name;
    this.language = cfg.language;
  }

  parts(rendered: RenderedMessage): RenderedMessage[] {
    return [rendered];
  }

  async send(part: RenderedMessage, ctx: SendContext): Promise<SendOutcome> {
    const body = JSON.stringify({
      version: 1,
      channel: this.name,
      idempotencyKey: ctx.idempotencyKey,
      kind: part.message.kind,
      language: part.language,
      subject: part.subject,
      text: part.text,
      ...messagePayload(part.message),
    });
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'idempotency-key': ctx.idempotencyKey,
      'user-agent': 'canh-collector',
    };
    if (this.cfg.header) headers[this.cfg.header.name.toLowerCase()] = this.cfg.header.secret;
    if (this.cfg.hmacSecret) {
      const ts = String(Math.floor(this.deps.clock.now() / 1000));
      headers['x-canh-timestamp'] = ts;
      headers['x-canh-signature'] = webhookSignature(this.cfg.hmacSecret, ts, body);
    }
    const secrets = [this.cfg.header?.secret, this.cfg.hmacSecret];
    try {
      const a = await httpRequest({ url: this.cfg.url, headers, body, timeoutMs: this.cfg.timeoutMs, clock: this.deps.clock });
      if (a.status >= 200 && a.status < 300) return { status: 'accepted' };
      return outcomeForStatus(a, 'webhook', secrets);
    } catch (err) {
      return outcomeForTransportError(err, 'webhook', secrets);
    }
  }

  async close(): Promise<void> {}
}
