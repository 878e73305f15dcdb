/**
 * Stored rows → line-protocol points, following {@link INFLUX_SCHEMA} exactly. Pure
 * functions: no clock, no I/O; the writer calls {@link linesForStored} from the ingest
 * hook. Times are the row's sample time (after clock-skew correction) in milliseconds, so
 * the write uses `precision=ms`.
 *
 * Because a point's identity is (measurement, tag set, time) and every value here is a
 * function of the stored row alone, writing the same row twice produces byte-identical
 * lines: replays never write a point with different values.
 */
import type { StoredMessage } from '../ingest/ingest.js';
import type { ClosedOutage } from '../outage/outage-types.js';
import type { EventRow, SampleRow, StatusRow } from '../store/store.js';
import { formatLine } from './line-protocol.js';

/** Precision of every timestamp produced here (`WritePrecisionType` of the client). */
export const WRITE_PRECISION = 'ms' as const;

function isAvailable<T extends object>(v: T | { unavailable: string } | undefined): v is T {
  return v !== undefined && !('unavailable' in v);
}

function push(out: string[], line: string | undefined): void {
  if (line !== undefined) out.push(line);
}

/**
 * cpu, mem, disk (per mount), net (per interface), ping (per target), http_probe (per
 * probe), power, uptime, diskio (per physical disk) and pressure points of one sample. Sources reported `unavailable` (or absent) give no point; null load
 * averages (Windows) and null RTTs (every probe lost) are omitted fields.
 */
export function sampleLines(row: SampleRow): string[] {
  const out: string[] = [];
  const id = { site: row.site, host: row.host };
  const t = row.t;
  const m = row.metrics;
  if (isAvailable(m.cpu)) {
    push(out, formatLine('cpu', id, { usage_pct: m.cpu.usage, load1: m.cpu.load1, load5: m.cpu.load5, load15: m.cpu.load15, cores: m.cpu.cores }, t));
  }
  if (isAvailable(m.mem)) {
    const mem = m.mem;
    push(
      out,
      formatLine(
        'mem',
        id,
        {
          total: mem.total,
          used: mem.used,
          available: mem.available,
          used_pct: mem.total > 0 ? (mem.used / mem.total) * 100 : null,
          swap_total: mem.swapTotal,
          swap_used: mem.swapUsed,
        },
        t,
      ),
    );
  }
  if (isAvailable(m.disks)) {
    for (const d of m.disks) {
      push(out, formatLine('disk', { ...id, mount: d.mount }, { total: d.total, used: d.used, free: d.free, used_pct: d.usedPct }, t));
    }
  }
  if (isAvailable(m.net)) {
    for (const n of m.net) {
      push(
        out,
        formatLine(
          'net',
          { ...id, iface: n.iface },
          { rx_bps: n.rxBps, tx_bps: n.txBps, rx_errors: n.rxErrors, tx_errors: n.txErrors, rx_dropped: n.rxDropped, tx_dropped: n.txDropped },
          t,
        ),
      );
    }
  }
  if (isAvailable(m.ping)) {
    for (const p of m.ping) {
      push(
        out,
        formatLine(
          'ping',
          { ...id, target: p.target, role: p.role },
          { loss_pct: p.lossPct, rtt_median_ms: p.rttMedian, rtt_p95_ms: p.rttP95, rtt_max_ms: p.rttMax, probes: p.sent },
          t,
        ),
      );
    }
  }
  if (isAvailable(m.http)) {
    for (const h of m.http) {
      push(
        out,
        formatLine(
          'http_probe',
          { ...id, probe: h.name },
          {
            ok: h.ok ? 1 : 0,
            status: h.status,
            dns_ms: h.dnsMs,
            connect_ms: h.connectMs,
            tls_ms: h.tlsMs,
            first_byte_ms: h.firstByteMs,
            total_ms: h.totalMs,
          },
          t,
        ),
      );
    }
  }
  if (isAvailable(m.power)) {
    const p = m.power;
    // The source as a number, not a tag: a tag would split the battery series at every switch.
    const onBattery = p.source === 'battery' ? 1 : p.source === 'ac' ? 0 : null;
    push(out, formatLine('power', id, { on_battery: onBattery, battery_pct: p.batteryPct, minutes_left: p.minutesLeft }, t));
  }
  if (isAvailable(m.uptime)) push(out, formatLine('uptime', id, { seconds: m.uptime.seconds }, t));
  if (isAvailable(m.diskio)) {
    for (const d of m.diskio) push(out, formatLine('diskio', { ...id, disk: d.disk }, { busy_pct: d.busyPct, queue: d.queue }, t));
  }
  if (isAvailable(m.pressure)) {
    const p = m.pressure;
    push(
      out,
      formatLine('pressure', id, { psi_some_pct: p.memSomePct, psi_full_pct: p.memFullPct, swap_in_ps: p.swapInPs, swap_out_ps: p.swapOutPs, hard_faults_ps: p.hardFaultsPs }, t),
    );
  }
  return out;
}

/** One `event` point: count = 1, duration_s when the event spans [start, end]. */
export function eventLines(row: EventRow): string[] {
  const duration = row.start !== undefined && row.end !== undefined && row.end >= row.start ? (row.end - row.start) / 1000 : null;
  const line = formatLine('event', { site: row.site, host: row.host, type: row.type, severity: row.severity }, { count: 1, duration_s: duration }, row.t);
  return line === undefined ? [] : [line];
}

/** One `host_status` point at the time the birth / Last Will was reported. */
export function statusLines(row: StatusRow): string[] {
  const line = formatLine('host_status', { site: row.site, host: row.host }, { online: row.state === 'online' ? 1 : 0 }, row.t);
  return line === undefined ? [] : [line];
}

/** A closed site or host outage, as the incident detector reports it. */
export interface IncidentInput {
  site: string;
  /** `site` or `host` (or a host id), low cardinality. */
  scope: string;
  /** `power_cut`, `network_cut`, … */
  cause: string;
  /** Epoch ms. */
  start: number;
  /** Epoch ms; the point is written at this time (incidents are exported when they close). */
  end: number;
  /** Hosts affected. */
  hosts: number;
}

/** One `incident` point at the incident's end: count = 1, duration in seconds, hosts affected. */
export function incidentPoint(i: IncidentInput): string[] {
  const line = formatLine('incident', { site: i.site, scope: i.scope, cause: i.cause }, { count: 1, duration_s: Math.max(0, i.end - i.start) / 1000, hosts: i.hosts }, i.end);
  return line === undefined ? [] : [line];
}

/** The `incident` point of a closed host outage or site incident. */
export function closedIncidentPoint(c: ClosedOutage): string[] {
  return incidentPoint(
    c.scope === 'site'
      ? { site: c.incident.site, scope: 'site', cause: c.incident.cause, start: c.incident.start, end: c.incident.end ?? c.incident.start, hosts: c.incident.hosts.length }
      : { site: c.outage.site, scope: 'host', cause: c.outage.cause, start: c.outage.start, end: c.outage.end ?? c.outage.start, hosts: 1 },
  );
}

/** Lines for a freshly stored message (inventory is not exported: it is not a time series). */
export function linesForStored(msg: StoredMessage): string[] {
  switch (msg.kind) {
    case 'samples':
      return sampleLines(msg.row);
    case 'events':
      return eventLines(msg.row);
    case 'status':
      return statusLines(msg.row);
    case 'inventory':
      return [];
  }
}
