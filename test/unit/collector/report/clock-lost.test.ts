import { describe, expect, it } from 'vitest';
import type { HostOutage } from '../../../../collector/outage/outage-types.js';
import { clockLostPcs } from '../../../../collector/report/clock-lost.js';
import type { EventRow, HostState } from '../../../../collector/store/store.js';

const HOUR = 3_600_000;
const host = (id: string, hostname: string) => ({ site: 's', host: id, hostname }) as HostState;
const skew = (h: string, t: number, details: Record<string, unknown>): EventRow => ({
  site: 's',
  host: h,
  boot: 'collector:x',
  seq: t,
  t,
  received: t,
  type: 'clock_skew',
  severity: 'warning',
  message: '',
  details,
});
const outage = (h: string, end: number, cause: HostOutage['cause']): HostOutage => ({
  id: end,
  site: 's',
  host: h,
  cause,
  start: end - HOUR,
  end,
  uncertaintyMs: 0,
  incidentId: null,
  evidence: {},
});

describe('report: PCs whose clock is lost after power cuts (issue 13 item 4)', () => {
  it('lists skew found right after a power-up or after a power outage, not after a network cut, nor a return to normal', () => {
    const from = 0;
    const to = 100 * HOUR;
    const list = clockLostPcs(
      [host('pc-1', 'KT-01'), host('pc-2', 'MC-02'), host('pc-3', 'pc-3'), host('pc-4', 'pc-4')],
      [
        skew('pc-1', 10 * HOUR, { change: 'entered', skewMs: 3 * HOUR, afterBoot: true }),
        skew('pc-1', 11 * HOUR, { change: 'resolved', skewMs: 0, afterBoot: false }),
        skew('pc-1', 40 * HOUR, { change: 'entered', skewMs: -5 * HOUR, afterBoot: true }),
        // No boot information, but an outage of the PC ended 10 min before.
        skew('pc-2', 20 * HOUR, { change: 'entered', skewMs: 2 * HOUR }),
        // Right after a network cut: the clock kept running; not a CMOS battery.
        skew('pc-3', 30 * HOUR, { change: 'entered', skewMs: 2 * HOUR, afterBoot: false }),
        // Outside the month.
        skew('pc-4', 200 * HOUR, { change: 'entered', skewMs: 2 * HOUR, afterBoot: true }),
      ],
      [outage('pc-2', 20 * HOUR - 600_000, 'power_loss'), outage('pc-3', 30 * HOUR - 600_000, 'network')],
      from,
      to,
    );
    expect(list).toEqual([
      { host: 'pc-1', hostname: 'KT-01', times: 2, maxSkewMs: 5 * HOUR, last: 40 * HOUR },
      { host: 'pc-2', hostname: 'MC-02', times: 1, maxSkewMs: 2 * HOUR, last: 20 * HOUR },
    ]);
  });
});
