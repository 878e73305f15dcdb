/**
 * Email channel (issue 4): SMTP through nodemailer's pooled transport, STARTTLS (587,
 * upgrade required) or implicit TLS (465). One notification = one mail, so the alerts of
 * a site arrive together; a plain text part and a simple escaped HTML part, UTF-8 subject
 * and body. The Message-ID is derived from the delivery's idempotency key, so a mail sent
 * again after a crash (the accept/mark window, see outbox.ts) carries the same Message-ID
 * and mail clients show it once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type { z } from 'zod';
import type { Logger } from '../../../common/log.js';
import type { EmailChannelSchema } from '../config.js';
import { scrubSecrets, type Notifier, type RenderedMessage, type SendContext, type SendOutcome } from '../notifier.js';

export type EmailChannelConfig = z.output<typeof EmailChannelSchema>;

type Transporter = ReturnType<typeof nodemailer.createTransport>;

/** SMTP error codes without a reply code that a later attempt may get past. */
const RETRIABLE_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROTOCOL', 'EAUTH', 'ECONNRESET', 'ECONNREFUSED']);

export class EmailNotifier implements Notifier {
  readonly type = 'email';
  readonly name: string;
  readonly language;
  private readonly transport: Transporter;
  private readonly domain: string;

  constructor(
    private readonly cfg: EmailChannelConfig,
    private readonly deps: { log: Logger; transport?: Transporter },
  ) {
    this.name = cfg.name;
    this.language = cfg.language;
    this.domain = /@([^>\s]+)>?\s*$/.exec(cfg.from)?.[1] ?? 'canh.local';
    this.transport =
      deps.transport ??
      nodemailer.createTransport({
        pool: true,
        maxConnections: cfg.maxConnections,
        host: cfg.host,
        port: cfg.port,
        secure: cfg.security === 'tls',
        requireTLS: cfg.security === 'starttls',
        ignoreTLS: cfg.security === 'none',
        auth: cfg.username ? { user: cfg.username, pass: cfg.password ?? '' } : undefined,
        connectionTimeout: cfg.timeoutMs,
        greetingTimeout: cfg.timeoutMs,
        socketTimeout: cfg.timeoutMs,
        tls: { rejectUnauthorized: cfg.tls.rejectUnauthorized, ...(cfg.tls.caFile ? { ca: readFileSync(cfg.tls.caFile) } : {}) },
        logger: false,
      });
  }

  parts(rendered: RenderedMessage): RenderedMessage[] {
    return [rendered];
  }

  async send(part: RenderedMessage, ctx: SendContext): Promise<SendOutcome> {
    const digest = createHash('sha256').update(ctx.idempotencyKey).digest('hex').slice(0, 32);
    try {
      const info = await this.transport.sendMail({
        from: this.cfg.from,
        to: this.cfg.to,
        subject: part.subject,
        text: part.text,
        html: part.html,
        messageId: `<canh.${digest}@${this.domain}>`,
        headers: { 'X-Canh-Delivery': ctx.idempotencyKey.slice(0, 200) },
        textEncoding: 'base64',
        ...(part.attachments?.length
          ? { attachments: part.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content, 'utf8') })) }
          : {}),
      });
      if (info.rejected.length) this.deps.log.warn({ channel: this.name, rejected: info.rejected.length }, 'SMTP server refused some recipients');
      if (!info.accepted.length) return { status: 'permanent', reason: 'smtp_all_recipients_rejected' };
      return { status: 'accepted', id: info.messageId };
    } catch (err) {
      const e = err as { code?: string; responseCode?: number; message?: string };
      const secrets = [this.cfg.password];
      if (typeof e.responseCode === 'number') {
        // 4xx: transient (greylisting, full queue); 5xx: refused for good, except auth (535) which an operator fixes.
        const reason = scrubSecrets(`smtp_${e.responseCode}`, secrets);
        if (e.responseCode >= 500 && e.responseCode !== 535 && e.responseCode !== 530) return { status: 'permanent', reason };
        return { status: 'retriable', reason };
      }
      const code = e.code ?? 'error';
      if (code === 'EENVELOPE' || code === 'EMESSAGE') return { status: 'permanent', reason: `smtp_${code}` };
      return { status: 'retriable', reason: RETRIABLE_CODES.has(code) ? `smtp_${code}` : `smtp_error_${code}` };
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
