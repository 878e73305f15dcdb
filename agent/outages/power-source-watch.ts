import type { PowerMetrics } from '../../contract/schemas.js';
import type { AgentEvent } from '../agent-event.js';

/**
 * Turns the `power` metric into `power_source` events (issue 3: "on battery = mains power
 * lost"): one event when the PC goes onto battery/UPS, one when mains returns. `unknown`
 * readings change nothing (a flaky UPS link is not a power cut).
 */
export class PowerSourceWatch {
  private state: 'ac' | 'battery' | undefined;
  private since: number | undefined;

  /** The next reading → the event it causes, if any. */
  next(reading: PowerMetrics, t: number): AgentEvent | null {
    if (reading.source === 'unknown') return null;
    const prev = this.state;
    if (prev === reading.source) return null;
    const since = this.since;
    this.state = reading.source;
    this.since = t;
    // Starting on AC is normal and says nothing; starting on battery is worth telling.
    if (prev === undefined && reading.source === 'ac') return null;
    const details = {
      source: reading.source,
      batteryPct: reading.batteryPct,
      minutesLeft: reading.minutesLeft,
      ...(prev === 'battery' && since !== undefined ? { onBatteryMs: Math.max(0, t - since) } : {}),
    };
    if (reading.source === 'battery') {
      return { type: 'power_source', severity: 'critical', message: 'mains power lost: running on battery/UPS', start: t, details };
    }
    return {
      type: 'power_source',
      severity: 'info',
      message: 'mains power restored',
      ...(since !== undefined && prev === 'battery' ? { start: since } : {}),
      end: t,
      details,
    };
  }
}
