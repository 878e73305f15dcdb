import { hostname } from 'node:os';
import { z } from 'zod';
import { ID_PATTERN, slugifyId } from '../contract/topics.js';

const id = z.string().regex(ID_PATTERN, 'must be a lowercase slug [a-z0-9_-], 1-63 chars');

/** Enough for 7 days of samples at 15 s (40,320 samples × ~1.5 KB ≈ 60 MB), with headroom. */
export const DEFAULT_OUTBOX_BYTES = 96 * 1024 * 1024;

export const AgentConfigSchema = z
  .object({
    /** Site (commune centre) id, e.g. `xa-an-binh`. */
    site: id,
    /** Host id; defaults to this PC's hostname as a slug. */
    host: id.default(() => slugifyId(hostname())),
    /** Display name; defaults to the OS hostname. */
    hostname: z.string().min(1).max(256).default(() => hostname()),
    /** Where the outbox, heartbeat and state live. */
    stateDir: z.string().min(1).default('./state/agent'),
    intervalSeconds: z.number().min(1).max(3600).default(15),
    mqtt: z
      .object({
        url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'must be mqtt://, mqtts://, ws:// or wss:// URL').default('mqtt://localhost:1883'),
        /** Defaults to `<site>.<host>` (a per-host credential). */
        username: z.string().min(1).max(128).optional(),
        password: z.string().min(1).max(256),
        /** 5 by default; falls back to 3.1.1 (4) once if the broker refuses v5 (the embedded broker speaks 3.1.1). */
        protocolVersion: z.union([z.literal(5), z.literal(4)]).default(5),
        keepaliveSeconds: z.number().int().min(2).max(600).default(10),
        connectTimeoutSeconds: z.number().int().min(1).max(300).default(15),
        /** First reconnect delay; doubles per failed attempt up to `reconnectMaxSeconds`. */
        reconnectSeconds: z.number().min(0.1).max(600).default(2),
        reconnectMaxSeconds: z.number().min(0.1).max(3600).default(30),
        /** Messages in flight awaiting PUBACK at once. */
        inflight: z.number().int().min(1).max(1000).default(32),
        /** Replayed backlog messages per second, so a week of backlog does not swamp the link or the broker. */
        replayPerSecond: z.number().min(1).max(100_000).default(200),
        tls: z
          .object({
            caFile: z.string().optional(),
            certFile: z.string().optional(),
            keyFile: z.string().optional(),
            rejectUnauthorized: z.boolean().default(true),
          })
          .default({ rejectUnauthorized: true }),
      }),
    ping: z
      .object({
        enabled: z.boolean().default(true),
        /** Ping the default gateway found automatically. */
        gateway: z.boolean().default(true),
        /** Extra targets (ISP DNS, portals). */
        targets: z.array(z.string().min(1).max(253).regex(/^[A-Za-z0-9.:_-]+$/, 'must be a hostname or IP')).max(30).default([]),
        count: z.number().int().min(1).max(20).default(4),
        timeoutSeconds: z.number().int().min(1).max(10).default(2),
      })
      .prefault({}),
    disks: z
      .object({
        /** Filesystem types never reported (pseudo and read-only image filesystems). */
        excludeTypes: z
          .array(z.string())
          .default(['tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'nsfs', 'autofs', 'devpts', 'mqueue', 'debugfs', 'tracefs', 'securityfs', 'pstore', 'bpf', 'fusectl', 'configfs', 'ramfs', 'efivarfs', 'binfmt_misc', 'hugetlbfs', 'rpc_pipefs', 'nfsd', 'iso9660']),
      })
      .prefault({}),
    net: z
      .object({
        /** Interfaces never reported (by exact name or prefix followed by `*`). */
        exclude: z.array(z.string()).default(['lo', 'docker*', 'veth*', 'br-*', 'virbr*', 'Loopback*']),
      })
      .prefault({}),
    inventory: z.object({ intervalHours: z.number().min(1).max(24 * 30).default(24) }).prefault({}),
    outbox: z
      .object({
        maxBytes: z.number().int().min(64 * 1024).max(16 * 1024 * 1024 * 1024).default(DEFAULT_OUTBOX_BYTES),
        segmentBytes: z.number().int().min(16 * 1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
        /**
         * `always`: fsync after every append (default: one sample per interval, so this
         * costs one flush every 15 s even on an HDD, and a power cut loses nothing
         * acknowledged by the append). `interval`: at most every `fsyncIntervalMs`.
         * `never`: leave it to the OS (survives kill -9, not power loss).
         */
        fsync: z.enum(['always', 'interval', 'never']).default('always'),
        fsyncIntervalMs: z.number().int().min(10).max(60_000).default(1000),
      })
      .prefault({}),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.outbox.segmentBytes * 2 > c.outbox.maxBytes) {
      ctx.addIssue({ code: 'custom', path: ['outbox', 'segmentBytes'], message: 'must be at most half of outbox.maxBytes' });
    }
  });

export type AgentConfig = z.output<typeof AgentConfigSchema>;
