import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { DiskHealth } from '../../contract/schemas.js';
import type { AgentEvent, EmitEvent } from '../agent-event.js';
import { readJsonFile, writeFileAtomic } from '../../common/atomic-file.js';
import { DiskHealthUnavailable, type DiskHealthReader } from './disk-health-reader.js';

export interface DiskHealthMonitorOptions {
  clock: Clock;
  log: Logger;
  /** Undefined: no reader for this OS; each check reports `unavailable`. */
  reader: DiskHealthReader | undefined;
  intervalMs: number;
  timeoutMs: number;
  emit: EmitEvent;
  /**
   * Where the time of the last check (and the reader's counters) is kept across agent restarts,
   * so disk errors are counted once: neither twice after a restart nor lost while the agent was down.
   */
  stateFile?: string;
}

/** A persisted last check older than this is not trusted (the System log query would be huge). */
const MAX_LOOKBACK_MS = 8 * 86_400_000;

const SEVERITY: Record<DiskHealth['state'], 0 | 1 | 2> = { ok: 0, standby: 0, unavailable: 0, warning: 1, failing: 2 };

/**
 * Runs the disk-health check at start and every `intervalMs` (hours: smartctl and the
 * Windows storage cmdlets are far too heavy for every sample) and reports each as one
 * `disk_health` event. A check that cannot run reports `details.unavailable` with why; a
 * check still running when the next is due is not doubled.
 */
export class DiskHealthMonitor {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private lastCheckAt: number | undefined;
  private lastUnavailable: string | undefined;
  private abort: AbortController | undefined;
  private stopped = false;

  constructor(private readonly opts: DiskHealthMonitorOptions) {}

  start(): void {
    void this.check();
    this.timer = this.opts.clock.setInterval(() => void this.check(), this.opts.intervalMs);
  }

  /** Stops the schedule and kills a running check's child processes (never waits minutes for smartctl at shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.clock.clear(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    // Not awaited: the aborted check settles on its own and emits nothing.
  }

  /** One check (exposed for tests). Resolves when its event was emitted. */
  check(): Promise<void> {
    this.running ??= this.runCheck().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runCheck(): Promise<void> {
    const { clock, reader, timeoutMs, intervalMs } = this.opts;
    const now = clock.now();
    if (this.lastCheckAt === undefined && this.opts.stateFile) await this.loadState(now);
    // Without a persisted last check, the first check looks back one interval for disk error events.
    const since = this.lastCheckAt ?? now - intervalMs;
    this.lastCheckAt = now;
    let ev: AgentEvent;
    const abort = (this.abort = new AbortController());
    try {
      if (!reader) throw new DiskHealthUnavailable('no disk health reader on this OS');
      const report = await withDeadline(reader.read(since, now, timeoutMs, abort.signal), timeoutMs * 4, clock, abort);
      ev = eventFor(report.disks, report.details);
      this.lastUnavailable = undefined;
    } catch (err) {
      const reason = (err instanceof DiskHealthUnavailable ? err.reason : `error: ${(err as Error)?.message ?? String(err)}`).slice(0, 200);
      if (this.lastUnavailable !== reason) this.opts.log.info({ reason }, 'disk health unavailable; checking again at the next interval');
      this.lastUnavailable = reason;
      ev = { type: 'disk_health', severity: 'info', message: `disk health unavailable: ${reason}`, details: { unavailable: reason } };
    }
    // A check cut short by the agent stopping says nothing about the disks.
    if (this.stopped) return;
    this.opts.emit(ev);
    await this.saveState();
  }

  private async loadState(now: number): Promise<void> {
    if (!this.opts.stateFile) return;
    const st = (await readJsonFile(this.opts.stateFile)) as { lastCheckAt?: unknown; reader?: unknown } | null;
    if (!st || typeof st !== 'object') return;
    if (typeof st.lastCheckAt === 'number' && st.lastCheckAt < now && now - st.lastCheckAt <= MAX_LOOKBACK_MS) this.lastCheckAt = st.lastCheckAt;
    if (st.reader && typeof st.reader === 'object') this.opts.reader?.loadState?.(st.reader as Record<string, unknown>);
  }

  private async saveState(): Promise<void> {
    if (!this.opts.stateFile || this.lastCheckAt === undefined) return;
    const body = JSON.stringify({ lastCheckAt: this.lastCheckAt, reader: this.opts.reader?.saveState?.() ?? {} });
    try {
      await writeFileAtomic(this.opts.stateFile, body, { fsync: false });
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'disk health state not saved; the next start looks back one interval');
    }
  }
}

/** The `disk_health` event of one successful check: severity from the worst disk. */
export function eventFor(disks: DiskHealth[], details: Record<string, string | number | boolean | null> = {}): AgentEvent {
  const worst = disks.reduce((w, d) => Math.max(w, SEVERITY[d.state]), 0);
  const bad = disks.filter((d) => SEVERITY[d.state] > 0);
  const message =
    bad.length === 0
      ? `disk health: ${disks.length} disk(s), no problem found`
      : `disk health: ${bad.map((d) => `${d.device} ${d.state}${d.reason ? ` (${d.reason})` : ''}`).join('; ')}`.slice(0, 1024);
  return { type: 'disk_health', severity: worst === 2 ? 'critical' : worst === 1 ? 'warning' : 'info', message, details, disks };
}

function withDeadline<T>(p: Promise<T>, ms: number, clock: Clock, abort: AbortController): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = clock.setTimeout(() => {
      abort.abort();
      reject(new DiskHealthUnavailable(`check timed out after ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        clock.clear(t);
        resolve(v);
      },
      (e: unknown) => {
        clock.clear(t);
        reject(e);
      },
    );
  });
}
