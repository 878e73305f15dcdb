import type { DiskHealth } from '../../contract/schemas.js';
import { badSectors, disksOf } from '../alerting/rules/disk-failing.js';
import type { EventRow } from '../store/store.js';

/**
 * What the month's `disk_health` checks (issue 17: SMART / Windows reliability counters,
 * disk error events, every few hours from the agent) say about each physical disk of a PC,
 * for the report's recommendations: the last reading, how the bad sectors grew over the
 * month, the OS disk errors logged in it. A disk is `failing` on the same evidence as the
 * `disk_failing` alert rule (collector/alerting/rules/disk-failing.ts): failure predicted,
 * bad sectors rising, or {@link FAILING_ERROR_EVENTS} disk errors or more.
 */
export interface DiskEvidence {
  device: string;
  model: string | null;
  /** Checks of this disk in the month. */
  checks: number;
  /** State at the last check. */
  state: DiskHealth['state'];
  predictedFailure: boolean;
  /** Reallocated + pending sectors at the last check (null: the disk does not report them). */
  badSectors: number | null;
  /** Growth of `badSectors` from the first check of the month to the last (null: fewer than two readings). */
  badSectorsRise: number | null;
  /** OS disk I/O errors logged in the month (sum over the checks). */
  errorEvents: number;
  wearPct: number | null;
  powerOnHours: number | null;
  failing: boolean;
}

/** As the disk_failing rule's default `minErrorEvents`. */
export const FAILING_ERROR_EVENTS = 3;

/**
 * Per host, the disks seen by its checks in [from, to) (null for a host without any usable
 * check: its disk health is unknown, not "good"), the failing ones first.
 */
export function diskEvidence(events: readonly EventRow[], from: number, to: number): Map<string, DiskEvidence[]> {
  const checks = new Map<string, Array<{ t: number; disks: DiskHealth[] }>>();
  for (const e of events) {
    if (e.type !== 'disk_health' || e.t < from || e.t >= to) continue;
    const disks = disksOf(e.details).filter((d) => d.state !== 'unavailable' && d.state !== 'standby');
    if (disks.length === 0) continue;
    const list = checks.get(e.host) ?? [];
    list.push({ t: e.t, disks });
    checks.set(e.host, list);
  }
  const out = new Map<string, DiskEvidence[]>();
  for (const [host, list] of checks) {
    list.sort((a, b) => a.t - b.t);
    const devices = [...new Set(list.flatMap((c) => c.disks.map((d) => d.device)))].sort();
    const disks = devices.map((device): DiskEvidence => {
      const readings = list.map((c) => c.disks.find((d) => d.device === device)).filter((d): d is DiskHealth => d !== undefined);
      const last = readings[readings.length - 1]!;
      const sectors = readings.map(badSectors).filter((v): v is number => v !== undefined);
      const now = badSectors(last) ?? null;
      const rise = sectors.length >= 2 && now !== null ? Math.max(0, now - sectors[0]!) : null;
      const errorEvents = readings.reduce((s, d) => s + (d.errorEvents ?? 0), 0);
      const predictedFailure = readings.some((d) => d.predictedFailure === true || d.state === 'failing');
      return {
        device,
        model: last.model ?? null,
        checks: readings.length,
        state: last.state,
        predictedFailure,
        badSectors: now,
        badSectorsRise: rise,
        errorEvents,
        wearPct: last.wearPct ?? null,
        powerOnHours: last.powerOnHours ?? null,
        failing: predictedFailure || (rise !== null && rise > 0) || errorEvents >= FAILING_ERROR_EVENTS,
      };
    });
    disks.sort((a, b) => Number(b.failing) - Number(a.failing) || (b.badSectors ?? 0) - (a.badSectors ?? 0) || a.device.localeCompare(b.device));
    out.set(host, disks);
  }
  return out;
}
