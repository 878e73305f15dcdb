import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { LANGUAGES } from './notification.js';

/**
 * Config section `notify` of the collector (issue 4, notifiers). Secrets (bot token, OA
 * tokens and secret key, SMTP password, webhook secrets) sit under keys that
 * common/log.ts redacts, and no code path logs a channel config as a whole.
 */

const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL');

/** Token bucket: `perMinute` sustained, `burst` at once. Excess waits in the outbox. */
export const RateLimitSchema = z.object({
  perMinute: z.number().positive().max(100_000).default(20),
  burst: z.number().int().min(1).max(10_000).default(5),
});
export type RateLimit = z.output<typeof RateLimitSchema>;

const channelCommon = {
  /** Used by `canh notify test --channel NAME`, in metrics and logs. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, - and _'),
  enabled: z.boolean().default(true),
  language: z.enum(LANGUAGES).default('vi'),
  /** Every request of this channel is aborted after this. */
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  /** Overrides `notify.rateLimit` for this channel. */
  rateLimit: RateLimitSchema.optional(),
  /** Only the daily digest goes to this channel, not each alert. */
  digestOnly: z.boolean().default(false),
  /**
   * Gets the province digest (many sites down together, issue 12 item 6). Default: the
   * channels that get alerts (not `digestOnly` ones); `false` keeps a channel to per-site
   * messages, `true` adds it to a `digestOnly` channel.
   */
  provinceDigest: z.boolean().optional(),
};

export const ZaloBotChannelSchema = z.object({
  type: z.literal('zalo_bot'),
  ...channelCommon,
  /** Bot token from Zalo Bot Creator (secret: redacted from every log line and error). */
  token: z.string().min(8),
  /** Chat (user or group) the bot writes to. */
  chatId: z.string().min(1),
  baseUrl: httpUrl.default('https://bot-api.zaloplatforms.com'),
  /** Texts above 2,000 characters go out in parts, at most this many (then summarised). */
  maxParts: z.number().int().min(1).max(20).default(5),
});

export const ZaloOaChannelSchema = z.object({
  type: z.literal('zalo_oa'),
  ...channelCommon,
  groupId: z.string().min(1),
  appId: z.string().min(1),
  /** App secret key (header `secret_key` of the token refresh). */
  secret: z.string().min(1),
  /** Initial token pair from the OA authorisation; refreshed pairs are kept in the store. */
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  baseUrl: httpUrl.default('https://openapi.zalo.me'),
  oauthUrl: httpUrl.default('https://oauth.zaloapp.com'),
  maxParts: z.number().int().min(1).max(20).default(5),
});

export const EmailChannelSchema = z.object({
  type: z.literal('email'),
  ...channelCommon,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** `starttls` (port 587, upgrade required), `tls` (implicit TLS, port 465), `none` (local relay only). */
  security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
  username: z.string().optional(),
  password: z.string().optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1).max(50),
  maxConnections: z.number().int().min(1).max(10).default(2),
  tls: z
    .object({
      rejectUnauthorized: z.boolean().default(true),
      /** Extra CA (PEM) for a relay with a private certificate. */
      caFile: z.string().optional(),
    })
    .prefault({}),
});

export const WebhookChannelSchema = z.object({
  type: z.literal('webhook'),
  ...channelCommon,
  url: httpUrl,
  /** A fixed header carrying a shared secret, e.g. `{name: "X-Api-Key", secret: "…"}`. */
  header: z.object({ name: z.string().regex(/^[A-Za-z0-9-]+$/), secret: z.string().min(1) }).optional(),
  /** When set, `X-Canh-Signature: sha256=<hex HMAC of "<timestamp>.<body>">` and `X-Canh-Timestamp`. */
  hmacSecret: z.string().min(8).optional(),
});

export const ChannelSchema = z.discriminatedUnion('type', [ZaloBotChannelSchema, ZaloOaChannelSchema, EmailChannelSchema, WebhookChannelSchema]);
export type ChannelConfig = z.output<typeof ChannelSchema>;
export type ChannelType = ChannelConfig['type'];

export const NotifyConfigSchema = z
  .object({
    /** Zone of the times in messages and of the digest schedule. */
    timeZone: z.string().default('Asia/Ho_Chi_Minh'),
    channels: z.array(ChannelSchema).max(32).default([]),
    /** Default per-channel rate limit. */
    rateLimit: RateLimitSchema.prefault({}),
    retry: z
      .object({
        minDelayMs: z.number().int().min(10).default(5_000),
        maxDelayMs: z
          .number()
          .int()
          .min(10)
          .default(10 * 60_000),
        factor: z.number().min(1).max(10).default(2),
        /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. */
        jitter: z.number().min(0).max(1).default(0.2),
        /** A delivery is given up (state `failed`, reason recorded) after this many attempts… */
        maxAttempts: z.number().int().min(1).max(1000).default(30),
        /** …or when it is this old. */
        maxAgeMs: z
          .number()
          .int()
          .min(1000)
          .default(24 * 3600_000),
      })
      .prefault({}),
    outbox: z
      .object({
        /** Bound of pending deliveries per channel; beyond it the oldest are given up (`overflow`). */
        maxPendingPerChannel: z.number().int().min(1).max(1_000_000).default(5_000),
        /** Sent and failed deliveries are kept this long (digest, audit), then deleted. */
        retentionDays: z.number().int().min(1).max(3650).default(30),
      })
      .prefault({}),
    digest: z
      .object({
        enabled: z.boolean().default(false),
        /** node-cron expression in `timeZone`; default 17:30 every day (end of the working day). */
        cron: z.string().default('30 17 * * *'),
        /** Also send the digest on a day without alerts (a daily sign that alerting works). */
        sendEmpty: z.boolean().default(false),
        /** Channels that get the digest; default every enabled channel. */
        channels: z.array(z.string()).optional(),
      })
      .prefault({}),
  })
  .prefault({})
  .superRefine((n, ctx) => {
    const names = new Set<string>();
    n.channels.forEach((c, i) => {
      if (names.has(c.name)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'name'], message: `duplicate channel name "${c.name}"` });
      names.add(c.name);
    });
    n.digest.channels?.forEach((c, i) => {
      if (!names.has(c)) ctx.addIssue({ code: 'custom', path: ['digest', 'channels', i], message: `no channel named "${c}"` });
    });
    if (!validateCron(n.digest.cron)) ctx.addIssue({ code: 'custom', path: ['digest', 'cron'], message: `not a cron expression: "${n.digest.cron}"` });
    try {
      new Intl.DateTimeFormat('en', { timeZone: n.timeZone });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['timeZone'], message: `unknown time zone "${n.timeZone}"` });
    }
  });
export type NotifyConfig = z.output<typeof NotifyConfigSchema>;
