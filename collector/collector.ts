import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../common/clock.js';
import { MetricsRegistry } from '../common/metrics-registry.js';
import { AgentConfigService } from './agentconfig/agent-config-service.js';
import { AgentConfigStore } from './agentconfig/agent-config-store.js';
import { releaseFilesRouter } from './agentupdate/agent-update-routes.js';
import { AgentUpdateService } from './agentupdate/agent-update-service.js';
import { AgentUpdateStore } from './agentupdate/agent-update-store.js';
import { AlertService } from './alerting/alert-service.js';
import type { NotificationSink } from './alerting/alert-types.js';
import { NotifierOutboxSink } from './alerting/notifier-sink.js';
import { AuditLog } from './audit/audit-log.js';
import { brokerSubscriberFromConfig, embeddedBrokerFromConfig } from './broker/broker-from-config.js';
import type { BrokerSubscriber } from './broker/broker-subscriber.js';
import { CredentialStore } from './broker/credentials.js';
import type { EmbeddedBroker } from './broker/embedded-broker.js';
import type { CollectorConfig } from './config.js';
import { EnrollmentStore } from './enrollment/enrollment-store.js';
import { CollectorHealth } from './health/collector-health.js';
import { applyHeapGrowth } from './health/heap-growth.js';
import { ApiCore } from './http/api/api-core.js';
import type { ApiModule } from './http/api/api-module.js';
import { apiModules } from './http/api/api-modules.js';
import { firstStartBanner } from './http/api/auth/first-start-banner.js';
import { TokenStore } from './http/api/auth/token-store.js';
import { LastWebChecks } from './http/api/last-web-checks.js';
import { closedOutageUpdate, StreamHub } from './http/api/stream-hub.js';
import { HttpServer } from './http/http-server.js';
import { influxWriterFromConfig } from './influx/influx-from-config.js';
import type { InfluxWriter } from './influx/influx-writer.js';
import { closedIncidentPoint, linesForStored } from './influx/point-builder.js';
import { GroupCommit } from './ingest/group-commit.js';
import { Ingest, type StoredMessage } from './ingest/ingest.js';
import { installRoutes } from './install/install-routes.js';
import { PackageCatalog } from './install/package-catalog.js';
import { collectorJobs } from './jobs/collector-jobs.js';
import { NotifyService } from './notify/notify-service.js';
import { OutageTracker } from './outage/outage-tracker.js';
import type { ClosedOutage, OutageReader } from './outage/outage-types.js';
import { SqliteOutageStore } from './outage/sqlite-outage-store.js';
import type { MonthlyReportJob } from './report/monthly-report-job.js';
import { monthlyReportJobFromConfig } from './report/report-job-from-config.js';
import type { ReportRunner } from './report/report-runner.js';
import { ReportService } from './report/report-service.js';
import { rollupSiteMinutes } from './report/rollup-site-minutes.js';
import { siteDirectory, type SiteDirectory } from './sites/site-settings.js';
import { RollupJob } from './store/rollup-job.js';
import { DAY_MS, SqliteHistory } from './store/sqlite-history.js';
import { openDatabase, SqliteStore, type SqliteDatabase } from './store/sqlite-store.js';
import { WalCheckpointer } from './store/wal-checkpoint.js';
import type { Store } from './store/store.js';

export interface CollectorDeps {
  clock?: Clock;
  db?: SqliteDatabase;
  store?: Store;
  /** Where alert notifications go (default: the notifier outbox). */
  notificationSink?: NotificationSink;
  /** Outage/incident read side (issue 3): the API's tiles and site pages, alert inhibition and power-cut rules. */
  outages?: OutageReader;
  /** More REST route families, mounted after the collector's own. */
  apiModules?: ApiModule[];
  /** Where reports are built (default: a worker thread, collector/jobs/collector-jobs.ts). */
  reportRunner?: ReportRunner;
  /** Where the first-start admin token is shown (never the log); stdout by default. */
  announce?: (text: string) => void;
}

export function databaseFile(config: CollectorConfig): string {
  return join(config.dataDir, 'canh.db');
}

/** What {@link Collector.open} opened before building the collector. */
interface OpenedStorage {
  db: SqliteDatabase;
  store: Store;
  credentials: CredentialStore;
  tokens: TokenStore;
  audit: AuditLog;
  initialAdminToken: string | undefined;
}

/** A freshly stored message for one part (influx export, outages, alerting, live updates). */
type StoredListener = (msg: StoredMessage) => void;
/** A closed host outage or site incident for one part (influx export, live updates). */
type ClosedListener = (closed: ClosedOutage) => void;

/**
 * The collector (house style §1): the one place that builds store, credentials, ingest,
 * broker (embedded or external), outages, alerting, notifiers, reports and HTTP from
 * config, each once, and starts/stops them in order.
 *
 * {@link Collector.open} does the I/O needed before anything else (opening the database,
 * the credential and token tables, the first-start admin token) so that the CLI and tests
 * can add credentials before {@link start}; the constructor only builds and assigns.
 *
 * Only the wiring reads here, top to bottom: each part lives in its own folder, and the longer
 * builds from config sit beside their part (`*-from-config.ts`, http/api/api-modules.ts).
 */
export class Collector {
  readonly clock: Clock;
  readonly db: SqliteDatabase;
  readonly store: Store;
  readonly credentials: CredentialStore;
  readonly tokens: TokenStore;
  /** Who did what, when and from where (issue 14 item 8): append-only. */
  readonly audit: AuditLog;
  readonly metrics = new MetricsRegistry();
  /** Site names, working hours and thresholds (config.sites over config.siteDefaults). */
  readonly sites: SiteDirectory;
  readonly history: SqliteHistory;
  readonly rollups: RollupJob;
  /** WAL checkpoints off the ingest loop (undefined for an in-memory database or without the compiled worker). */
  private readonly checkpointer: WalCheckpointer | undefined;
  /** The InfluxDB export, when `influx` is configured. */
  readonly influx: InfluxWriter | undefined;
  /** Notifiers and their outbox: the alert engine's NotificationSink. */
  readonly notify: NotifyService;
  /** Outage intelligence (issue 3): host outages and site incidents. */
  readonly outageStore: SqliteOutageStore;
  readonly outages: OutageTracker;
  /** Alert rules and engine (issue 4), when `alerting.enabled`. */
  readonly alerting: AlertService | undefined;
  /** Monthly report (issue 7) for the API, the board and the monthly job. */
  readonly reports: ReportService;
  /** Sends each site's monthly report through the notifiers (issue 7), when `report.schedule.enabled`. */
  readonly reportJob: MonthlyReportJob | undefined;
  /** The board's live updates (`/api/stream`). */
  readonly stream: StreamHub;
  readonly ingest: Ingest;
  /** Group commit: batched transactions, then the end-to-end acks (issue 12). */
  readonly commit: GroupCommit;
  readonly broker: EmbeddedBroker | undefined;
  readonly subscriber: BrokerSubscriber | undefined;
  readonly http: HttpServer;
  /** The admin token created at the first start (shown once by start()), else undefined. */
  readonly initialAdminToken: string | undefined;
  private readonly announce: (text: string) => void;
  /** The collector's own stalls and event-loop delay (issue 12 item 5). */
  readonly health: CollectorHealth;
  /** Site enrolment (issue 15): tokens, enrolled PCs, the audit log. */
  readonly enrollment: EnrollmentStore;
  /** The agent packages served at /install (issue 15 item 2). */
  readonly packages: PackageCatalog;
  /** Remote agent configuration (issue 16 item 1). */
  readonly agentConfig: AgentConfigService;
  /** Signed agent self-update (issue 16 item 2). */
  readonly agentUpdate: AgentUpdateService;

  /**
   * Opens the database (unless `deps.db` is given), prepares the credential and token
   * tables, creates the first admin token when there is none, then builds the collector.
   */
  static async open(config: CollectorConfig, log: Logger, deps: CollectorDeps = {}): Promise<Collector> {
    const clock = deps.clock ?? systemClock;
    applyHeapGrowth(config.health.heapGrowingPercent);
    const file = databaseFile(config);
    const db = deps.db ?? openDatabase(file, { synchronous: config.store.synchronous, cacheMiB: config.store.cacheMiB });
    const store = deps.store ?? new SqliteStore(db, file);
    const e = config.broker.embedded;
    const credentials = new CredentialStore(db, { maxConcurrentVerifications: e.maxConcurrentVerifications, maxQueuedVerifications: e.maxQueuedVerifications });
    credentials.init();
    const tokens = new TokenStore(db);
    const audit = new AuditLog(db);
    const initialAdminToken = tokens.ensureInitialAdmin(clock.now());
    if (initialAdminToken)
      audit.record({ action: 'token_create', actor: 'collector', via: 'collector', target: 'token 1', details: { name: 'admin', role: 'admin', firstStart: true } }, clock.now());
    return new Collector(config, log, deps, { db, store, credentials, tokens, audit, initialAdminToken });
  }

  private constructor(
    readonly config: CollectorConfig,
    private readonly log: Logger,
    deps: CollectorDeps,
    opened: OpenedStorage,
  ) {
    const clock = (this.clock = deps.clock ?? systemClock);
    const metrics = this.metrics;
    const db = (this.db = opened.db);
    const store = (this.store = opened.store);
    this.credentials = opened.credentials;
    const tokens = (this.tokens = opened.tokens);
    const audit = (this.audit = opened.audit);
    this.initialAdminToken = opened.initialAdminToken;
    this.announce = deps.announce ?? ((text) => void process.stdout.write(text));
    const sites = (this.sites = siteDirectory(config.sites, config.siteDefaults));

    const r = config.history.retentionDays;
    const history = (this.history = new SqliteHistory(db, clock, { raw: r.raw * DAY_MS, '1m': r['1m'] * DAY_MS, '15m': r['15m'] * DAY_MS, '1h': r['1h'] * DAY_MS }));
    // Reports, rollups and retention in worker threads (issue 12): not on the ingest loop.
    const jobs = collectorJobs({ db, config, metrics, log, clock });
    this.rollups = new RollupJob({ history, clock, log: log.child({ module: 'rollup' }), metrics, cron: config.history.rollupCron, work: jobs.history });
    this.checkpointer = jobs.checkpoint ? new WalCheckpointer({ db, work: jobs.checkpoint, clock, log: log.child({ module: 'store' }), metrics }) : undefined;
    const influx = (this.influx = config.influx ? influxWriterFromConfig(config, clock, log, metrics) : undefined);
    const notify = (this.notify = new NotifyService(config.notify, { db, clock, log: log.child({ module: 'notify' }), metrics }));
    const httpLog = log.child({ module: 'http' });
    const stream = (this.stream = new StreamHub({ clock, log: httpLog, metrics, maxClients: config.api.streamMaxClients }));

    const health = (this.health = new CollectorHealth({ config: config.health, db, clock, log: log.child({ module: 'health' }), metrics }));
    const outageStore = (this.outageStore = new SqliteOutageStore(db));
    const outageReader = deps.outages ?? outageStore;
    const closedListeners: ClosedListener[] = [...(influx ? [(c: ClosedOutage) => influx.write(closedIncidentPoint(c))] : []), (c) => stream.publish(closedOutageUpdate(c))];
    const outages = (this.outages = new OutageTracker({
      store: outageStore,
      config: config.outage,
      skewToleranceMs: config.ingest.skewToleranceSeconds * 1000,
      clock,
      log: log.child({ module: 'outage' }),
      metrics,
      stalls: health.gaps,
      sessionsEndWithCollector: config.broker.mode === 'embedded',
      onClosed: (c) => {
        for (const listener of closedListeners) listener(c);
      },
      // A will or birth the external broker dropped (its queue for the collector was full) is
      // still the PC's retained status: read that PC's again.
      onStatusWanted: (site, host, reason) => this.subscriber?.readStatus(site, host, reason),
    }));
    const alerting = (this.alerting = config.alerting.enabled
      ? new AlertService({
          config: config.alerting,
          db,
          store,
          sites,
          clock,
          log: log.child({ module: 'alerting' }),
          sink: deps.notificationSink ?? new NotifierOutboxSink(notify),
          outages: outageReader,
          stoppedHosts: (site) => outages.stoppedHosts(site),
          metrics,
        })
      : undefined);
    const reports = (this.reports = new ReportService(
      {
        store,
        history,
        siteMinutes: rollupSiteMinutes(db, history),
        outages: outageStore,
        sites,
        prices: config.report.prices,
        costRules: config.report.costRules,
        freezeDiagnosis: config.diagnosis.freeze,
      },
      { runner: deps.reportRunner ?? jobs.reports },
    ));
    this.reportJob = monthlyReportJobFromConfig(config, { db, reports, notify, store, clock, log });

    // The board's "Kiểm tra dịch vụ web" stays between two probes (issue 13 item 7).
    const webChecks = new LastWebChecks();
    // Remote agent configuration (issue 16 item 1), published through whichever broker runs.
    const agentConfigStore = new AgentConfigStore(db);
    const agentConfig = (this.agentConfig = new AgentConfigService({
      store: agentConfigStore,
      hosts: store,
      publisher: { publishConfig: (topic, payload) => (this.broker ?? this.subscriber)?.publishConfig(topic, payload) ?? false },
      clock,
      log: log.child({ module: 'agent-config' }),
    }));
    // Signed agent updates (issue 16 item 2), offered through the same broker.
    const agentUpdateStore = new AgentUpdateStore(db);
    const agentUpdate = (this.agentUpdate = new AgentUpdateService({
      store: agentUpdateStore,
      hosts: store,
      sites,
      publisher: { publishConfig: (topic, payload) => (this.broker ?? this.subscriber)?.publishConfig(topic, payload) ?? false },
      clock,
      log: log.child({ module: 'agent-update' }),
      pollMs: config.agentUpdate.pollSeconds * 1000,
    }));
    // Every freshly stored message goes to each of these, in order. Points are queued
    // before start() (the writer holds them until its spool is open).
    const storedListeners: StoredListener[] = [
      ...(influx ? [(msg: StoredMessage) => influx.write(linesForStored(msg))] : []),
      (msg) => outages.onStored(msg),
      ...(alerting ? [(msg: StoredMessage) => alerting.onStored(msg)] : []),
      (msg) => webChecks.onStored(msg),
      (msg) => agentConfig.onStored(msg),
      (msg) => agentUpdate.onStored(msg),
      (msg) => stream.fromStored(msg),
    ];
    const ingest = (this.ingest = new Ingest({
      store,
      onStored: (msg) => {
        for (const listener of storedListeners) listener(msg);
      },
      clock,
      log: log.child({ module: 'ingest' }),
      metrics,
      skewToleranceMs: config.ingest.skewToleranceSeconds * 1000,
    }));
    const g = config.ingest;
    const commit = (this.commit = new GroupCommit(
      {
        ingest,
        store,
        clock,
        log: log.child({ module: 'ingest' }),
        metrics,
        saturation: health.saturation,
      },
      {
        maxBatch: g.batchMessages,
        maxDelayMs: g.batchDelayMs,
        maxQueue: g.queueMessages,
        maxQueueBytes: g.queueBytes,
        maxWaitingBytes: g.waitingBytes,
        maxRecordsPerMessage: g.maxRecordsPerMessage,
      },
    ));
    const brokerParts = { config, ingest, commit, clock, log, metrics };
    if (config.broker.mode === 'embedded') {
      this.broker = embeddedBrokerFromConfig({ ...brokerParts, credentials: this.credentials, store });
    } else {
      this.subscriber = brokerSubscriberFromConfig({
        ...brokerParts,
        link: health.brokerLink,
        onConnect: () => {
          void agentConfig.republishAll();
          void agentUpdate.republishAll();
        },
      });
    }

    commit.setAckPublisher((this.broker ?? this.subscriber)!);

    const api = new ApiCore({ tokens, audit, clock, log: httpLog, metrics, settings: config.api });
    // Site enrolment and agent packages (issue 15).
    this.enrollment = new EnrollmentStore(db);
    const packages = (this.packages = new PackageCatalog(config.enrollment.packagesDir));
    // The REST API: one list, mounted in its order (collector/http/api/api-modules.ts).
    const modules = apiModules(this, { api, log, outageReader, webChecks, agentConfigStore, agentUpdateStore, extra: deps.apiModules ?? [] });
    this.http = new HttpServer({
      routes: [
        { path: '/install/releases', router: releaseFilesRouter(agentUpdateStore, config.dataDir, httpLog) },
        { path: '/install', router: installRoutes(packages, httpLog) },
      ],
      host: config.http.host,
      port: config.http.port,
      tls: config.http.tls,
      trustedProxies: config.http.trustedProxies,
      hstsMaxAgeSeconds: config.http.hstsMaxAgeSeconds,
      store,
      api,
      apiModules: modules,
      metrics,
      clock,
      log: httpLog,
      health: () => health.summary(),
      brokerStatus: () => (this.broker ? { mode: 'embedded', connected: true } : { mode: 'external', connected: this.subscriber?.isConnected() ?? false }),
    });
  }

  async start(): Promise<void> {
    // Configuration changes since the last start (section names only: values may be secrets).
    const changed = this.audit.recordConfig(this.config as unknown as Record<string, unknown>, this.clock.now(), undefined);
    if (changed.length) this.log.info({ changed }, 'configuration changed since the last start (audit log)');
    this.health.start();
    this.checkpointer?.start();
    // After the store (opened by open()), before the broker delivers messages.
    await this.influx?.start();
    // Pending deliveries of the previous run go out again.
    this.notify.start();
    // Before any message: reload the outage state (an incident open at the last stop resumes).
    this.outages.start();
    if (this.broker) {
      // Every MQTT session ended with the previous run of the embedded broker: host
      // states are unknown until each agent's birth message arrives again.
      const n = this.store.markAllUnknown(this.clock.now());
      if (n) this.log.info({ hosts: n }, 'embedded broker restart: host states unknown until agents reconnect');
      await this.broker.start();
    } else {
      await this.subscriber!.start();
    }
    // The embedded broker starts without retained messages: each PC's last one is published again, unchanged.
    void this.agentConfig.start();
    void this.agentUpdate.start();
    await this.alerting?.start();
    this.reports.runner.start?.();
    await this.http.start();
    this.stream.start();
    this.rollups.start();
    // After the notifiers: a report due while the collector was off is queued now.
    this.reportJob?.start();
    // Shown only now that the board is listening; a start that failed before this line
    // leaves the token "unseen", and the next start revokes it and shows a new one.
    if (this.initialAdminToken) {
      this.announce(firstStartBanner(this.initialAdminToken, this.http.port(), this.tokens.revokedUnseen > 0, this.config.http.tls ? 'https' : 'http'));
      this.tokens.markShown();
    }
    this.log.info({ dataDir: this.config.dataDir, broker: this.config.broker.mode }, 'collector started');
  }

  async stop(): Promise<void> {
    await this.reportJob?.stop();
    await this.rollups.stop();
    this.stream.stop();
    await this.http.stop();
    await this.reports.runner.stop?.();
    await this.alerting?.stop();
    // Commit and ack what was received while the broker can still carry the acks; what
    // arrives after this is dropped unacked (the agents send it again to the next run).
    this.commit.stop();
    this.agentConfig.stop();
    this.agentUpdate.stop();
    await this.broker?.stop();
    await this.subscriber?.stop();
    this.outages.stop();
    // No more messages arrive: seal, spool and send what is queued (the rest replays at the next start).
    await this.influx?.stop();
    await this.notify.stop();
    this.health.stop();
    await this.checkpointer?.stop();
    this.store.close();
    this.log.info('collector stopped');
  }
}
