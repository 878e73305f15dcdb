import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';

/** Percentiles of the last window, seconds. */
interface DelayWindow {
  p50: number;
  p99: number;
  max: number;
}

/**
 * The collector's event-loop delay (house style §13: nothing slow on the hot loop, and the
 * loop's delay is a metric): `canh_event_loop_delay_seconds{quantile="0.5"|"0.99"|"1"}`
 * (1 = the maximum) over the last complete window (default one minute), from
 * `perf_hooks.monitorEventLoopDelay`, which samples in libuv without a JS timer of its own.
 */
export class EventLoopDelay {
  private histogram: IntervalHistogram | undefined;
  private timer: TimerHandle | undefined;
  private last: DelayWindow | undefined;

  constructor(
    private readonly clock: Clock,
    metrics: MetricsRegistry,
    private readonly windowMs = 60_000,
  ) {
    metrics.gauge('canh_event_loop_delay_seconds', 'Event-loop delay of the collector over the last minute (quantile 1 = max).', (g) => {
      const w = this.last ?? this.read();
      if (!w) return;
      g.set(w.p50, { quantile: '0.5' });
      g.set(w.p99, { quantile: '0.99' });
      g.set(w.max, { quantile: '1' });
    });
  }

  start(): void {
    if (this.histogram) return;
    this.histogram = monitorEventLoopDelay({ resolution: 20 });
    this.histogram.enable();
    this.timer = this.clock.setInterval(() => {
      this.last = this.read();
      this.histogram?.reset();
    }, this.windowMs);
  }

  stop(): void {
    this.clock.clear(this.timer);
    this.timer = undefined;
    this.histogram?.disable();
    this.histogram = undefined;
  }

  private read(): DelayWindow | undefined {
    const h = this.histogram;
    if (!h || h.count === 0) return undefined;
    // The histogram is in nanoseconds.
    return { p50: h.percentile(50) / 1e9, p99: h.percentile(99) / 1e9, max: h.max / 1e9 };
  }
}
