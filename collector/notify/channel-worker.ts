/**
 * Sends one channel's deliveries from the outbox, one at a time and in queue order, so a
 * resolved notice never overtakes its alert on a channel (after an outage of the channel
 * the newer, less backed-off messages would otherwise go first). The price: a message the
 * service keeps refusing holds its channel until it is given up (bounded by `maxAttempts`
 * and `maxAgeMs`). A slow or down channel never holds the others up: each channel has its
 * own worker.
 *
 * Per delivery: render (the channel's language), cut into parts, and for each part not yet
 * sent take a rate-limit token, send, and on acceptance mark it at once (outbox.ts). A
 * retriable error reschedules the delivery with exponential backoff and jitter (or the
 * service's Retry-After); it is given up, and the reason recorded, after `maxAttempts`
 * attempts or when older than `maxAgeMs`. A permanent error gives it up at once.
 */
import { backoffMs } from '../../common/backoff.js';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import type { NotifyConfig } from './config.js';
import type { Notifier, RenderedMessage, SendOutcome } from './notifier.js';
import type { NotifyMetrics } from './notify-metrics.js';
import type { Delivery, Outbox } from './outbox.js';
import { render } from './render.js';
import type { TokenBucket } from './token-bucket.js';

export type RetryOptions = NotifyConfig['retry'];

/** Retry-After may ask for up to 10 min beyond the backoff cap (http-request.ts). */
const CLOCK_SLACK_MS = 10 * 60_000;

export interface ChannelWorkerDeps {
  outbox: Outbox;
  bucket: TokenBucket;
  clock: Clock;
  log: Logger;
  metrics: NotifyMetrics;
  random?: () => number;
}

export class ChannelWorker {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private scheduled = false;
  private stopped = true;
  private readonly random: () => number;

  constructor(
    readonly notifier: Notifier,
    private readonly opts: { retry: RetryOptions; timeZone: string },
    private readonly deps: ChannelWorkerDeps,
  ) {
    this.random = deps.random ?? Math.random;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /**
   * Something may be due (new delivery, timer): run the loop unless it runs already. The
   * loop starts in a microtask, never inside the caller: `enqueue` may run inside the alert
   * engine's SQLite transaction, and nothing may be sent before that transaction commits
   * (a rolled-back notification must not reach anyone).
   */
  wake(): void {
    if (this.stopped) return;
    if (this.running || this.scheduled) {
      this.again = true;
      return;
    }
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.stopped || this.running) return;
      this.deps.clock.clear(this.timer);
      this.timer = undefined;
      this.running = this.loop()
        .catch((err: unknown) => this.deps.log.error({ err: (err as Error).message }, 'notify worker error'))
        .finally(() => {
          this.running = undefined;
          if (this.again) {
            this.again = false;
            this.wake();
          }
        });
    });
  }

  /** Stops after the send in flight (its result is recorded). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.clock.clear(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Resolves when the worker is idle (tests). */
  async idle(): Promise<void> {
    while (this.running || this.scheduled) await (this.running ?? Promise.resolve());
  }

  private arm(ms: number): void {
    this.deps.clock.clear(this.timer);
    this.timer = this.deps.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.wake();
      },
      Math.max(0, ms),
    );
  }

  private async loop(): Promise<void> {
    const { outbox, clock, metrics } = this.deps;
    const name = this.notifier.name;
    while (!this.stopped) {
      this.again = false;
      const d = outbox.nextDue(name);
      if (!d) return;
      const now = clock.now();
      // A due time further ahead than any backoff means the wall clock was set back (a PC
      // whose clock was reset): send now rather than wait for the clock to catch up.
      if (d.nextAt > now && d.nextAt - now <= this.opts.retry.maxDelayMs + CLOCK_SLACK_MS) {
        this.arm(d.nextAt - now);
        return;
      }
      if (d.attempts >= this.opts.retry.maxAttempts || now - d.queuedAt > this.opts.retry.maxAgeMs) {
        this.giveUp(d, `gave_up after ${d.attempts} attempts over ${Math.round((now - d.queuedAt) / 1000)} s; last error: ${d.lastError ?? 'none'}`, 'gave_up', false);
        continue;
      }
      const message = outbox.message(d.messageId);
      if (!message) {
        this.giveUp(d, 'bad_payload: stored message unreadable', 'bad_payload', false);
        continue;
      }
      let parts: RenderedMessage[];
      try {
        parts = this.notifier.parts(render(message, { language: this.notifier.language, timeZone: this.opts.timeZone }));
      } catch (err) {
        this.giveUp(d, `bad_payload: cannot render (${(err as Error).message.slice(0, 200)})`, 'bad_payload', false);
        continue;
      }
      if (d.partsSent >= parts.length) {
        // Every part was accepted (a newer version may cut the text into fewer parts).
        outbox.markSent(d.id, d.partsSent, clock.now());
        metrics.sent.inc({ channel: name });
        continue;
      }
      const waitMs = await this.sendParts(d, parts);
      if (waitMs !== undefined) {
        // Rate limited: come back when a token is there (the delivery stays pending, untouched).
        metrics.rateLimited.inc({ channel: name });
        this.arm(waitMs);
        return;
      }
    }
  }

  /** Sends the remaining parts; returns ms to wait when the rate limit stopped it. */
  private async sendParts(d: Delivery, parts: RenderedMessage[]): Promise<number | undefined> {
    const { outbox, clock, metrics, bucket, log } = this.deps;
    const name = this.notifier.name;
    for (let i = Math.min(d.partsSent, parts.length); i < parts.length; i++) {
      if (this.stopped) return undefined; // the rest of the parts go after the restart
      const wait = bucket.take(clock.monotonic());
      if (wait > 0) return wait;
      const startedAt = clock.monotonic();
      let outcome: SendOutcome;
      try {
        outcome = await this.notifier.send(parts[i]!, { idempotencyKey: `${d.messageId}:${name}:${i}`, part: i, parts: parts.length });
      } catch (err) {
        // Notifiers do not throw; if one does, treat it as retriable (and say so).
        outcome = { status: 'retriable', reason: `notifier_threw_${(err as Error).name ?? 'error'}` };
      }
      const now = clock.now();
      metrics.sendSeconds.inc({ channel: name }, (clock.monotonic() - startedAt) / 1000);
      if (outcome.status === 'accepted') {
        metrics.partsSent.inc({ channel: name });
        if (i === parts.length - 1) {
          outbox.markSent(d.id, parts.length, now);
          metrics.sent.inc({ channel: name });
          log.info({ delivery: d.id, message: d.messageId, parts: parts.length, attempts: d.attempts + 1 }, 'notification delivered');
        } else {
          outbox.markPartSent(d.id, i + 1, now);
        }
        continue;
      }
      if (outcome.status === 'permanent') {
        metrics.attemptFailures.inc({ channel: name, outcome: 'permanent' });
        this.giveUp(d, `permanent: ${outcome.reason}`, 'permanent', true);
        return undefined;
      }
      metrics.attemptFailures.inc({ channel: name, outcome: 'retriable' });
      const attempts = d.attempts + 1;
      if (attempts >= this.opts.retry.maxAttempts) {
        this.giveUp({ ...d, attempts }, `gave_up after ${attempts} attempts; last error: ${outcome.reason}`, 'gave_up', true);
        return undefined;
      }
      const delay = Math.max(outcome.retryAfterMs ?? 0, backoffMs(attempts, this.opts.retry, this.random));
      outbox.markRetry(d.id, now + delay, outcome.reason, now);
      metrics.retries.inc({ channel: name });
      // One line per failed attempt: bounded by the backoff (and only the head of each channel's queue is tried).
      log.warn({ channel: name, delivery: d.id, attempts, retryInMs: delay, reason: outcome.reason }, 'notification not accepted; will retry');
      return undefined;
    }
    return undefined;
  }

  private giveUp(d: Delivery, reason: string, kind: 'gave_up' | 'permanent' | 'bad_payload', countAttempt: boolean): void {
    this.deps.outbox.markFailed(d.id, reason, this.deps.clock.now(), countAttempt);
    this.deps.metrics.failed.inc({ channel: this.notifier.name, reason: kind });
    this.deps.log.error({ channel: this.notifier.name, delivery: d.id, message: d.messageId, attempts: d.attempts, reason }, 'notification given up');
  }
}
