/**
 * Zalo OA group message channel (issue 4): `POST <baseUrl>/v3.0/oa/group/message`, header
 * `access_token`, body `{recipient: {group_id}, message: {text}}`. Zalo answers errors with
 * HTTP 200 and `{error: <non-zero>, message}`, so success is HTTP 200 AND `error == 0`.
 * An invalid access token (-216, or HTTP 401) is refreshed once (single-flight, persisted:
 * zalo-oa-tokens.ts) and the send retried once.
 */
import type { Clock } from '../../../common/clock.js';
import type { Logger } from '../../../common/log.js';
import type { z } from 'zod';
import type { ZaloOaChannelSchema } from '../config.js';
import { httpRequest, outcomeForStatus, outcomeForTransportError, type HttpAnswer } from '../http-request.js';
import { scrubSecrets, type Notifier, type RenderedMessage, type SendContext, type SendOutcome } from '../notifier.js';
import { splitText } from '../split-text.js';
import { ZALO_TEXT_LIMIT } from './zalo-bot.js';
import { OaRefreshError, type ZaloOaTokens } from './zalo-oa-tokens.js';

export type ZaloOaChannelConfig = z.output<typeof ZaloOaChannelSchema>;

/** Zalo OA error codes for an access token that is invalid or expired. */
export const OA_TOKEN_ERRORS = new Set([-216, -124]);

export class ZaloOaNotifier implements Notifier {
  readonly type = 'zalo_oa';
  readonly name: string;
  readonly language;

  constructor(
    private readonly cfg: ZaloOaChannelConfig,
    private readonly deps: { clock: Clock; log: Logger; tokens: ZaloOaTokens },
  ) {
    this.name = cfg.name;
    this.language = cfg.language;
  }

  parts(rendered: RenderedMessage): RenderedMessage[] {
    return splitText(rendered.text, ZALO_TEXT_LIMIT, this.cfg.maxParts, rendered.language).map((text) => ({ ...rendered, text }));
  }

  private post(accessToken: string, text: string): Promise<HttpAnswer> {
    return httpRequest({
      url: `${this.cfg.baseUrl.replace(/\/$/, '')}/v3.0/oa/group/message`,
      headers: { 'content-type': 'application/json; charset=utf-8', access_token: accessToken },
      body: JSON.stringify({ recipient: { group_id: this.cfg.groupId }, message: { text } }),
      timeoutMs: this.cfg.timeoutMs,
      clock: this.deps.clock,
    });
  }

  async send(part: RenderedMessage, _ctx: SendContext): Promise<SendOutcome> {
    const tokens = this.deps.tokens;
    let token = tokens.current().accessToken;
    for (let attempt = 0; ; attempt++) {
      const secrets = tokens.secrets();
      let answer: HttpAnswer;
      try {
        answer = await this.post(token, part.text);
      } catch (err) {
        return outcomeForTransportError(err, 'zalo_oa', secrets);
      }
      const b = answer.json as { error?: unknown; message?: unknown; data?: { message_id?: unknown } } | undefined;
      const code = typeof b?.error === 'number' ? b.error : undefined;
      if (answer.status === 200 && code === 0) {
        const id = b?.data?.message_id;
        return { status: 'accepted', id: typeof id === 'string' ? id : undefined };
      }
      const tokenRejected = answer.status === 401 || (code !== undefined && OA_TOKEN_ERRORS.has(code));
      if (tokenRejected && attempt === 0) {
        try {
          token = (await tokens.refresh(token)).accessToken;
        } catch (err) {
          const reason = err instanceof OaRefreshError ? err.reason : 'zalo_oa_refresh_error';
          this.deps.log.error({ channel: this.name, reason }, 'Zalo OA token refresh failed: authorise the OA again and put the new token pair in the config');
          return { status: 'retriable', reason };
        }
        continue; // retry once with the new token
      }
      if (answer.status !== 200) return outcomeForStatus(answer, 'zalo_oa', secrets);
      const msg = typeof b?.message === 'string' ? `: ${b.message.slice(0, 200)}` : '';
      return { status: 'retriable', reason: scrubSecrets(`zalo_oa_error_${code ?? 'no_code'}${msg}`, secrets) };
    }
  }

  async close(): Promise<void> {}
}
