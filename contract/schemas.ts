import { z } from 'zod';
import { CONTRACT_VERSION, MAX_DISKS, MAX_INTERFACES, MAX_PING_TARGETS, MAX_STRING, MAX_TIME_MS, MIN_TIME_MS } from './limits.js';
import { ID_PATTERN } from './topics.js';

/**
 * The wire contract: one zod schema per message kind gives both the TypeScript type the
 * agent builds and the validation the collector runs (house style §5).
 */

const id = z.string().regex(ID_PATTERN, 'must be a lowercase slug [a-z0-9_-], 1-63 chars');
const epochMs = z.number().int('must be an integer epoch-ms').min(MIN_TIME_MS, 'time before 2000-01-01').max(MAX_TIME_MS, 'time after 2100-01-01');
const bytes = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const pct = z.number().min(0).max(100);
const nonNeg = z.number().min(0).max(1e12);
const text = z.string().max(MAX_STRING);

/** Fields every message carries. */
export const Envelope = z.object({
  /** Contract version. */
  v: z.literal(CONTRACT_VERSION),
  site: id,
  host: id,
  /** Agent boot id: new each time the agent process starts (with `seq`, the dedup key). */
  boot: z
    .string()
    .min(8)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be [A-Za-z0-9_-]'),
  /** Per-agent-boot sequence number, strictly increasing over every outbox message. */
  seq: count,
  /** When the data was taken (agent clock). */
  t: epochMs,
  /** When this copy was sent (agent clock); with the receive time gives clock skew. */
  sent: epochMs,
});
export type Envelope = z.infer<typeof Envelope>;

/** A source that could not be read this time, with why. */
export const Unavailable = z.object({ unavailable: text.min(1) });
export type Unavailable = z.infer<typeof Unavailable>;
const orUnavailable = <T extends z.ZodType>(s: T) => z.union([s, Unavailable]);

export const CpuMetrics = z.object({
  /** Total CPU busy % over the interval, all cores. */
  usage: pct,
  /** Load averages; null on Windows, which has none. */
  load1: nonNeg.nullable(),
  load5: nonNeg.nullable(),
  load15: nonNeg.nullable(),
  cores: z.number().int().min(1).max(4096),
});
export type CpuMetrics = z.infer<typeof CpuMetrics>;

export const MemMetrics = z.object({
  total: bytes,
  used: bytes,
  available: bytes,
  swapTotal: bytes,
  swapUsed: bytes,
});
export type MemMetrics = z.infer<typeof MemMetrics>;

export const DiskMetrics = z.object({
  mount: text.min(1),
  fs: text.optional(),
  total: bytes,
  used: bytes,
  free: bytes,
  usedPct: pct,
});
export type DiskMetrics = z.infer<typeof DiskMetrics>;

export const NetMetrics = z.object({
  iface: text.min(1),
  rxBps: nonNeg,
  txBps: nonNeg,
  rxErrors: count,
  txErrors: count,
  rxDropped: count,
  txDropped: count,
});
export type NetMetrics = z.infer<typeof NetMetrics>;

export const UptimeMetrics = z.object({
  seconds: nonNeg,
  /** OS boot time, epoch ms (agent clock). */
  bootTime: epochMs,
});
export type UptimeMetrics = z.infer<typeof UptimeMetrics>;

export const PingResult = z.object({
  target: text.min(1),
  role: z.enum(['gateway', 'configured']),
  sent: z.number().int().min(1).max(1000),
  /** Loss %, 0..100. */
  lossPct: pct,
  /** RTT statistics in ms; null when every probe was lost. */
  rttMedian: nonNeg.nullable(),
  rttP95: nonNeg.nullable(),
  rttMax: nonNeg.nullable(),
});
export type PingResult = z.infer<typeof PingResult>;

/**
 * One HTTP timing probe of a configured URL (the TTHC portals: national public-service
 * portal, the province's one-stop system). Phases in ms; null when the phase did not happen
 * (no TLS on http://, or the probe failed before it).
 * The phases are cumulative, ms since the request started (curl's time_namelookup,
 * time_connect, time_appconnect, time_starttransfer, time_total), so
 * dnsMs <= connectMs <= tlsMs <= firstByteMs <= totalMs; dnsMs is null for an IP literal.
 * An agent reports each probe result once (in the first sample after it finished), so a
 * sample may carry fewer results than there are probes (agent/sampling/sources/http-probe.ts).
 */
export const HttpProbeResult = z.object({
  /** Short configured name, e.g. `dichvucong`. */
  name: text.min(1),
  url: text.min(1),
  /** true when a response arrived with a status below 400 in time. */
  ok: z.boolean(),
  status: z.number().int().min(0).max(999).nullable(),
  dnsMs: nonNeg.nullable(),
  connectMs: nonNeg.nullable(),
  tlsMs: nonNeg.nullable(),
  firstByteMs: nonNeg.nullable(),
  totalMs: nonNeg.nullable(),
  /** Short error code/text when not ok (e.g. `ETIMEDOUT`, `ENOTFOUND`, `HTTP 503`). */
  error: text.optional(),
});
export type HttpProbeResult = z.infer<typeof HttpProbeResult>;

/** Power supply as the OS exposes it (laptops, UPS with a USB/HID link). */
export const PowerMetrics = z.object({
  /** `battery`: running on battery, i.e. mains power is lost. */
  source: z.enum(['ac', 'battery', 'unknown']),
  /** Battery/UPS charge %, when known. */
  batteryPct: pct.nullable(),
  /** Estimated minutes left on battery, when known. */
  minutesLeft: nonNeg.nullable(),
});
export type PowerMetrics = z.infer<typeof PowerMetrics>;

/**
 * Activity of one physical disk over the sample interval (Linux /proc/diskstats; Windows the
 * PhysicalDisk performance counters). What tells a PC hanging on its disk.
 */
export const DiskIoMetrics = z.object({
  /** Kernel name (`sda`, `nvme0n1`) or the Windows counter instance (`0 C:`). */
  disk: text.min(1),
  /** Share of the interval the disk had I/O in flight, 0..100 (iostat %util, Windows 100 − % Idle Time). */
  busyPct: pct,
  /** Average number of requests queued or in service (iostat aqu-sz, Windows Avg. Disk Queue Length). */
  queue: nonNeg,
});
export type DiskIoMetrics = z.infer<typeof DiskIoMetrics>;

/**
 * Memory pressure: whether programs wait for memory. Each field is null where the OS does not
 * have it (PSI needs Linux 4.20+ with it enabled; Windows has no PSI).
 */
export const PressureMetrics = z.object({
  /** Linux PSI /proc/pressure/memory `some avg10`: % of the last 10 s some task stalled on memory. */
  memSomePct: pct.nullable(),
  /** PSI `full avg10`: % of the last 10 s every non-idle task stalled on memory (thrashing). */
  memFullPct: pct.nullable(),
  /** Pages swapped (Linux pswpin/pswpout) or paged (Windows Pages Input/Output/sec) in and out per second. */
  swapInPs: nonNeg.nullable(),
  swapOutPs: nonNeg.nullable(),
  /** Hard (major) page faults per second: reads from disk to satisfy memory (Linux pgmajfault, Windows Page Reads/sec). */
  hardFaultsPs: nonNeg.nullable(),
});
export type PressureMetrics = z.infer<typeof PressureMetrics>;

export const SampleMetrics = z.object({
  cpu: orUnavailable(CpuMetrics).optional(),
  mem: orUnavailable(MemMetrics).optional(),
  disks: orUnavailable(z.array(DiskMetrics).max(MAX_DISKS)).optional(),
  net: orUnavailable(z.array(NetMetrics).max(MAX_INTERFACES)).optional(),
  uptime: orUnavailable(UptimeMetrics).optional(),
  ping: orUnavailable(z.array(PingResult).max(MAX_PING_TARGETS)).optional(),
  http: orUnavailable(z.array(HttpProbeResult).max(MAX_PING_TARGETS)).optional(),
  power: orUnavailable(PowerMetrics).optional(),
  /** Per physical disk busy % and queue (issue 17); absent from older agents. */
  diskio: orUnavailable(z.array(DiskIoMetrics).max(MAX_DISKS)).optional(),
  /** Memory pressure (issue 17); absent from older agents. */
  pressure: orUnavailable(PressureMetrics).optional(),
});
export type SampleMetrics = z.infer<typeof SampleMetrics>;

export const SampleMessage = Envelope.extend({
  /** Sampling interval in seconds at the time of the sample. */
  interval: z.number().min(1).max(86_400),
  metrics: SampleMetrics,
});
export type SampleMessage = z.infer<typeof SampleMessage>;

export const EVENT_TYPES = [
  'agent_start',
  'agent_stop',
  'source_unavailable',
  'source_recovered',
  'outbox_overflow',
  'config_reload',
  /**
   * The previous run ended without a clean shutdown (power loss, crash, hang + reset):
   * start = last heartbeat, end = OS boot time; `details.cause` one of OUTAGE_CAUSES,
   * `details.uncertaintyMs` = how far start may be from the truth (heartbeat period).
   * `details.scope`: `host` (new OS boot: the PC went down; end = OS boot time), `agent` (same
   * OS boot: only the agent died, cause `crash`, end = its restart; never a power cut), or
   * `unknown` (OS boot unreadable). See agent/outages/outage-detector.ts.
   */
  'outage',
  /** The previous run ended by a planned reboot/shutdown (recorded, never an outage). */
  'planned_shutdown',
  /** Timer/event loop ran late by more than the threshold: start, end, `processes` after it. */
  'freeze',
  /** The machine slept/hibernated (wall and boot clocks advanced, monotonic did not). */
  'sleep',
  /** The broker was unreachable: `details.scope` = NETWORK_CUT_SCOPES; reported when it returns. */
  'network_cut',
  /** Mains power lost (on battery/UPS) or restored: `details.source` = ac | battery. */
  'power_source',
  /** The wall clock jumped (NTP, officer, CMOS battery): `details.jumpMs` signed. */
  'clock_jump',
  /**
   * Disk health check (at agent start and every `diskHealth.intervalHours`): `disks` per
   * physical disk; when the check cannot run at all, no `disks` and `details.unavailable` = why.
   */
  'disk_health',
  /** A remote configuration (contract/agent-config.ts): `details.state` applied | refused, `version`, `hash`, `reason`. */
  'config',
  /** A signed agent update (contract/agent-update.ts): `details.state` one of UPDATE_STATES, `version`, `from`, `seq`, `reason`. */
  'update',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Causes of an `outage` event, best evidence first. */
export const OUTAGE_CAUSES = ['power_loss', 'crash', 'hang_reset', 'unknown'] as const;
export type OutageCause = (typeof OUTAGE_CAUSES)[number];
/** Where a network cut was: the LAN (gateway unreachable), the WAN (gateway ok, internet not), or only the broker. */
export const NETWORK_CUT_SCOPES = ['lan', 'wan', 'broker', 'unknown'] as const;
export type NetworkCutScope = (typeof NETWORK_CUT_SCOPES)[number];

/** A process as listed after a freeze (the program that may have hung the PC). */
export const ProcessInfo = z.object({
  name: text.min(1),
  pid: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32),
  cpuPct: z.number().min(0).max(100_000),
  memBytes: bytes,
});
export type ProcessInfo = z.infer<typeof ProcessInfo>;

/** Health of one physical disk (disk_health events): SMART / Windows reliability counters, disk errors. */
export const DiskHealth = z.object({
  /** `/dev/sda`, `nvme0` (Linux) or the PhysicalDisk DeviceId / FriendlyName (Windows). */
  device: text.min(1),
  model: text.optional(),
  /**
   * `ok`; `warning` (errors or bad sectors present); `failing` (SMART predicts failure);
   * `standby` (spun down, not woken: no reading); `unavailable` (this disk could not be read: `reason`).
   */
  state: z.enum(['ok', 'warning', 'failing', 'standby', 'unavailable']),
  reason: text.optional(),
  /** SMART overall assessment failed / MSStorageDriver_FailurePredictStatus.PredictFailure. */
  predictedFailure: z.boolean().optional(),
  temperatureC: z.number().min(-60).max(200).optional(),
  powerOnHours: count.optional(),
  /** Share of the rated endurance used, 0..100 (NVMe percentage_used, Windows Wear). */
  wearPct: z.number().min(0).max(255).optional(),
  /** ATA attribute 5 (Reallocated_Sector_Ct). */
  reallocatedSectors: count.optional(),
  /** ATA attribute 197 (Current_Pending_Sector). */
  pendingSectors: count.optional(),
  /** ATA 198 offline uncorrectable / NVMe media_errors / Windows Read+Write Errors Uncorrected, cumulative. */
  mediaErrors: count.optional(),
  /** Disk I/O errors logged by the OS since the previous check (kernel log; Windows System log ids 7, 51, 129, 153). */
  errorEvents: count.optional(),
});
export type DiskHealth = z.infer<typeof DiskHealth>;
export const EventMessage = Envelope.extend({
  type: z.enum(EVENT_TYPES),
  severity: z.enum(['info', 'warning', 'critical']),
  /** Short human text (agent language); the collector renders its own alert texts. */
  message: z.string().max(1024),
  /** Start/end of what the event describes (e.g. an outage), epoch ms. */
  start: epochMs.optional(),
  end: epochMs.optional(),
  details: z
    .record(z.string().max(64), z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]))
    .refine((r) => Object.keys(r).length <= 32, 'at most 32 detail keys')
    .optional(),
  /** Top CPU/memory processes (freeze events). */
  processes: z.array(ProcessInfo).max(20).optional(),
  /** Per physical disk health (disk_health events). */
  disks: z.array(DiskHealth).max(MAX_DISKS).optional(),
});
export type EventMessage = z.infer<typeof EventMessage>;

export const DiskInventory = z.object({
  device: text,
  name: text,
  type: z.enum(['HDD', 'SSD', 'NVMe', 'unknown']),
  size: bytes,
});
export const InventoryMessage = Envelope.extend({
  /** Display hostname; free text, shown escaped. */
  hostname: text,
  cpu: z.object({
    manufacturer: text,
    brand: text,
    cores: z.number().int().min(0).max(4096),
    physicalCores: z.number().int().min(0).max(4096),
    speedGHz: z.number().min(0).max(100),
  }),
  memTotal: bytes,
  disks: z.array(DiskInventory).max(MAX_DISKS),
  os: z.object({
    platform: text,
    distro: text,
    release: text,
    arch: text,
    kernel: text,
  }),
  agentVersion: text,
});
export type InventoryMessage = z.infer<typeof InventoryMessage>;

export const StatusMessage = Envelope.extend({
  state: z.enum(['online', 'offline']),
  hostname: text,
  agentVersion: text,
  /** OS boot time, epoch ms. */
  osBoot: epochMs.optional(),
  /** Keepalive in seconds, so the collector knows how soon a Last Will fires. */
  keepalive: z.number().int().min(1).max(3600).optional(),
});
export type StatusMessage = z.infer<typeof StatusMessage>;

export const SCHEMAS = {
  samples: SampleMessage,
  events: EventMessage,
  inventory: InventoryMessage,
  status: StatusMessage,
} as const;

export type MessageByKind = {
  samples: SampleMessage;
  events: EventMessage;
  inventory: InventoryMessage;
  status: StatusMessage;
};
