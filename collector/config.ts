import { isIP } from 'node:net';
import { z } from 'zod';
import { MAX_BATCH_RECORDS } from '../contract/limits.js';
import { AlertingConfigSchema } from './alerting/alerting-config.js';
import { FreezeDiagnosisConfigSchema } from './diagnosis/freeze-cause.js';
import { HealthConfigSchema } from './health/health-config.js';
import { NotifyConfigSchema } from './notify/config.js';
import { OutageConfigSchema } from './outage/outage-config.js';
import { ReportConfigSchema } from './report/report-config.js';
import { SiteSettingsSchema, SitesSchema } from './sites/site-settings.js';

/** An address or CIDR range of a trusted reverse proxy, or proxy-addr's `loopback`/`linklocal`/`uniquelocal`. */
const proxyAddress = z.string().refine((s) => {
  if (s === 'loopback' || s === 'linklocal' || s === 'uniquelocal') return true;
  const [ip, bits, more] = s.split('/');
  if (more !== undefined || !ip || !isIP(ip)) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (isIP(ip) === 4 ? 32 : 128);
}, 'must be an IP address, a CIDR range (10.0.0.0/8) or loopback/linklocal/uniquelocal');

const tlsFiles = z.object({
  caFile: z.string().optional(),
  certFile: z.string().optional(),
  keyFile: z.string().optional(),
  rejectUnauthorized: z.boolean().default(true),
});

export const CollectorConfigSchema = z.object({
  /** Folder for the embedded store (SQLite) and generated secrets. */
  dataDir: z.string().min(1).default('./data'),
  broker: z
    .object({
      /** `embedded`: run the built-in broker (aedes). `external`: subscribe to Mosquitto/EMQX at `external.url`. */
      mode: z.enum(['embedded', 'external']).default('embedded'),
      embedded: z
        .object({
          host: z.string().default('0.0.0.0'),
          port: z.number().int().min(0).max(65535).default(1883),
          tls: z
            .object({
              port: z.number().int().min(0).max(65535).default(8883),
              certFile: z.string().min(1),
              keyFile: z.string().min(1),
              caFile: z.string().optional(),
            })
            .optional(),
          /** A connection that sends no CONNECT within this is closed (aedes' default is 30 s). */
          connectTimeoutSeconds: z.number().min(1).max(60).default(5),
          /** Connections at once, all addresses (further capped by the open-files limit less `reservedFileDescriptors`). */
          maxConnections: z.number().int().min(1).max(1_000_000).default(10_000),
          /** Connections at once from one address (a commune's PCs behind one NAT address share it). */
          maxConnectionsPerAddress: z.number().int().min(1).max(1_000_000).default(256),
          /** File descriptors kept out of the broker's reach for HTTP, the store, the spool and workers. */
          reservedFileDescriptors: z.number().int().min(64).max(1_000_000).default(512),
          /** PBKDF2 password checks at once (libuv thread pool); the rest wait in a bounded queue. */
          maxConcurrentVerifications: z.number().int().min(1).max(64).default(2),
          /** Password checks waiting; beyond, CONNECT is refused as "server unavailable" and counted. */
          maxQueuedVerifications: z.number().int().min(1).max(100_000).default(500),
          /** Password-guessing throttle, per source address and per username (collector/broker/auth-throttle.ts). */
          authThrottle: z
            .object({
              /** Failures without delay. */
              freeFailures: z.number().int().min(0).max(1000).default(5),
              /** The delay before each further check doubles from 0.25 s up to this. */
              maxDelaySeconds: z.number().min(0).max(60).default(10),
              /** Failures that ban the address (or username) for `banMinutes`. */
              banAfterFailures: z.number().int().min(1).max(100_000).default(20),
              banMinutes: z.number().min(0.01).max(1440).default(15),
              /** Failures are forgotten after this long without one. */
              windowMinutes: z.number().min(0.01).max(1440).default(10),
            })
            .prefault({}),
        })
        .prefault({}),
      external: z
        .object({
          url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'must be an mqtt:// or mqtts:// URL'),
          username: z.string().min(1).default('canh-collector'),
          password: z.string().min(1),
          clientId: z.string().min(1).max(64).default('canh-collector'),
          /** MQTT keepalive towards the broker: a link silent 1.5 × this long is taken as lost. */
          keepaliveSeconds: z.number().int().min(1).max(3600).default(30),
          /** MQTT 5 shared-subscription group, for several collectors behind one broker. */
          shareGroup: z
            .string()
            .regex(/^[A-Za-z0-9_-]+$/)
            .optional(),
          tls: tlsFiles.prefault({}),
        })
        .optional(),
    })
    .prefault({})
    .superRefine((b, ctx) => {
      if (b.mode === 'external' && !b.external) ctx.addIssue({ code: 'custom', path: ['external'], message: 'required when broker.mode is "external"' });
    }),
  http: z
    .object({
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Serve the board and API over HTTPS on `port` from these PEM files (issue 14 item 9). */
      tls: z
        .object({
          certFile: z.string().min(1),
          keyFile: z.string().min(1),
        })
        .strict()
        .optional(),
      /**
       * Reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed (addresses
       * or CIDR ranges); empty: none, the client address is the socket's.
       */
      trustedProxies: z.array(proxyAddress).max(100).default([]),
      /** `Strict-Transport-Security` max-age on HTTPS answers (direct TLS, or https through a trusted proxy); 0: none. */
      hstsMaxAgeSeconds: z.number().int().min(0).max(63_072_000).default(31_536_000),
    })
    .prefault({}),
  /** REST API and board login (collector/http/api/, docs/api.md). */
  api: z
    .object({
      /** Requests per minute per client address (all API routes; bursts up to a fifth of it). */
      rateLimitPerMinute: z.number().int().min(1).max(1_000_000).default(1200),
      /** Login attempts per minute per client address (guessing tokens is hopeless, but cheap to refuse). */
      loginPerMinute: z.number().int().min(1).max(10_000).default(10),
      /** Client addresses tracked by the rate limiter; the least recently seen are forgotten beyond it. */
      rateLimitMaxClients: z.number().int().min(10).max(1_000_000).default(10_000),
      /** Board login sessions last this long (hours) after the last use, at most 7 days in all. */
      sessionIdleHours: z.number().min(0.1).max(168).default(12),
      /** Live-update (SSE) connections at once; more get 503. */
      streamMaxClients: z.number().int().min(1).max(10_000).default(100),
      /**
       * Always set the cookie `Secure` flag. It is set anyway on HTTPS (`http.tls`, or a
       * trusted proxy saying `X-Forwarded-Proto: https`); this is for a proxy that does not say so.
       */
      secureCookie: z.boolean().default(false),
    })
    .prefault({}),
  /** Site enrolment and agent packages (collector/enrollment/, collector/install/, issue 15). */
  enrollment: z
    .object({
      /** Tokens created without an explicit choice hold each new PC until an admin approves it. */
      requireApproval: z.boolean().default(false),
      /** A PC waiting for an admin (approval mode, suspected clone) asks again after this many seconds. */
      pendingRetrySeconds: z.number().int().min(1).max(3600).default(30),
      /** Enrolment requests per minute per client address (`POST /api/enroll`). */
      perMinute: z.number().int().min(1).max(10_000).default(60),
      /**
       * The MQTT address given to enrolled agents. Default: the host name the agent used to
       * reach this collector's HTTP port, with the embedded broker's port (1883 for an external broker).
       */
      mqttUrl: z
        .string()
        .regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt:// or mqtts:// URL')
        .optional(),
      /** The collector's HTTP address as PCs reach it (in the commands to paste), e.g. `http://10.0.0.5:8080`. Default: the address the board was opened with. */
      publicUrl: z
        .string()
        .regex(/^https?:\/\/[^\s/]+\/?$/, 'must be http://host:port')
        .optional(),
      /** Folder of the agent packages served at /install/files/ (default: dist/packages of this install). */
      packagesDir: z.string().min(1).optional(),
    })
    .prefault({}),
  /** Signed agent self-update (issue 16 item 2): releases in `<dataDir>/releases`, `canh release`. */
  agentUpdate: z
    .object({
      /** How often the rollout is evaluated (offers made, stages advanced). */
      pollSeconds: z.number().min(0.5).max(3600).default(30),
      /**
       * The release public key (`canh release keygen`, 32 bytes base64): put in the install
       * commands the board shows, so each new PC pins it (`update.publicKey`).
       */
      publicKey: z
        .string()
        .regex(/^[A-Za-z0-9+/]{43}=?$/, 'must be 32 bytes in base64 (canh release keygen)')
        .optional(),
    })
    .prefault({}),
  /** Metric history: rollups (1m/15m/1h) and retention per resolution, in days. */
  history: z
    .object({
      /** node-cron expression of the rollup job (it catches up from a persisted watermark). */
      rollupCron: z.string().min(1).default('* * * * *'),
      retentionDays: z
        .object({
          raw: z.number().min(1).max(3650).default(14),
          '1m': z.number().min(1).max(3650).default(35),
          '15m': z.number().min(1).max(3650).default(400),
          '1h': z.number().min(1).max(36500).default(1826),
        })
        .prefault({}),
    })
    .prefault({}),
  store: z
    .object({
      /** `normal`: survives a collector crash; `full`: also a power cut of its PC, at one fsync per message. */
      synchronous: z.enum(['normal', 'full']).default('normal'),
      /**
       * SQLite page cache of each connection (the collector's, the store worker's, the
       * report worker's), MiB. better-sqlite3's default is 16 MiB each; the pages a
       * province's inserts touch (10,000 hosts' index leaves) do not fit in either, the
       * operating system's file cache serves them, and the hot interior pages fit in 4.
       */
      cacheMiB: z.number().int().min(1).max(1024).default(4),
    })
    .prefault({}),
  ingest: z
    .object({
      skewToleranceSeconds: z.number().min(1).max(86_400).default(60),
      /** Group commit (issue 12): most records per store transaction (a batch message counts its records) … */
      batchMessages: z.number().int().min(1).max(10_000).default(1000),
      /** … and the longest a message waits for its transaction, ms. */
      batchDelayMs: z.number().int().min(0).max(5000).default(25),
      /**
       * Bound of the receive queue; when full, the broker connections wait (back-pressure).
       * Four batches keep the store busy; a deeper queue only added memory and GC (measured
       * with bench:ingest at 25,000/s offered: 20,000 → 4,000 raised the sustained rate and
       * lowered the RSS).
       */
      queueMessages: z.number().int().min(100).max(1_000_000).default(4000),
      /**
       * Most outbox records per MQTT message the collector takes, announced to the agents in
       * every ack (contract/ack.ts `batch`); 1: agents send one record per message. Counted
       * in records, `batchMessages` and `queueMessages` bound memory and transactions.
       */
      maxRecordsPerMessage: z.number().int().min(1).max(MAX_BATCH_RECORDS).default(64),
      queueBytes: z
        .number()
        .int()
        .min(1024 * 1024)
        .max(4 * 1024 * 1024 * 1024)
        .default(16 * 1024 * 1024),
      /**
       * Bound of the messages waiting for room while the receive queue is full (payload
       * bytes): past it a message is shed, not stored and not acked, and its agent sends it
       * again after its ack timeout (group-commit.ts `maxWaitingBytes`). With the embedded
       * broker each waiting message is one agent connection's read held in memory. Status
       * messages (births, Last Wills) are never shed: agents do not send those again.
       */
      waitingBytes: z
        .number()
        .int()
        .min(1024 * 1024)
        .max(4 * 1024 * 1024 * 1024)
        .default(16 * 1024 * 1024),
    })
    .prefault({}),
  /**
   * InfluxDB export (collector/influx/): off when absent. Also for VictoriaMetrics (run it
   * with `-dedup.minScrapeInterval=1ms` so a resent point is stored once, as InfluxDB does).
   */
  influx: z
    .object({
      /** Base URL, e.g. `http://127.0.0.1:8086` (InfluxDB) or `http://127.0.0.1:8428` (VictoriaMetrics). */
      url: z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL'),
      org: z.string().default(''),
      bucket: z.string().min(1).default('canh'),
      /** API token (secret: never logged). */
      token: z.string().min(1).optional(),
      /** Lines per HTTP write. */
      batchLines: z.number().int().min(1).max(100_000).default(5000),
      /** A batch is sent at most this long after its first point. */
      flushMs: z.number().int().min(10).max(60_000).default(1000),
      /** Bound of the on-disk spool; the oldest unsent points are dropped beyond it. */
      spoolMaxBytes: z
        .number()
        .int()
        .min(32 * 1024)
        .default(512 * 1024 * 1024),
      /** Default `<dataDir>/influx-spool`. */
      spoolDir: z.string().min(1).optional(),
      /** A write that has not completed after this is aborted and retried. */
      timeoutMs: z.number().int().min(100).max(600_000).default(10_000),
      /** Points kept in memory while waiting for the database; more wait in the spool only. */
      maxQueueLines: z.number().int().min(1).default(50_000),
      /**
       * Written batches stay resendable this long: when the database then drops the
       * connection they are sent again (VictoriaMetrics acknowledges rows seconds before
       * they are on disk). 0 for InfluxDB with its default durable (WAL-fsynced) writes.
       */
      resendWindowMs: z.number().int().min(0).max(600_000).default(30_000),
    })
    .optional(),
  /** Settings for sites without an entry in `sites` (working hours, line speed). */
  siteDefaults: SiteSettingsSchema,
  /** Per-site settings by site id. */
  sites: SitesSchema,
  /** Alert rules, timings, maintenance windows (collector/alerting/, issue 4). */
  alerting: AlertingConfigSchema,
  /** Notifiers: Zalo, email, webhook channels, rate limits, daily digest (collector/notify/config.ts). */
  notify: NotifyConfigSchema,
  /** Outage intelligence (collector/outage/): site correlation, silence timeout, give-up bound. */
  outage: OutageConfigSchema,
  /** Monthly report job (collector/report/report-config.ts). */
  report: ReportConfigSchema,
  /** Why a PC froze (collector/diagnosis/freeze-cause.ts, issue 17): thresholds of each cause. */
  diagnosis: z.object({ freeze: FreezeDiagnosisConfigSchema }).strict().prefault({}),
  /** The collector's watch over its own event loop (collector/health/): stall threshold. */
  health: HealthConfigSchema,
  log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
});

export type CollectorConfig = z.output<typeof CollectorConfigSchema>;
