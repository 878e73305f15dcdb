import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { OutageCause } from '../../contract/schemas.js';
import type { AgentEvent, EmitEvent } from '../agent-event.js';
import { Heartbeat, readHeartbeat, type HeartbeatRecord } from './heartbeat.js';
import type { EvidenceDetail, ShutdownEvidenceReader, ShutdownFinding } from './shutdown-evidence/shutdown-finding.js';
import { ShutdownMarker, type ShutdownMarkerRecord } from './shutdown-marker.js';
import type { BootClock } from '../platform/system-info.js';

/**
 * Did the previous run end cleanly? (issue 3, "Agent, at start".) The heartbeat says when
 * the agent was last alive, the clean-shutdown marker whether it was asked to stop, the OS
 * boot whether the PC restarted since. Judgement and event building are pure functions
 * below; {@link OutageDetector} does the reading, writing and emitting.
 *
 * Outage event (`type: 'outage'`) fields, for the collector:
 * - `start`: last heartbeat (or a later time the OS recorded, e.g. the journal's last entry);
 * - `end`: the OS boot time (`scope: 'host'`), or the agent's restart (`scope: 'agent'`);
 * - `details.scope`: `host` = the PC went down (new OS boot); `agent` = only the agent died
 *   (killed, crashed, out of memory) while the OS kept running (same OS boot): never a power
 *   cut; `unknown` = the OS boot could not be read;
 * - `details.cause`: OUTAGE_CAUSES (`crash` for `scope: 'agent'`);
 * - `details.uncertaintyMs`: how far after `start` the true moment may lie (heartbeat period);
 * - `details.evidence`: `windows_event_log` | `journal` | `wtmp` | `none`, plus what it showed.
 * A planned reboot/shutdown becomes `planned_shutdown` instead, never an outage.
 */

/** Boot times further apart than this are different boots (derived boot times jitter with clock steps). */
export const BOOT_TOLERANCE_MS = 60_000;

export interface OsBootNow {
  bootTime: number | null;
  bootId: string | null;
}

/** Did the OS restart since the heartbeat was written? null when it cannot be told. */
export function osRebooted(hb: HeartbeatRecord, now: OsBootNow): boolean | null {
  if (hb.osBootId && now.bootId) return hb.osBootId !== now.bootId;
  if (now.bootTime === null) return null;
  if (hb.osBoot !== null) {
    return Math.abs(now.bootTime - hb.osBoot) > BOOT_TOLERANCE_MS && now.bootTime >= hb.t - BOOT_TOLERANCE_MS;
  }
  // No boot time recorded: a boot after the last heartbeat is a new one.
  return now.bootTime > hb.t;
}

export type PreviousRunVerdict =
  | { kind: 'first_run' }
  | { kind: 'clean'; rebooted: boolean | null; stoppedAt: number; heartbeat: HeartbeatRecord }
  | { kind: 'unclean'; rebooted: boolean | null; heartbeat: HeartbeatRecord };

/** The previous run: none, stopped on request (the marker of that very run), or not. Pure. */
export function judgePreviousRun(hb: HeartbeatRecord | null, marker: ShutdownMarkerRecord | null, now: OsBootNow): PreviousRunVerdict {
  if (!hb) return { kind: 'first_run' };
  const rebooted = osRebooted(hb, now);
  if (marker && marker.run === hb.run) return { kind: 'clean', rebooted, stoppedAt: marker.t, heartbeat: hb };
  return { kind: 'unclean', rebooted, heartbeat: hb };
}

const CAUSE_OF: Record<Exclude<ShutdownFinding['kind'], 'planned'>, OutageCause> = {
  power_loss: 'power_loss',
  crash: 'crash',
  hang_reset: 'hang_reset',
  unknown: 'unknown',
};

const CAUSE_TEXT: Record<OutageCause, string> = {
  power_loss: 'power lost (PC restarted without shutting down)',
  crash: 'system crash (blue screen / kernel panic)',
  hang_reset: 'PC hung and was reset with the power button',
  unknown: 'unclean shutdown, cause unknown',
};

function findingDetails(f: ShutdownFinding): Record<string, EvidenceDetail> {
  const out: Record<string, EvidenceDetail> = { evidence: f.source };
  for (const [k, v] of Object.entries(f.details).slice(0, 16)) out[k] = typeof v === 'string' ? v.slice(0, 1024) : v;
  return out;
}

/**
 * The event that tells how the previous run ended, or null when there is nothing to tell
 * (first run; clean agent stop without an OS restart). `finding` is the OS's record, read
 * only when the run ended uncleanly on a new (or unknown) OS boot. Pure.
 */
export function previousRunEvent(v: PreviousRunVerdict, finding: ShutdownFinding | null, osBoot: number | null, now: number): AgentEvent | null {
  if (v.kind === 'first_run') return null;
  if (v.kind === 'clean') {
    if (v.rebooted !== true || osBoot === null) return null;
    // The agent was stopped on request, yet the OS records an unclean end after that (the
    // officer stopped the service, then the power went): an outage, dated by the OS if it can.
    if (finding && finding.kind !== 'planned' && finding.kind !== 'unknown') {
      const dated = finding.endedAt !== undefined && finding.endedAt > v.stoppedAt && finding.endedAt <= osBoot;
      const start = dated ? finding.endedAt! : v.stoppedAt;
      const cause = CAUSE_OF[finding.kind];
      return {
        type: 'outage',
        severity: 'critical',
        message: CAUSE_TEXT[cause],
        start,
        end: osBoot,
        details: {
          ...findingDetails(finding),
          scope: 'host',
          cause,
          // Undated: somewhere between the agent's stop and the boot.
          uncertaintyMs: dated ? v.heartbeat.periodMs : Math.max(0, osBoot - v.stoppedAt),
          durationMs: osBoot - start,
          agentStoppedAt: v.stoppedAt,
          previousRun: v.heartbeat.run,
          osBoot,
        },
      };
    }
    return {
      type: 'planned_shutdown',
      severity: 'info',
      message: 'planned shutdown or restart (the agent was stopped first)',
      start: v.stoppedAt,
      end: Math.max(osBoot, v.stoppedAt),
      details: { evidence: 'agent_stop', durationMs: Math.max(0, osBoot - v.stoppedAt), ...(finding ? { osEvidence: finding.source } : {}) },
    };
  }
  const hb = v.heartbeat;
  const base = { previousRun: hb.run, lastHeartbeat: hb.t, previousOsBoot: hb.osBoot };
  if (v.rebooted === false) {
    const end = Math.max(now, hb.t);
    return {
      type: 'outage',
      severity: 'warning',
      message: 'the agent stopped unexpectedly (killed or crashed) while the PC kept running',
      start: hb.t,
      end,
      details: { scope: 'agent', cause: 'crash', uncertaintyMs: hb.periodMs, durationMs: end - hb.t, evidence: 'none', ...base, osBoot },
    };
  }
  const f = finding ?? { kind: 'unknown', source: 'none', details: {} };
  const end = v.rebooted === true && osBoot !== null ? Math.max(osBoot, hb.t) : Math.max(now, hb.t);
  // The OS's own time of the end counts when it is after our last heartbeat and before the boot.
  const refined = f.endedAt !== undefined && f.endedAt > hb.t && f.endedAt <= end ? f.endedAt : undefined;
  if (f.kind === 'planned') {
    const start = f.endedAt !== undefined && f.endedAt <= end ? Math.max(f.endedAt, hb.t - hb.periodMs) : hb.t;
    return {
      type: 'planned_shutdown',
      severity: 'info',
      message: 'planned shutdown or restart',
      start,
      end: Math.max(end, start),
      details: { ...findingDetails(f), durationMs: Math.max(0, end - start), ...base, osBoot },
    };
  }
  const start = refined ?? hb.t;
  const uncertaintyMs = refined === undefined ? hb.periodMs : Math.max(1000, hb.t + hb.periodMs - refined);
  const cause = CAUSE_OF[f.kind];
  return {
    type: 'outage',
    severity: 'critical',
    message: CAUSE_TEXT[cause],
    start,
    end,
    details: {
      ...findingDetails(f),
      scope: v.rebooted === true ? 'host' : 'unknown',
      cause,
      uncertaintyMs,
      durationMs: end - start,
      ...base,
      osBoot,
    },
  };
}

export interface OutageDetectorOptions {
  stateDir: string;
  clock: Clock;
  log: Logger;
  sys: BootClock;
  reader: ShutdownEvidenceReader;
  /** This run's id (the envelope's `boot`). */
  run: string;
  heartbeatPeriodMs: number;
  fsync: boolean;
  emit: EmitEvent;
}

/**
 * Reads how the previous run ended, starts this run's heartbeat, and writes the clean-
 * shutdown marker on stop. The OS's records are read in the background (PowerShell or
 * journalctl may take seconds) and never hold the agent's start.
 */
export class OutageDetector {
  private heartbeat: Heartbeat | undefined;
  private readonly marker: ShutdownMarker;
  private judging: Promise<void> | undefined;

  constructor(private readonly opts: OutageDetectorOptions) {
    this.marker = new ShutdownMarker(opts.stateDir, opts.fsync);
  }

  async start(): Promise<void> {
    const { opts } = this;
    const [hb, marker, boot] = await Promise.all([readHeartbeat(opts.stateDir), this.marker.read(), this.readBoot()]);
    // From here this run is "running": a stale marker must not vouch for it.
    await this.marker.remove().catch((err: unknown) => opts.log.warn({ err: (err as Error).message }, 'cannot remove the clean-shutdown marker'));
    const verdict = judgePreviousRun(hb, marker, boot);
    opts.log.info({ verdict: verdict.kind, rebooted: verdict.kind === 'first_run' ? undefined : verdict.rebooted, lastHeartbeat: hb?.t }, 'previous run judged');
    this.heartbeat = new Heartbeat({
      stateDir: opts.stateDir,
      clock: opts.clock,
      log: opts.log,
      periodMs: opts.heartbeatPeriodMs,
      fsync: opts.fsync,
      identity: { run: opts.run, osBoot: boot.bootTime, osBootId: boot.bootId },
    });
    await this.heartbeat.start();
    this.judging = this.report(verdict, boot).catch((err: unknown) => opts.log.error({ err: (err as Error).message }, 'outage report failed'));
  }

  private async readBoot(): Promise<OsBootNow> {
    try {
      const b = await this.opts.sys.osBoot?.();
      return b ? { bootTime: Math.round(b.bootTime), bootId: b.bootId } : { bootTime: null, bootId: null };
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'OS boot time unreadable; outages cannot be told from agent crashes');
      return { bootTime: null, bootId: null };
    }
  }

  private async report(verdict: PreviousRunVerdict, boot: OsBootNow): Promise<void> {
    let finding: ShutdownFinding | null = null;
    // The OS's records only when the PC restarted (or may have) since the last run.
    if ((verdict.kind === 'unclean' && verdict.rebooted !== false) || (verdict.kind === 'clean' && verdict.rebooted === true)) {
      finding = await this.opts.reader.read({
        lastHeartbeat: verdict.heartbeat.t,
        osBoot: boot.bootTime,
        previousOsBootId: verdict.heartbeat.osBootId,
        now: this.opts.clock.now(),
      });
    }
    const ev = previousRunEvent(verdict, finding, boot.bootTime, this.opts.clock.now());
    if (!ev) return;
    this.opts.log.info({ type: ev.type, start: ev.start, end: ev.end, details: ev.details }, 'previous run ended: reporting');
    this.opts.emit(ev);
  }

  /**
   * A heartbeat now, from a timer the agent wakes for anyway (the sampler's tick); the
   * heartbeat's own timer then waits a period from here (heartbeat.ts). No-op before start()
   * and after stop().
   */
  beat(): void {
    this.heartbeat?.tick();
  }

  /** Called when a stop is requested: the marker first (the stop itself may be cut short). */
  async stop(): Promise<void> {
    await this.heartbeat?.stop();
    const t = this.opts.clock.now();
    // Twice: on Windows a virus scanner holding the file makes a rename fail now and then.
    try {
      await this.marker.write(this.opts.run, t).catch(() => this.marker.write(this.opts.run, t));
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, 'clean-shutdown marker not written; the next start will report an agent crash');
    }
    await this.judging;
  }
}
