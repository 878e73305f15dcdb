import { hostname } from 'node:os';
// zod/mini: the same zod core with a tree-shakable API, ~6 MB less resident memory than
// classic zod in the agent, which must stay nearly invisible on an old office PC. Its English
// messages are configured by contract/remote-config.ts, imported here.
import * as z from 'zod/mini';
import { mergeObjects } from '../common/merge-objects.js';
import {
  describeIssues,
  freezeThreshold,
  freezeTop,
  httpInterval,
  httpProbes,
  int,
  intervalSeconds,
  inventoryHours,
  logLevel,
  num,
  pingCount,
  pingTargets,
  pingTimeout,
  probeIssues,
  RemoteConfigSchema,
  type RemoteConfig,
} from '../contract/remote-config.js';
import { ID_PATTERN, slugifyId } from '../contract/topics.js';

const id = z.string().check(z.regex(ID_PATTERN, 'must be a lowercase slug [a-z0-9_-], 1-63 chars'));

/** Enough for 7 days of samples at 15 s (40,320 samples × ~1.5 KB ≈ 60 MB), with headroom. */
export const DEFAULT_OUTBOX_BYTES = 96 * 1024 * 1024;

const DEFAULT_EXCLUDED_FS = [
  'tmpfs',
  'devtmpfs',
  'overlay',
  'squashfs',
  'proc',
  'sysfs',
  'cgroup',
  'cgroup2',
  'nsfs',
  'autofs',
  'devpts',
  'mqueue',
  'debugfs',
  'tracefs',
  'securityfs',
  'pstore',
  'bpf',
  'fusectl',
  'configfs',
  'ramfs',
  'efivarfs',
  'binfmt_misc',
  'hugetlbfs',
  'rpc_pipefs',
  'nfsd',
  'iso9660',
];

// The validators the remote part shares (issue 16) come from contract/remote-config.ts: one definition for both.

/** The national public-service portal (Cổng Dịch vụ công quốc gia); add the province's one-stop system per deployment. */
export const DEFAULT_HTTP_PROBES = [{ name: 'dichvucong', url: 'https://dichvucong.gov.vn/', method: 'GET' as const, timeoutSeconds: 10 }];

export const AgentConfigSchema = z
  .object({
    /** Site (commune centre) id, e.g. `xa-an-binh`. */
    site: id,
    /** Host id; defaults to this PC's hostname as a slug. */
    host: z._default(id, () => slugifyId(hostname())),
    /** Display name; defaults to the OS hostname. */
    hostname: z._default(z.string().check(z.minLength(1), z.maxLength(256)), () => hostname()),
    /** Where the outbox and state live. */
    stateDir: z._default(z.string().check(z.minLength(1)), './state/agent'),
    intervalSeconds: z._default(intervalSeconds, 15),
    /**
     * The collector's HTTP address (e.g. `http://10.0.0.5:8080`) for site enrolment (issue 15):
     * with `enrollToken` and no `mqtt.password`, the agent enrolls itself there once and
     * keeps the per-host credential it gets in `<stateDir>/enrollment.json`.
     */
    collector: z.optional(z.string().check(z.maxLength(2048), z.regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL'))),
    /** One-time enrolment token (`canh enroll create`); not used again once enrolled. */
    enrollToken: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
    mqtt: z.prefault(
      z.object({
        url: z._default(z.string().check(z.regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'must be mqtt://, mqtts://, ws:// or wss:// URL')), 'mqtt://localhost:1883'),
        /** Defaults to `<site>.<host>` (a per-host credential). */
        username: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
        /** Required unless the agent enrolls (`collector` + `enrollToken`): then it comes from the collector. */
        password: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
        /** 5 by default; falls back to 3.1.1 (4) once if the broker refuses v5 (the embedded broker speaks 3.1.1). */
        protocolVersion: z._default(z.union([z.literal(5), z.literal(4)]), 5),
        keepaliveSeconds: z._default(int(2, 600), 10),
        connectTimeoutSeconds: z._default(int(1, 300), 15),
        /** First reconnect delay; doubles per failed attempt up to `reconnectMaxSeconds`. */
        reconnectSeconds: z._default(num(0.1, 600), 2),
        reconnectMaxSeconds: z._default(num(0.1, 3600), 30),
        /**
         * Unacknowledged messages in flight: sent and not yet acknowledged by the collector
         * (its end-to-end ack, not the broker's PUBACK). A full window leaves the rest on disk.
         */
        inflight: z._default(int(1, 1000), 32),
        /** A message the collector has not acknowledged after this long is sent again. */
        ackTimeoutSeconds: z._default(num(1, 3600), 30),
        /** While no ack arrives at all (collector down) the ack timeout doubles per round, up to this. */
        ackTimeoutMaxSeconds: z._default(num(1, 86_400), 300),
        /** Replayed backlog messages per second, so a week of backlog does not swamp the link or the broker. */
        replayPerSecond: z._default(num(1, 100_000), 200),
        /**
         * Most outbox records per MQTT message when several are ready (backlog replay,
         * re-sends), within the bound the collector announces in its acks; 1: never batch.
         */
        batchRecords: z._default(int(1, 256), 64),
        tls: z._default(
          z.object({
            caFile: z.optional(z.string()),
            certFile: z.optional(z.string()),
            keyFile: z.optional(z.string()),
            rejectUnauthorized: z._default(z.boolean(), true),
          }),
          { rejectUnauthorized: true },
        ),
      }),
      {},
    ),
    ping: z.prefault(
      z.object({
        enabled: z._default(z.boolean(), true),
        /** Ping the default gateway found automatically. */
        gateway: z._default(z.boolean(), true),
        /** Extra targets (ISP DNS, portals). */
        targets: z._default(pingTargets, []),
        count: z._default(pingCount, 4),
        timeoutSeconds: z._default(pingTimeout, 2),
      }),
      {},
    ),
    http: z.prefault(
      z.object({
        /**
         * On by default: "TTHC portal unreachable from the site" (issue 4) and "TTHC portals
         * reachable" (issue 7) need a measurement from every commune, and an officer at a
         * commune does not edit agent configs. The cost is one fresh HTTPS connection per
         * portal per `intervalSeconds` with at most `maxBodyBytes` of body read.
         */
        enabled: z._default(z.boolean(), true),
        probes: z._default(httpProbes, DEFAULT_HTTP_PROBES),
        /**
         * Seconds between two probes of one URL (the probes of several URLs are spread over it).
         * 60 s, not the 15 s sampling interval: a fresh HTTPS connection costs the agent ~3-5 ms
         * of CPU (TLS handshake, certificate check), which every 15 s would put it above
         * node_exporter's CPU per scrape (bench:agent); every PC of every commune probing the
         * national portal 4 times a minute is also needless load on it. 60 s still gives 10
         * results per host per 10-minute congestion window (issue 4), more with several PCs.
         */
        intervalSeconds: z._default(httpInterval, 60),
        /** Body bytes read at most per probe before the connection is closed. */
        maxBodyBytes: z._default(int(0, 1024 * 1024), 16 * 1024),
      }),
      {},
    ),
    disks: z.prefault(
      z.object({
        /** Filesystem types never reported (pseudo and read-only image filesystems). */
        excludeTypes: z._default(z.array(z.string()), DEFAULT_EXCLUDED_FS),
      }),
      {},
    ),
    net: z.prefault(
      z.object({
        /** Interfaces never reported (by exact name or prefix followed by `*`). */
        exclude: z._default(z.array(z.string()), ['lo', 'docker*', 'veth*', 'br-*', 'virbr*', 'Loopback*']),
      }),
      {},
    ),
    inventory: z.prefault(z.object({ intervalHours: z._default(inventoryHours, 24) }), {}),
    outbox: z.prefault(
      z.object({
        maxBytes: z._default(int(64 * 1024, 16 * 1024 * 1024 * 1024), DEFAULT_OUTBOX_BYTES),
        segmentBytes: z._default(int(16 * 1024, 256 * 1024 * 1024), 4 * 1024 * 1024),
        /**
         * `always`: fsync after every append (default: one sample per interval, so this
         * costs one flush every 15 s even on an HDD, and a power cut loses nothing
         * acknowledged by the append). `interval`: at most every `fsyncIntervalMs`.
         * `never`: leave it to the OS (survives kill -9, not power loss).
         */
        fsync: z._default(z.enum(['always', 'interval', 'never']), 'always'),
        fsyncIntervalMs: z._default(int(10, 60_000), 1000),
      }),
      {},
    ),
    log: z.prefault(z.object({ level: z._default(logLevel, 'info') }), {}),
    /** Outage detection at start (issue 3): heartbeat + clean-shutdown marker in stateDir. */
    outage: z.prefault(
      z.object({
        enabled: z._default(z.boolean(), true),
        /**
         * Heartbeat period; absent = the sampling interval (never longer: an outage's start is
         * the last heartbeat, so this period is its uncertainty).
         */
        heartbeatSeconds: z.optional(num(0.5, 3600)),
        /**
         * fsync the heartbeat (and its directory) on every write, so that after a power cut
         * the last heartbeat on disk is at most one period old. Off: the OS writes it back
         * within its own delay (Linux ext4: ~5-30 s), which then adds to the uncertainty.
         */
        heartbeatFsync: z._default(z.boolean(), true),
        /** Limit for reading the event log / journal / wtmp at start. */
        evidenceTimeoutSeconds: z._default(num(1, 60), 10),
      }),
      {},
    ),
    /** Freeze, sleep and clock-jump detection while running (issue 3). */
    freeze: z.prefault(
      z.object({
        enabled: z._default(z.boolean(), true),
        /** Period of the watch tick; a freeze's duration is known to within one tick. */
        tickSeconds: z._default(num(0.2, 60), 2),
        /**
         * A tick this late means the PC (or the agent) froze. 10 s: well above garbage
         * collection pauses and short I/O stalls of an old PC with an HDD (1-3 s), well
         * below what an officer calls "the PC hung".
         */
        thresholdSeconds: z._default(freezeThreshold, 10),
        /** Wall clock moved this much more (or less) than the monotonic clock: a clock jump. */
        clockJumpSeconds: z._default(num(1, 86_400), 5),
        /** Top processes listed after a freeze, by CPU and by memory each. */
        topProcesses: z._default(freezeTop, 5),
      }),
      {},
    ),
    /** Network-cut diagnosis while the broker is unreachable (issue 3). */
    network: z.prefault(
      z.object({
        enabled: z._default(z.boolean(), true),
        /**
         * Internet targets as `host:port`, probed by TCP connect (a refusal also proves the
         * path works). Defaults: public DNS resolvers, reachable from any ISP.
         */
        internetTargets: z._default(
          z.array(z.string().check(z.regex(/^[A-Za-z0-9.:_-]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/, 'must be host:port'))).check(z.minLength(1), z.maxLength(10)),
          ['8.8.8.8:53', '1.1.1.1:443'],
        ),
        /** TCP ports tried on the gateway (routers answer or refuse on at least one). */
        gatewayPorts: z._default(z.array(int(1, 65535)).check(z.minLength(1), z.maxLength(8)), [53, 80, 443]),
        /** Probe period while the broker is unreachable. */
        probeSeconds: z._default(num(0.5, 600), 5),
        probeTimeoutSeconds: z._default(num(0.2, 30), 2),
        /** Cuts shorter than this are not reported (a broker restart, a reconnect at start). */
        minCutSeconds: z._default(num(0, 3600), 5),
      }),
      {},
    ),
    /** Battery/UPS state (issue 3): the `power` metric and `power_source` events. */
    power: z.prefault(z.object({ enabled: z._default(z.boolean(), true) }), {}),
    /** Disk health, disk activity and memory pressure (issue 17). */
    diskHealth: z.prefault(
      z.object({
        /** The disk_health check (SMART / Windows reliability counters, disk error events), at start and every `intervalHours`. */
        enabled: z._default(z.boolean(), true),
        intervalHours: z._default(num(0.5, 168), 6),
        /** How long one check may take before it is given up (`unavailable`). */
        timeoutSeconds: z._default(num(5, 300), 60),
        /** The per-sample `diskio` (busy %, queue) and `pressure` (PSI, swap, hard faults) metrics. */
        activity: z._default(z.boolean(), true),
      }),
      {},
    ),
    /**
     * Signed self-update (issue 16 item 2; agent/update/). Local only: never part of the
     * remote configuration, so the collector cannot change the key it is checked against.
     */
    update: z.prefault(
      z.object({
        /** Act on the collector's update offers. */
        enabled: z._default(z.boolean(), true),
        /** The release public key (ed25519, 32 bytes base64, `canh release keygen`), pinned at install time. */
        publicKey: z.optional(z.string().check(z.regex(/^[A-Za-z0-9+/]{43}=?$/, 'must be 32 bytes in base64 (canh release keygen)'))),
        /** Or a file holding it (e.g. `/etc/canh/release.pub`). */
        publicKeyFile: z.optional(z.string().check(z.minLength(1))),
        /** Where packages are downloaded from; default `collector`. */
        url: z.optional(z.string().check(z.maxLength(2048), z.regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL'))),
        /** Download pace (a congested commune link carries the TTHC work first); 0: unpaced. */
        rateBytesPerSecond: z._default(int(0, 1024 * 1024 * 1024), 256 * 1024),
        /** A package larger than this is refused. */
        maxBytes: z._default(int(1024, 1024 * 1024 * 1024), 64 * 1024 * 1024),
        /** Skip the update while the state folder's disk has less free space than this (plus 4× the package). */
        minFreeBytes: z._default(int(0, 1024 * 1024 * 1024 * 1024), 512 * 1024 * 1024),
        /** A new version must connect and get a collector acknowledgement within this long of a start, or it is rolled back. */
        trialSeconds: z._default(num(5, 3600), 300),
      }),
      {},
    ),
  })
  .check(
    z.superRefine((c, ctx) => {
      ctx.issues.push(...probeIssues(c.http.probes));
      if (c.mqtt.ackTimeoutMaxSeconds < c.mqtt.ackTimeoutSeconds) {
        ctx.issues.push({ code: 'custom', path: ['mqtt', 'ackTimeoutMaxSeconds'], message: 'must be at least mqtt.ackTimeoutSeconds', input: c.mqtt.ackTimeoutMaxSeconds });
      }
      if (c.outbox.segmentBytes * 2 > c.outbox.maxBytes) {
        ctx.issues.push({ code: 'custom', path: ['outbox', 'segmentBytes'], message: 'must be at most half of outbox.maxBytes', input: c.outbox.segmentBytes });
      }
    }),
    // Checked even when other keys are wrong, so a config lists every problem at once.
    z.refine(
      (c) => {
        const v = c as { mqtt?: { password?: unknown }; collector?: unknown } | undefined;
        return v?.mqtt?.password !== undefined || v?.collector !== undefined;
      },
      { path: ['mqtt', 'password'], message: 'required (or enroll: set collector and enrollToken)', when: () => true },
    ),
  );

export type AgentConfig = z.output<typeof AgentConfigSchema>;

/**
 * The part of an agent's settings an admin may set from the collector (issue 16) is
 * contract/remote-config.ts `RemoteConfigSchema`: built from the same validators as the file's
 * schema above, and the merged result is validated by {@link AgentConfigSchema} itself
 * ({@link mergeRemoteConfig}).
 */
export type RemoteMerge = { ok: true; config: AgentConfig; remote: RemoteConfig } | { ok: false; reason: string };

/**
 * Lay a remote part over the local configuration (the floor) and validate the result with
 * the file's own schema: `ok` with the merged configuration, or the reason it is refused.
 */
export function mergeRemoteConfig(local: AgentConfig, part: unknown): RemoteMerge {
  const remote = RemoteConfigSchema.safeParse(part);
  if (!remote.success) return { ok: false, reason: describeIssues(remote.error.issues) };
  const merged = AgentConfigSchema.safeParse(mergeObjects(local as unknown as Record<string, unknown>, remote.data as Record<string, unknown>));
  if (!merged.success) return { ok: false, reason: describeIssues(merged.error.issues) };
  return { ok: true, config: merged.data, remote: remote.data };
}

/** Top-level keys whose value differs between two configurations. */
export function changedKeys(a: AgentConfig, b: AgentConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify((a as Record<string, unknown>)[k]) !== JSON.stringify((b as Record<string, unknown>)[k]));
}
