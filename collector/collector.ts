import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../common/clock.js';
import { MAX_PACKET_BYTES } from '../contract/limits.js';
import { AlertService } from './alerting/alert-service.js';
import type { NotificationSink } from './alerting/alert-types.js';
import { NotifierOutboxSink } from './alerting/notifier-sink.js';
import { notifyTester } from './alerting/notify-test.js';
import type { ApiModule } from './api/api-module.js';
import { alertsRoutes } from './api/routes/alerts.js';
import { TokenStore } from './api/auth/token-store.js';
import { BrokerSubscriber } from './broker-subscriber.js';
import type { CollectorConfig } from './config.js';
import { CredentialStore } from './credentials.js';
import { EmbeddedBroker } from './embedded-broker.js';
import { HttpServer } from './http-server.js';
import { InfluxWriter } from './influx/influx-writer.js';
import { incidentPoint, linesForStored } from './influx/point-builder.js';
import { Ingest } from './ingest.js';
import { MetricsRegistry } from './metrics-registry.js';
import type { OutageReader } from './outage/outage-types.js';
import { siteDirectory } from './site-settings.js';
import { reportsRoutes } from './api/routes/reports.js';
import { rollupSiteMinutes } from './report/rollup-site-minutes.js';
import { ReportService } from './report/report-service.js';
import { MonthlyReportJob } from './report/monthly-report-job.js';
import { knownSites } from './report/report-builder.js';
import { monthRange, parseMonth } from './report/report-period.js';
import { NotifierReportSender } from './report/notifier-report-sender.js';
import { RollupJob } from './store/rollup-job.js';
import { SqliteEventQuery } from './store/sqlite-event-query.js';
import { DAY_MS, SqliteHistory } from './store/sqlite-history.js';
import { NotifyService } from './notify/notify-service.js';
import { collectorJobs } from './jobs/collector-jobs.js';
import type { ReportRunner } from './report/report-runner.js';
import { outageRoutes } from './api/routes/outages.js';
import { OutageTracker } from './outage/outage-tracker.js';
import { SqliteOutageStore } from './outage/sqlite-outage-store.js';
import { openDatabase, SqliteStore, type SqliteDatabase } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

export interface CollectorDeps {
  clock?: Clock;
  db?: SqliteDatabase;
  store?: Store;
  /** Where alert notifications go (default: the notifier outbox). */
  notificationSink?: NotificationSink;
  /** Outage/incident read side (issue 3): the API's tiles and site pages, alert inhibition and power-cut rules. */
  outages?: OutageReader;
  /** More REST route families (incidents, alerts, silences, reports). */
  apiModules?: ApiModule[];
  /** Where reports are built (default: a worker thread, collector/jobs/collector-jobs.ts). */
  reportRunner?: ReportRunner;
  /** Where the first-start admin token is shown (never the log); stdout by default. */
  announce?: (text: string) => void;
}

export function databaseFile(config: CollectorConfig): string {
  return join(config.dataDir, 'canh.db');
}

/**
 * The collector (house style §1): one place that builds store, credentials, ingest,
 * broker (embedded or external) and HTTP from config, and starts/stops them in order.
 */
export class Collector {
  readonly clock: Clock;
  readonly db: SqliteDatabase;
  readonly store: Store;
  readonly credentials: CredentialStore;
  readonly metrics = new MetricsRegistry();
  readonly ingest: Ingest;
  readonly broker: EmbeddedBroker | undefined;
  readonly subscriber: BrokerSubscriber | undefined;
  readonly http: HttpServer;
  /** The InfluxDB export, when `influx` is configured. */
  readonly influx: InfluxWriter | undefined;
  /** Alert rules and engine (issue 4), when `alerting.enabled`. */
  readonly alerting: AlertService | undefined;
  /** REST routes of alerts, silences and notify test (for the HTTP server's API modules). */
  readonly alertRoutes: ApiModule | undefined;
  /** Monthly report (issue 7) for the API, the board and the monthly job. */
  readonly reports: ReportService;
  /** Sends each site's monthly report through the notifiers (issue 7), when `report.schedule.enabled`. */
  readonly reportJob: MonthlyReportJob | undefined;
  readonly tokens: TokenStore;
  readonly history: SqliteHistory;
  readonly rollups: RollupJob;
  /** The admin token created at the first start (shown once by start()), else undefined. */
  readonly initialAdminToken: string | undefined;
  private readonly announce: (text: string) => void;
  /** Notifiers and their outbox: the alert engine's NotificationSink. */
  readonly notify: NotifyService;
  /** Outage intelligence (issue 3): host outages and site incidents. */
  readonly outageStore: SqliteOutageStore;
  readonly outages: OutageTracker;
  /** `/api/incidents…`, `/api/outages` (docs/api.md), for the HTTP server's module registry. */
  readonly outageApi: ApiModule;

  constructor(
    readonly config: CollectorConfig,
    private readonly log: Logger,
    deps: CollectorDeps = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    const file = databaseFile(config);
    this.db = deps.db ?? openDatabase(file, { synchronous: config.store.synchronous });
    this.store = deps.store ?? new SqliteStore(this.db, file);
    this.credentials = new CredentialStore(this.db);
    this.credentials.init();
    this.tokens = new TokenStore(this.db);
    this.initialAdminToken = this.tokens.ensureInitialAdmin(this.clock.now());
    this.announce = deps.announce ?? ((text) => void process.stdout.write(text));
    const r = config.history.retentionDays;
    this.history = new SqliteHistory(this.db, this.clock, { raw: r.raw * DAY_MS, '1m': r['1m'] * DAY_MS, '15m': r['15m'] * DAY_MS, '1h': r['1h'] * DAY_MS });
    // Reports, rollups and retention in worker threads (issue 12): not on the ingest loop.
    const jobs = collectorJobs({ db: this.db, config, metrics: this.metrics, log, clock: this.clock });
    this.rollups = new RollupJob({ history: this.history, clock: this.clock, log: log.child({ module: 'rollup' }), metrics: this.metrics, cron: config.history.rollupCron, work: jobs.history });
    if (config.influx) {
      const x = config.influx;
      this.influx = new InfluxWriter(
        {
          url: x.url,
          org: x.org,
          bucket: x.bucket,
          token: x.token,
          batchLines: x.batchLines,
          flushMs: x.flushMs,
          spoolDir: x.spoolDir ?? join(config.dataDir, 'influx-spool'),
          spoolMaxBytes: x.spoolMaxBytes,
          timeoutMs: x.timeoutMs,
          maxQueueLines: x.maxQueueLines,
          resendWindowMs: x.resendWindowMs,
        },
        { clock: this.clock, log: log.child({ module: 'influx' }), metrics: this.metrics },
      );
    }
    this.notify = new NotifyService(config.notify, { db: this.db, clock: this.clock, log: log.child({ module: 'notify' }), metrics: this.metrics });
    const influx = this.influx;
    this.outageStore = new SqliteOutageStore(this.db);
    this.outages = new OutageTracker({
      store: this.outageStore,
      config: config.outage,
      skewToleranceMs: config.ingest.skewToleranceSeconds * 1000,
      clock: this.clock,
      log: log.child({ module: 'outage' }),
      metrics: this.metrics,
      onClosed: (c) => {
        influx?.write(
          c.scope === 'site'
            ? incidentPoint({ site: c.incident.site, scope: 'site', cause: c.incident.cause, start: c.incident.start, end: c.incident.end ?? c.incident.start, hosts: c.incident.hosts.length })
            : incidentPoint({ site: c.outage.site, scope: 'host', cause: c.outage.cause, start: c.outage.start, end: c.outage.end ?? c.outage.start, hosts: 1 }),
        );
        // The board's live updates: its timeline and tiles refetch.
        this.http.stream.publish(
          c.scope === 'site'
            ? { kind: 'incident', site: c.incident.site, host: null, t: c.incident.end ?? c.incident.start }
            : { kind: 'incident', site: c.outage.site, host: c.outage.host, t: c.outage.end ?? c.outage.start },
        );
      },
    });
    const sites = siteDirectory(config.sites, config.siteDefaults);
    this.outageApi = outageRoutes({
      outages: this.outageStore,
      timezone: (site) => (site === undefined ? config.siteDefaults.workingHours.timezone : sites.workingHours(site).timezone),
    });
    const outages = this.outages;
    if (config.alerting.enabled) {
      this.alerting = new AlertService({
        config: config.alerting,
        db: this.db,
        store: this.store,
        sites,
        clock: this.clock,
        log: log.child({ module: 'alerting' }),
        sink: deps.notificationSink ?? new NotifierOutboxSink(this.notify),
        outages: deps.outages ?? this.outageStore,
        metrics: this.metrics,
      });
    }
    const alerting = this.alerting;
    this.reports = new ReportService({
      store: this.store,
      history: this.history,
      siteMinutes: rollupSiteMinutes(this.db, this.history),
      outages: this.outageStore,
      sites: siteDirectory(config.sites, config.siteDefaults),
    }, { runner: deps.reportRunner ?? jobs.reports });
    // Nobody to send to without a notifier channel: no job, and no report rendered for nothing.
    if (config.report.schedule.enabled && this.notify.notifiers.size > 0) {
      const store = this.store;
      this.reportJob = new MonthlyReportJob({
        db: this.db,
        service: this.reports,
        sender: new NotifierReportSender(this.notify, this.clock),
        clock: this.clock,
        log: log.child({ module: 'report' }),
        config: config.report.schedule,
        knownSites: () => knownSites(store),
        reportedIn: (site, month) => {
          const end = monthRange(parseMonth(month), config.report.schedule.timezone).to;
          return store.listHosts(site).some((h) => h.firstSeen < end);
        },
      });
    }
    this.alertRoutes = alerting ? alertsRoutes({ alerts: alerting.alertStore, lang: config.alerting.lang, notifyTest: notifyTester(this.notify, this.clock) }) : undefined;
    this.ingest = new Ingest({
      store: this.store,
      onStored: (msg) => {
        // Points are queued before start() (the writer holds them until its spool is open).
        influx?.write(linesForStored(msg));
        outages.onStored(msg);
        alerting?.onStored(msg);
        this.http.stream.fromStored(msg);
      },
      clock: this.clock,
      log: log.child({ module: 'ingest' }),
      metrics: this.metrics,
      skewToleranceMs: config.ingest.skewToleranceSeconds * 1000,
    });
    if (config.broker.mode === 'embedded') {
      const e = config.broker.embedded;
      this.broker = new EmbeddedBroker({
        host: e.host,
        port: e.port,
        tls: e.tls,
        maxPacketBytes: MAX_PACKET_BYTES,
        auth: this.credentials,
        ingest: this.ingest,
        log: log.child({ module: 'broker' }),
        metrics: this.metrics,
      });
    } else {
      const x = config.broker.external!;
      this.subscriber = new BrokerSubscriber({
        url: x.url,
        username: x.username,
        password: x.password,
        clientId: x.clientId,
        shareGroup: x.shareGroup,
        tls: x.tls,
        ingest: this.ingest,
        clock: this.clock,
        log: log.child({ module: 'subscriber' }),
        metrics: this.metrics,
      });
    }
    this.http = new HttpServer({
      host: config.http.host,
      port: config.http.port,
      store: this.store,
      tokens: this.tokens,
      history: this.history,
      events: new SqliteEventQuery(this.db),
      sites: siteDirectory(config.sites, config.siteDefaults),
      configuredSites: Object.keys(config.sites),
      api: config.api,
      outages: deps.outages ?? this.outageStore,
      apiModules: [
        ...(deps.apiModules ?? []),
        this.outageApi,
        ...(this.alertRoutes ? [this.alertRoutes] : []),
        reportsRoutes(this.reports, { timezone: config.siteDefaults.workingHours.timezone }),
      ],
      metrics: this.metrics,
      clock: this.clock,
      log: log.child({ module: 'http' }),
      brokerStatus: () =>
        this.broker ? { mode: 'embedded', connected: true } : { mode: 'external', connected: this.subscriber?.isConnected() ?? false },
    });
  }

  async start(): Promise<void> {
    // After the store (opened in the constructor), before the broker delivers messages.
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
    await this.alerting?.start();
    this.reports.runner.start?.();
    await this.http.start();
    this.rollups.start();
    // After the notifiers: a report due while the collector was off is queued now.
    this.reportJob?.start();
    if (this.initialAdminToken) this.announce(firstStartBanner(this.initialAdminToken, this.http.port()));
    this.log.info({ dataDir: this.config.dataDir, broker: this.config.broker.mode }, 'collector started');
  }

  async stop(): Promise<void> {
    await this.reportJob?.stop();
    await this.rollups.stop();
    await this.http.stop();
    await this.reports.runner.stop?.();
    await this.alerting?.stop();
    await this.broker?.stop();
    await this.subscriber?.stop();
    this.outages.stop();
    // No more messages arrive: seal, spool and send what is queued (the rest replays at the next start).
    await this.influx?.stop();
    await this.notify.stop();
    this.store.close();
    this.log.info('collector stopped');
  }
}

/** Shown once, on the terminal only (stdout, not the JSON log): the first admin token. */
export function firstStartBanner(token: string, httpPort: number): string {
  return (
    `\n  Mã quản trị (chỉ hiện một lần) / admin token (shown only once):\n\n    ${token}\n\n` +
    `  Dùng mã này để đăng nhập bảng theo dõi / log in to the board with it: http://localhost:${httpPort}/\n` +
    `  Cất giữ cẩn thận; tạo mã khác bằng / create more with: canh tokens create --name NAME --role read|admin\n\n`
  );
}
