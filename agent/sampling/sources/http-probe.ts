import type { Clock, TimerHandle } from '../../../common/clock.js';
import { MAX_PING_TARGETS } from '../../../contract/limits.js';
import type { HttpProbeResult } from '../../../contract/schemas.js';
import type { AgentConfig } from '../../config.js';
import { NodeHttpTimer, unanswered, type HttpProbeTarget, type HttpTimer } from '../../platform/http-timing.js';
import type { MetricSource, SourceContext } from './source.js';

export interface HttpProbeSourceDeps {
  /** The timing port; real node:http/https requests by default. */
  timer?: HttpTimer;
}

/** A fraction in [0, 1) from a string (FNV-1a), so each host has its own, stable, phase. */
export function phaseFraction(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}

/** The probes of the configuration, as the timer takes them. */
export function probeTargets(config: AgentConfig): HttpProbeTarget[] {
  return config.http.probes.slice(0, MAX_PING_TARGETS).map((p) => ({
    name: p.name,
    url: p.url,
    method: p.method,
    timeoutSeconds: p.timeoutSeconds,
    expectStatus: p.expectStatus,
    maxBodyBytes: config.http.maxBodyBytes,
  }));
}

export interface HttpProbeScheduleOptions {
  targets: readonly HttpProbeTarget[];
  intervalMs: number;
  /** Fraction of a slot by which every probe is shifted (a per-host phase, so sites do not probe in step). */
  phase: number;
  clock: Clock;
  timer: HttpTimer;
  /** A probe's turn came while its previous one was still running (timeout longer than the interval). */
  onSkipped?: (name: string) => void;
}

/**
 * Runs each probe once per interval, the probes spread evenly over the interval (probe i
 * of n at (i + phase) / n of it) rather than in a burst, so a sample's probes do not
 * compete with each other for the line and a short congestion is caught by one of them.
 * Fixed-rate like the sampler; a probe still running when its next turn comes skips that
 * turn (one request per target at a time). Results wait in a map bounded by the number
 * of probes, newest wins, until {@link take}.
 */
export class HttpProbeSchedule {
  private readonly timers = new Map<string, TimerHandle>();
  private readonly nextAt = new Map<string, number>();
  private readonly running = new Map<string, Promise<void>>();
  private fresh = new Map<string, HttpProbeResult>();
  private started = false;
  private abort = new AbortController();

  constructor(private readonly opts: HttpProbeScheduleOptions) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.abort = new AbortController();
    const { targets, intervalMs, phase, clock } = this.opts;
    const now = clock.monotonic();
    targets.forEach((t, i) => {
      this.nextAt.set(t.name, now + ((i + phase) / targets.length) * intervalMs);
      this.arm(t);
    });
  }

  private arm(t: HttpProbeTarget): void {
    const { clock } = this.opts;
    const at = this.nextAt.get(t.name)!;
    this.timers.set(
      t.name,
      clock.setTimeout(() => this.turn(t), Math.max(0, at - clock.monotonic())),
    );
  }

  private turn(t: HttpProbeTarget): void {
    if (!this.started) return;
    const { clock, intervalMs, timer } = this.opts;
    if (this.running.has(t.name)) {
      this.opts.onSkipped?.(t.name);
    } else {
      const run = timer
        .probe(t, this.abort.signal)
        .then(
          (r) => {
            if (this.started) this.fresh.set(t.name, r);
          },
          // The timer never rejects by contract; a bug there must not stop the schedule.
          (err: unknown) => {
            if (this.started) this.fresh.set(t.name, failed(t, err));
          },
        )
        .finally(() => this.running.delete(t.name));
      this.running.set(t.name, run);
    }
    const now = clock.monotonic();
    let next = this.nextAt.get(t.name)! + intervalMs;
    // Fell behind (the PC slept or froze): keep the phase, skip the missed turns.
    if (next < now) next += Math.ceil((now - next) / intervalMs) * intervalMs;
    this.nextAt.set(t.name, next);
    this.arm(t);
  }

  /** The results finished since the previous call, in configuration order. */
  take(): HttpProbeResult[] {
    const out: HttpProbeResult[] = [];
    for (const t of this.opts.targets) {
      const r = this.fresh.get(t.name);
      if (r) out.push(r);
    }
    this.fresh = new Map();
    return out;
  }

  /** Stops the turns, cancels the probes in flight and waits for them to let go of their sockets. */
  async stop(): Promise<void> {
    this.started = false;
    this.abort.abort();
    for (const h of this.timers.values()) this.opts.clock.clear(h);
    this.timers.clear();
    await Promise.all(this.running.values());
  }
}

/** A failed probe is data (it goes in the sample), not a warning; debug logs say which and why. */
function logFailures(timer: HttpTimer, log: SourceContext['log']): HttpTimer {
  return {
    async probe(t, signal) {
      const r = await timer.probe(t, signal);
      if (!r.ok && r.error !== 'ABORTED') log.debug({ probe: t.name, status: r.status, error: r.error }, 'HTTP probe failed');
      return r;
    },
  };
}

function failed(t: HttpProbeTarget, err: unknown): HttpProbeResult {
  return { ...unanswered(t), error: String((err as Error)?.message ?? err).slice(0, 200) || 'error' };
}

/**
 * HTTP timing probes of the configured URLs (issue 4: the TTHC portals, "TTHC portal
 * unreachable from the site"; issue 7: "TTHC portals reachable"). The probes run in the
 * background on their own schedule (see {@link HttpProbeSchedule}); `collect()` hands over
 * the results finished since the previous sample, so each measurement is reported once
 * (a sample while a probe is still running does not carry it; the next one does). The
 * registry leaves this source out when `http.enabled` is false.
 */
export function createHttpProbeSource(ctx: SourceContext, deps: HttpProbeSourceDeps = {}): MetricSource<'http'> {
  const { config, clock, log } = ctx;
  const targets = probeTargets(config);
  let skippedLogged = false;
  const schedule = new HttpProbeSchedule({
    targets,
    intervalMs: config.http.intervalSeconds * 1000,
    phase: phaseFraction(`${config.site}/${config.host}`),
    clock,
    timer: logFailures(deps.timer ?? new NodeHttpTimer({ clock }), log),
    onSkipped: (name) => {
      // Once per run: the configuration (timeout longer than the interval) is the cause.
      if (skippedLogged) return;
      skippedLogged = true;
      log.warn({ probe: name }, 'HTTP probe still running at its next turn; skipping turns (timeoutSeconds is longer than the probe interval)');
    },
  });

  return {
    name: 'http',
    async init() {
      schedule.start();
    },
    async collect() {
      schedule.start(); // no-op once started; a source used without init() still probes
      return schedule.take();
    },
    async stop() {
      await schedule.stop();
    },
  };
}
