import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { SampleMetrics } from '../../contract/schemas.js';
import { SourceUnavailableError, type MetricSource } from './sources/source.js';

export interface SourceTransition {
  source: string;
  state: 'unavailable' | 'recovered';
  reason: string;
}

export interface SamplerOptions {
  sources: MetricSource[];
  intervalMs: number;
  clock: Clock;
  log: Logger;
  /** Called with each finished sample (sample time = start of collection). */
  onSample: (t: number, metrics: SampleMetrics) => void;
  /** Called when a source becomes unavailable or recovers (logged once per transition). */
  onTransition?: (tr: SourceTransition) => void;
  /**
   * Called at each tick, before the sources run: work due once per interval can share the
   * sample's wake-up instead of a timer of its own (agent.ts: the heartbeat).
   */
  onTick?: () => void;
}

/**
 * Runs every source each interval, at a fixed rate (the next tick is computed from the
 * schedule, not from when the last one finished, so slow sources do not drift the
 * series). A source that throws or times out is reported as `{ unavailable }` in the
 * sample and logged once; when it works again that is logged once too.
 */
export class Sampler {
  private timer: TimerHandle | undefined;
  private running = false;
  private nextAt = 0;
  private readonly unavailable = new Map<string, string>();
  private inFlight: Promise<void> | undefined;

  constructor(private readonly opts: SamplerOptions) {}

  async start(): Promise<void> {
    const { sources, log } = this.opts;
    await Promise.all(
      sources.map(async (s) => {
        try {
          await s.init?.();
        } catch (err) {
          log.debug({ source: s.name, err: (err as Error).message }, 'source init failed; collect will report it');
        }
      }),
    );
    this.running = true;
    this.nextAt = this.opts.clock.monotonic();
    this.tick();
  }

  private tick(): void {
    if (!this.running) return;
    try {
      this.opts.onTick?.();
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'sampler tick hook failed');
    }
    this.inFlight = this.sampleOnce().finally(() => {
      this.inFlight = undefined;
      if (!this.running) return;
      const now = this.opts.clock.monotonic();
      this.nextAt += this.opts.intervalMs;
      // If we fell more than one interval behind (machine froze or slept), skip ahead.
      if (this.nextAt < now) this.nextAt = now + this.opts.intervalMs - ((now - this.nextAt) % this.opts.intervalMs);
      this.timer = this.opts.clock.setTimeout(() => this.tick(), Math.max(0, this.nextAt - now));
    });
  }

  /** Collect once from every source (exposed for tests and the first sample). */
  async sampleOnce(): Promise<void> {
    const { sources, clock } = this.opts;
    const t = clock.now();
    const timeoutMs = Math.max(1000, Math.min(this.opts.intervalMs * 0.8, 20_000));
    const metrics: Record<string, unknown> = {};
    // One timer for the whole sample (every source has the same deadline), not one per source.
    let expire!: () => void;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => (expire = () => resolve(TIMED_OUT)));
    const timer = clock.setTimeout(() => expire(), timeoutMs);
    try {
      await Promise.all(
        sources.map(async (s) => {
          try {
            const v = await Promise.race([s.collect(), deadline]);
            if (v === TIMED_OUT) throw new SourceUnavailableError(`${s.name}: timed out after ${timeoutMs} ms`);
            metrics[s.name] = v;
            this.markOk(s.name);
          } catch (err) {
            const reason = err instanceof SourceUnavailableError ? err.reason : `error: ${(err as Error)?.message ?? String(err)}`;
            metrics[s.name] = { unavailable: reason.slice(0, 200) || 'unknown error' };
            this.markUnavailable(s.name, reason);
          }
        }),
      );
    } finally {
      clock.clear(timer);
    }
    this.opts.onSample(t, metrics as SampleMetrics);
  }

  private markUnavailable(source: string, reason: string): void {
    const prev = this.unavailable.get(source);
    if (prev !== undefined) return;
    this.unavailable.set(source, reason);
    this.opts.log.warn({ source, reason }, 'metric source unavailable; reporting it as such until it recovers');
    this.opts.onTransition?.({ source, state: 'unavailable', reason });
  }

  private markOk(source: string): void {
    if (!this.unavailable.has(source)) return;
    this.unavailable.delete(source);
    this.opts.log.info({ source }, 'metric source recovered');
    this.opts.onTransition?.({ source, state: 'recovered', reason: '' });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.opts.clock.clear(this.timer);
    await this.inFlight;
    await Promise.all(this.opts.sources.map((s) => (s.stop ? s.stop().catch(() => undefined) : Promise.resolve())));
  }
}

/** What the sample's deadline gives a source that has not answered by then. */
const TIMED_OUT = Symbol('timed out');
