/**
 * Zalo Bot API channel (issue 4; DESIGN.md "Alerting model"):
 * `POST <baseUrl>/bot<TOKEN>/sendMessage` with JSON `{chat_id, text}`. A text is at most
 * 2,000 characters, so longer messages go out in parts ({@link splitText}). Only a reply
 * with `ok: true` counts as accepted; `{ok: false, error_code, description}` is retried.
 * The token sits in the URL path: it is scrubbed from every reason and never logged.
 */
import type { Clock } from '../../../common/clock.js';
import type { Logger } from '../../../common/log.js';
import type { z } from 'zod';
import type { ZaloBotChannelSchema } from '../config.js';
import { httpRequest, outcomeForStatus, outcomeForTransportError } from '../http-request.js';
import { scrubSecrets, type Notifier, type RenderedMessage, type SendContext, type SendOutcome } from '../notifier.js';
import { splitText } from '../split-text.js';

export type ZaloBotChannelConfig = z.output<typeof ZaloBotChannelSchema>;

/** Zalo's limit for one text message. */
export const ZALO_TEXT_LIMIT = 2000;

export class ZaloBotNotifier implements Notifier {
  readonly type = 'zalo_bot';
  readonly name: string;
  readonly language;

  constructor(
    private readonly cfg: ZaloBotChannelConfig,
    private readonly deps: { clock: Clock; log: Logger },
  ) {
    this.name = cfg.name;
    this.language = cfg.language;
  }

  parts(rendered: RenderedMessage): RenderedMessage[] {
    return splitText(rendered.text, ZALO_TEXT_LIMIT, this.cfg.maxParts, rendered.language).map((text) => ({ ...rendered, text }));
  }

  async send(part: RenderedMessage, _ctx: SendContext): Promise<SendOutcome> {
    const secrets = [this.cfg.token];
    const url = `${this.cfg.baseUrl.replace(/\/$/, '')}/bot${this.cfg.token}/sendMessage`;
    let answer;
    try {
      answer = await httpRequest({
        url,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ chat_id: this.cfg.chatId, text: part.text }),
        timeoutMs: this.cfg.timeoutMs,
        clock: this.deps.clock,
      });
    } catch (err) {
      return outcomeForTransportError(err, 'zalo_bot', secrets);
    }
    const body = answer.json as { ok?: unknown; error_code?: unknown; description?: unknown; result?: { message_id?: unknown } } | undefined;
    if (answer.status === 200 && body?.ok === true) {
      const id = body.result?.message_id;
      return { status: 'accepted', id: typeof id === 'string' || typeof id === 'number' ? String(id) : undefined };
    }
    if (body && body.ok === false) {
      // The Bot API answers errors as {ok:false, error_code, description}; the description may echo the request.
      const code = typeof body.error_code === 'number' ? body.error_code : answer.status;
      const desc = typeof body.description === 'string' ? body.description.slice(0, 200) : '';
      return { status: 'retriable', reason: scrubSecrets(`zalo_bot_error_${code}${desc ? `: ${desc}` : ''}`, secrets), retryAfterMs: answer.retryAfterMs };
    }
    if (answer.status !== 200) return outcomeForStatus(answer, 'zalo_bot', secrets);
    // HTTP 200 without ok:true is not a delivery (issue 4: success only when ok is true).
    return { status: 'retriable', reason: 'zalo_bot_unexpected_reply' };
  }

  async close(): Promise<void> {}
}
