import type { HostOutage } from '../outage/outage-types.js';
import type { EventRow, HostState } from '../store/store.js';
import type { ClockLostPc } from './report-model.js';

/** A clock found wrong this long after a host outage ended is taken as lost in that outage. */
const AFTER_OUTAGE_MS = 60 * 60_000;

/**
 * The PCs whose clock was found wrong after a power cut (issue 13 item 4): a `clock_skew`
 * event (raised by the collector's ingest, collector/ingest/clock-skew.ts) on entering or
 * changing skew, in the month, either soon after the PC's OS started (`details.afterBoot`) or
 * soon after one of its outages ended. Such a PC forgets the time whenever it loses power: its
 * CMOS battery needs replacing.
 */
export function clockLostPcs(hosts: HostState[], events: EventRow[], hostOutages: HostOutage[], from: number, to: number): ClockLostPc[] {
  const names = new Map(hosts.map((h) => [h.host, h.hostname || h.host]));
  const outagesOf = new Map<string, number[]>();
  // A network cut or a freeze leaves the clock running: only outages where the PC may have lost power.
  for (const o of hostOutages) if (o.end !== null && o.cause !== 'network' && o.cause !== 'freeze') outagesOf.set(o.host, [...(outagesOf.get(o.host) ?? []), o.end]);
  const byHost = new Map<string, ClockLostPc>();
  for (const e of events) {
    if (e.type !== 'clock_skew' || e.t < from || e.t >= to) continue;
    const d = e.details ?? {};
    if (d.change !== 'entered' && d.change !== 'changed') continue;
    const afterOutage = (outagesOf.get(e.host) ?? []).some((end) => end <= e.t && e.t - end <= AFTER_OUTAGE_MS);
    if (d.afterBoot !== true && !afterOutage) continue;
    const skew = typeof d.skewMs === 'number' ? Math.abs(d.skewMs) : 0;
    const pc = byHost.get(e.host) ?? { host: e.host, hostname: names.get(e.host) ?? e.host, times: 0, maxSkewMs: 0, last: e.t };
    pc.times++;
    pc.maxSkewMs = Math.max(pc.maxSkewMs, skew);
    pc.last = Math.max(pc.last, e.t);
    byHost.set(e.host, pc);
  }
  return [...byHost.values()].sort((a, b) => b.times - a.times || a.host.localeCompare(b.host));
}
