import type { SampleMetrics } from '../../contract/schemas.js';
import type { HistoryMetric } from './history.js';

/** One value of one series, taken from one sample. */
export interface SeriesValue {
  metric: HistoryMetric;
  key: string;
  value: number;
}

function available<T>(v: T | { unavailable: string } | undefined): T | undefined {
  return v !== undefined && !(typeof v === 'object' && v !== null && 'unavailable' in v) ? (v as T) : undefined;
}

/**
 * The history series of one sample (collector/store/history.ts names them): what the
 * rollup job folds into buckets and what a raw history query reads. A source the agent
 * could not read gives no value (a gap, not a zero); `up` is 100 for every sample.
 */
export function seriesValues(m: SampleMetrics): SeriesValue[] {
  const out: SeriesValue[] = [{ metric: 'up', key: '', value: 100 }];
  const cpu = available(m.cpu);
  if (cpu) out.push({ metric: 'cpu', key: '', value: cpu.usage });
  const mem = available(m.mem);
  if (mem && mem.total > 0) out.push({ metric: 'mem', key: '', value: (100 * mem.used) / mem.total });
  for (const d of available(m.disks) ?? []) out.push({ metric: 'disk', key: d.mount, value: d.usedPct });
  for (const n of available(m.net) ?? []) {
    out.push({ metric: 'net_rx', key: n.iface, value: n.rxBps });
    out.push({ metric: 'net_tx', key: n.iface, value: n.txBps });
  }
  for (const p of available(m.ping) ?? []) {
    out.push({ metric: 'ping_loss', key: p.target, value: p.lossPct });
    if (p.rttMedian !== null) out.push({ metric: 'ping_rtt', key: p.target, value: p.rttMedian });
    if (p.rttP95 !== null) out.push({ metric: 'ping_p95', key: p.target, value: p.rttP95 });
  }
  for (const h of available(m.http) ?? []) {
    out.push({ metric: 'http_ok', key: h.name, value: h.ok ? 100 : 0 });
    if (h.ok && h.totalMs !== null) out.push({ metric: 'http_total', key: h.name, value: h.totalMs });
  }
  for (const d of available(m.diskio) ?? []) {
    out.push({ metric: 'disk_busy', key: d.disk, value: d.busyPct });
    out.push({ metric: 'disk_queue', key: d.disk, value: d.queue });
  }
  const pressure = available(m.pressure);
  if (pressure) {
    if (pressure.memSomePct !== null) out.push({ metric: 'mem_psi', key: '', value: pressure.memSomePct });
    if (pressure.swapInPs !== null || pressure.swapOutPs !== null) out.push({ metric: 'swap_io', key: '', value: (pressure.swapInPs ?? 0) + (pressure.swapOutPs ?? 0) });
    if (pressure.hardFaultsPs !== null) out.push({ metric: 'hard_faults', key: '', value: pressure.hardFaultsPs });
  }
  return out;
}
