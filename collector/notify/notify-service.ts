/**
 * The notifiers wired together (house style §1, built by collector.ts): the outbox, one
 * notifier and one worker per enabled channel, the per-channel rate limits, the daily
 * digest. It is the {@link NotificationSink} the alert engine writes to.
 */
import type { Clock, TimerHandle } from '../../common/clock.js';
import { RateLimitedLog, type Logger } from '../../common/log.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';
import { ChannelWorker } from './channel-worker.js';
import { createNotifier } from './channel-registry.js';
import { SqliteOaTokenStore, type OaTokenStore, type ZaloOaTokens } from './channels/zalo-oa-tokens.js';
import type { NotifyConfig } from './config.js';
import { buildDigest, cronScheduler, type DigestScheduler } from './digest.js';
import { NotificationSchema, type EnqueueResult, type Notification, type NotificationSink } from './notification.js';
import type { Notifier, SendOutcome } from './notifier.js';
import { notifyMetrics, type NotifyMetrics } from './notify-metrics.js';
import { Outbox } from './outbox.js';
import { messageId, type OutboxMessage } from './outbox-message.js';
import { ProvinceDigestSchema, type ProvinceDigest } from './province-message.js';
import { render } from './render.js';
import { ReportMessageSchema, type ReportMessage } from './report-message.js';
import { TokenBucket } from './token-bucket.js';

export interface NotifyServiceDeps {
  db: SqliteDatabase;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** Default node-cron. */
  scheduler?: DigestScheduler;
  /** For retry jitter; tests pass a constant. */
  random?: () => number;
  /** Replaces the notifiers built from the config (tests). */
  notifiers?: Notifier[];
  /** Default: the `notify_oa_tokens` table. */
  oaTokenStore?: OaTokenStore;
}

const PRUNE_EVERY_MS = 3600_000;
const DAY_MS = 86_400_000;

export class NotifyService implements NotificationSink {
  readonly outbox: Outbox;
  readonly notifiers = new Map<string, Notifier>();
  readonly metrics: NotifyMetrics;
  private readonly workers = new Map<string, ChannelWorker>();
  private readonly warn: RateLimitedLog;
  private readonly log: Logger;
  private pruneTimer: TimerHandle | undefined;
  private digestTask: { stop(): void } | undefined;
  private started = false;

  constructor(
    readonly config: NotifyConfig,
    private readonly deps: NotifyServiceDeps,
  ) {
    this.log = deps.log;
    this.warn = new RateLimitedLog(deps.log, 60_000, () => deps.clock.monotonic());
    this.metrics = notifyMetrics(deps.metrics);
    this.outbox = new Outbox(deps.db, { maxPendingPerChannel: config.outbox.maxPendingPerChannel, retentionMs: config.outbox.retentionDays * DAY_MS });
    const oaTokenStore = deps.oaTokenStore ?? new SqliteOaTokenStore(deps.db);
    const oaTokens = new Map<string, ZaloOaTokens>();
    const notifiers =
      deps.notifiers ??
      config.channels
        .filter((c) => c.enabled)
        .map((c) => createNotifier(c, { clock: deps.clock, log: deps.log.child({ channel: c.name }), oaTokenStore, oaTokens, oaRefreshes: this.metrics.oaRefreshes }));
    for (const n of notifiers) {
      this.notifiers.set(n.name, n);
      const rl = config.channels.find((c) => c.name === n.name)?.rateLimit ?? config.rateLimit;
      this.workers.set(
        n.name,
        new ChannelWorker(
          n,
          { retry: config.retry, timeZone: config.timeZone },
          {
            outbox: this.outbox,
            bucket: new TokenBucket(rl.burst, rl.perMinute, deps.clock.monotonic()),
            clock: deps.clock,
            log: deps.log.child({ channel: n.name }),
            metrics: this.metrics,
            ...(deps.random ? { random: deps.random } : {}),
          },
        ),
      );
    }
    deps.metrics.gauge('canh_notify_pending', 'Deliveries waiting in the outbox per channel', (g) => {
      for (const name of this.notifiers.keys()) g.set(0, { channel: name });
      for (const c of this.outbox.pendingByChannel()) g.set(c.n, { channel: c.channel });
    });
    deps.metrics.gauge('canh_notify_oldest_pending_seconds', 'Age of the oldest waiting delivery per channel', (g) => {
      for (const name of this.notifiers.keys()) g.set(0, { channel: name });
      const now = deps.clock.now();
      for (const c of this.outbox.pendingByChannel()) g.set(Math.max(0, (now - c.oldest) / 1000), { channel: c.channel });
    });
  }

  /** Channels a message goes to: the named ones (enabled), else every enabled one. */
  private channelsFor(kind: OutboxMessage['kind'], named: readonly string[] | undefined): string[] {
    const cfg = new Map(this.config.channels.map((c) => [c.name, c]));
    if (named) {
      const out: string[] = [];
      for (const n of named) {
        if (this.notifiers.has(n)) out.push(n);
        else this.warn.warn(`unknown:${n}`, { channel: n }, 'notification names a channel that is not configured or not enabled');
      }
      return out;
    }
    if (kind === 'province') return [...this.notifiers.keys()].filter((n) => cfg.get(n)?.provinceDigest ?? !cfg.get(n)?.digestOnly);
    return [...this.notifiers.keys()].filter((n) => (kind === 'alert' ? !cfg.get(n)?.digestOnly : true));
  }

  /** {@link NotificationSink}: validates, persists one delivery per channel, wakes the workers. */
  enqueue(notification: Notification): EnqueueResult {
    const parsed = NotificationSchema.safeParse(notification);
    if (!parsed.success) {
      throw new Error(`invalid notification: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const n = parsed.data;
    return this.enqueueMessage({ kind: 'alert', notification: n }, this.channelsFor('alert', n.channels));
  }

  enqueueMessage(message: OutboxMessage, channels: readonly string[]): EnqueueResult {
    const res = this.outbox.enqueue(message, channels, this.deps.clock.now(), (e) => {
      this.metrics.failed.inc({ channel: e.channel, reason: 'overflow' });
      this.warn.warn(
        `overflow:${e.channel}`,
        { channel: e.channel, delivery: e.deliveryId, message: e.messageId, bound: this.config.outbox.maxPendingPerChannel },
        'notify outbox full: oldest delivery given up',
      );
    });
    if (res.duplicate) {
      this.metrics.duplicates.inc();
      return res;
    }
    for (const ch of channels) {
      this.metrics.enqueued.inc({ channel: ch });
      this.workers.get(ch)?.wake();
    }
    this.log.debug({ message: messageId(message), kind: message.kind, channels: channels.length }, 'notification queued');
    return res;
  }

  /**
   * Queues a monthly report (issue 7) for its channels (every enabled one unless it names
   * some), durably: when it returns the report is in the outbox. Idempotent by id
   * (`report:<site>:<month>`): a repeat queues nothing. Throws on an invalid report.
   */
  enqueueReport(report: ReportMessage): EnqueueResult {
    const parsed = ReportMessageSchema.safeParse(report);
    if (!parsed.success) throw new Error(`invalid report: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return this.enqueueMessage({ kind: 'report', report: parsed.data }, this.channelsFor('report', parsed.data.channels));
  }

  /**
   * Queues a province digest (issue 12 item 6) for the channels that take it (each channel's
   * `provinceDigest`, default the alert channels). Synchronous and durable like
   * {@link enqueue} (the alert service calls it inside its state transaction); idempotent by
   * id (`province:<waveStart>[:summary]`). Throws on an invalid message.
   */
  enqueueProvince(digest: ProvinceDigest): EnqueueResult {
    const parsed = ProvinceDigestSchema.safeParse(digest);
    if (!parsed.success) throw new Error(`invalid province digest: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const res = this.enqueueMessage({ kind: 'province', province: parsed.data }, this.channelsFor('province', undefined));
    if (!res.duplicate) this.metrics.provinceDigests.inc({ phase: parsed.data.phase });
    return res;
  }

  /** Queues the digest of the last 24 hours (called by the schedule; callable for tests). */
  runDigest(): EnqueueResult {
    const to = this.deps.clock.now();
    const digest = buildDigest(this.outbox.alertMessages(to - DAY_MS, to), to - DAY_MS, to, this.config.timeZone);
    if (!digest.sites.length && !this.config.digest.sendEmpty) return { queued: 0, duplicate: false, dropped: 0 };
    const res = this.enqueueMessage({ kind: 'digest', digest }, this.channelsFor('digest', this.config.digest.channels));
    if (!res.duplicate) this.metrics.digests.inc();
    return res;
  }

  /**
   * Renders and sends `message` on `channel` now, all parts, without the outbox (for
   * `canh notify test`): the operator sees at once whether the channel works.
   */
  async sendNow(channel: string, message: OutboxMessage): Promise<{ outcome: SendOutcome; parts: number; partsSent: number }> {
    const n = this.notifiers.get(channel);
    if (!n) throw new Error(`no enabled channel named "${channel}" (configured: ${this.config.channels.map((c) => c.name).join(', ') || 'none'})`);
    const parts = n.parts(render(message, { language: n.language, timeZone: this.config.timeZone }));
    let sent = 0;
    for (const [i, p] of parts.entries()) {
      const outcome = await n.send(p, { idempotencyKey: `${messageId(message)}:${channel}:${i}`, part: i, parts: parts.length });
      if (outcome.status !== 'accepted') return { outcome, parts: parts.length, partsSent: sent };
      sent++;
    }
    return { outcome: { status: 'accepted' }, parts: parts.length, partsSent: sent };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.prune();
    this.pruneTimer = this.deps.clock.setInterval(() => this.prune(), PRUNE_EVERY_MS);
    if (this.config.digest.enabled) {
      this.digestTask = (this.deps.scheduler ?? cronScheduler).schedule(this.config.digest.cron, this.config.timeZone, () => {
        try {
          this.runDigest();
        } catch (err) {
          this.log.error({ err: (err as Error).message }, 'daily digest failed');
        }
      });
    }
    for (const w of this.workers.values()) w.start();
    this.log.info({ channels: [...this.notifiers.keys()], digest: this.config.digest.enabled }, 'notifiers started');
  }

  /** Stops scheduling; waits for sends in flight (their result is recorded); closes pools. */
  async stop(): Promise<void> {
    this.started = false;
    this.deps.clock.clear(this.pruneTimer);
    this.digestTask?.stop();
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    await Promise.all([...this.notifiers.values()].map((n) => n.close().catch(() => undefined)));
  }

  /** Resolves when no worker is sending (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.idle()));
  }

  private prune(): void {
    try {
      const n = this.outbox.prune(this.deps.clock.now());
      if (n) this.log.info({ deliveries: n }, 'old notifier deliveries deleted');
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'notify outbox prune failed');
    }
  }
}
