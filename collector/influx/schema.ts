/**
 * The InfluxDB export schema: measurements, their tags and fields. This table is the one
 * source of truth: the writer builds points from it (point-builder.ts), the Grafana
 * dashboards may only query what it lists (a test checks every dashboard query against
 * it), and README/dashboards document it.
 *
 * Tags are low-cardinality identifiers only (site, host, mount, interface, ping target,
 * event type); every measured value is a field. Times are the sample times (after clock
 * skew correction), in milliseconds.
 */
export interface MeasurementSchema {
  /** What the measurement holds, for the docs. */
  description: string;
  tags: readonly string[];
  /** Field name → type. Integers are written with the `i` suffix. */
  fields: Readonly<Record<string, 'float' | 'integer' | 'boolean'>>;
}

export const INFLUX_SCHEMA = {
  cpu: {
    description: 'CPU busy % over the interval and load averages (load is absent on Windows).',
    tags: ['site', 'host'],
    fields: { usage_pct: 'float', load1: 'float', load5: 'float', load15: 'float', cores: 'integer' },
  },
  mem: {
    description: 'Memory and swap in bytes; used_pct = used / total.',
    tags: ['site', 'host'],
    fields: { total: 'integer', used: 'integer', available: 'integer', used_pct: 'float', swap_total: 'integer', swap_used: 'integer' },
  },
  disk: {
    description: 'Per mounted filesystem (drive letter on Windows).',
    tags: ['site', 'host', 'mount'],
    fields: { total: 'integer', used: 'integer', free: 'integer', used_pct: 'float' },
  },
  net: {
    description: 'Per network interface: throughput in bytes/s, error and drop counters.',
    tags: ['site', 'host', 'iface'],
    fields: { rx_bps: 'float', tx_bps: 'float', rx_errors: 'integer', tx_errors: 'integer', rx_dropped: 'integer', tx_dropped: 'integer' },
  },
  ping: {
    description: 'Per ping target over the interval: loss % and round-trip times in ms (absent when every probe was lost).',
    tags: ['site', 'host', 'target', 'role'],
    fields: { loss_pct: 'float', rtt_median_ms: 'float', rtt_p95_ms: 'float', rtt_max_ms: 'float', probes: 'integer' },
  },
  http_probe: {
    description:
      'Per HTTP probe of a configured URL (the TTHC portals): ok = 1 when a response with the expected status (default: below 400) came in time, else 0; ' +
      'status; phases in ms since the request started, curl-style (dns <= connect <= tls <= first byte <= total), absent when the phase did not happen.',
    tags: ['site', 'host', 'probe'],
    fields: { ok: 'integer', status: 'integer', dns_ms: 'float', connect_ms: 'float', tls_ms: 'float', first_byte_ms: 'float', total_ms: 'float' },
  },
  power: {
    description:
      'Power supply as the OS sees it (laptop battery, UPS on USB/HID): on_battery = 1 on battery (mains lost), 0 on AC, absent when unknown; charge % and minutes left when known.',
    tags: ['site', 'host'],
    fields: { on_battery: 'integer', battery_pct: 'float', minutes_left: 'float' },
  },
  uptime: {
    description: 'Seconds since the OS booted.',
    tags: ['site', 'host'],
    fields: { seconds: 'float' },
  },
  diskio: {
    description:
      'Per physical disk (issue 17): busy_pct = share of the interval with I/O in flight (iostat %util; Windows 100 − % Idle Time), queue = average requests queued or in service.',
    tags: ['site', 'host', 'disk'],
    fields: { busy_pct: 'float', queue: 'float' },
  },
  pressure: {
    description:
      'Memory pressure (issue 17): Linux PSI memory some/full avg10 % (absent without PSI), pages swapped (Windows paged) in and out per second, hard page faults per second.',
    tags: ['site', 'host'],
    fields: { psi_some_pct: 'float', psi_full_pct: 'float', swap_in_ps: 'float', swap_out_ps: 'float', hard_faults_ps: 'float' },
  },
  host_status: {
    description: 'Birth / Last Will: online = 1, offline = 0, at the time it was reported.',
    tags: ['site', 'host'],
    fields: { online: 'integer' },
  },
  event: {
    description: 'Agent events (start, stop, source unavailable, outbox overflow, …): count = 1 per event, duration_s when the event spans a period.',
    tags: ['site', 'host', 'type', 'severity'],
    fields: { count: 'integer', duration_s: 'float' },
  },
  incident: {
    description: 'Site and host outages (power cut, network cut, …) when they close: count = 1, duration in seconds, hosts affected.',
    tags: ['site', 'scope', 'cause'],
    fields: { count: 'integer', duration_s: 'float', hosts: 'integer' },
  },
} as const satisfies Record<string, MeasurementSchema>;

export type MeasurementName = keyof typeof INFLUX_SCHEMA;

/** True when `measurement` exists and has `field` (used by the dashboard checks). */
export function hasField(measurement: string, field: string): boolean {
  const m = (INFLUX_SCHEMA as Record<string, MeasurementSchema>)[measurement];
  return !!m && Object.prototype.hasOwnProperty.call(m.fields, field);
}
