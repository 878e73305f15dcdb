import type { Logger } from 'pino';
import type { Clock } from '../../../common/clock.js';
import type { MetricsRegistry } from '../../../common/metrics-registry.js';
import { agentConfigRoutes } from '../../agentconfig/agent-config-routes.js';
import type { AgentConfigService } from '../../agentconfig/agent-config-service.js';
import type { AgentConfigStore } from '../../agentconfig/agent-config-store.js';
import { agentUpdateRoutes } from '../../agentupdate/agent-update-routes.js';
import type { AgentUpdateService } from '../../agentupdate/agent-update-service.js';
import type { AgentUpdateStore } from '../../agentupdate/agent-update-store.js';
import type { AlertService } from '../../alerting/alert-service.js';
import { notifyTester } from '../../alerting/notify-test.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { CredentialStore } from '../../broker/credentials.js';
import type { CollectorConfig } from '../../config.js';
import { enrollmentRoutes } from '../../enrollment/enrollment-routes.js';
import { EnrollmentService } from '../../enrollment/enrollment-service.js';
import type { EnrollmentStore } from '../../enrollment/enrollment-store.js';
import { pasteCommands } from '../../install/install-scripts.js';
import type { PackageCatalog } from '../../install/package-catalog.js';
import type { NotifyService } from '../../notify/notify-service.js';
import type { OutageTracker } from '../../outage/outage-tracker.js';
import type { OutageReader } from '../../outage/outage-types.js';
import type { SqliteOutageStore } from '../../outage/sqlite-outage-store.js';
import type { ReportService } from '../../report/report-service.js';
import type { SiteDirectory } from '../../sites/site-settings.js';
import { SqliteEventQuery } from '../../store/sqlite-event-query.js';
import type { SqliteHistory } from '../../store/sqlite-history.js';
import type { SqliteDatabase } from '../../store/sqlite-store.js';
import type { Store } from '../../store/store.js';
import type { ApiCore } from './api-core.js';
import type { ApiModule } from './api-module.js';
import { RateLimiter } from './auth/rate-limiter.js';
import type { TokenStore } from './auth/token-store.js';
import type { LastWebChecks } from './last-web-checks.js';
import { alertsRoutes } from './routes/alerts.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { eventsRoutes } from './routes/events.js';
import { freezesRoutes } from './routes/freezes.js';
import { historyRoutes } from './routes/history.js';
import { hostsRoutes, type HostConfigState } from './routes/hosts.js';
import { outageRoutes } from './routes/outages.js';
import { reportsRoutes } from './routes/reports.js';
import { rulesRoutes } from './routes/rules.js';
import { sitesRoutes } from './routes/sites.js';
import { streamRoutes } from './routes/stream.js';
import { tokensRoutes } from './routes/tokens.js';
import type { StreamHub } from './stream-hub.js';

/** The collector's parts the REST API answers from, each built once (collector/collector.ts passes itself). */
export interface CollectorParts {
  readonly config: CollectorConfig;
  readonly db: SqliteDatabase;
  readonly store: Store;
  readonly tokens: TokenStore;
  readonly audit: AuditLog;
  readonly credentials: CredentialStore;
  readonly sites: SiteDirectory;
  readonly history: SqliteHistory;
  readonly stream: StreamHub;
  readonly outageStore: SqliteOutageStore;
  readonly outages: OutageTracker;
  readonly alerting: AlertService | undefined;
  readonly notify: NotifyService;
  readonly reports: ReportService;
  readonly enrollment: EnrollmentStore;
  readonly packages: PackageCatalog;
  readonly agentConfig: AgentConfigService;
  readonly agentUpdate: AgentUpdateService;
  readonly clock: Clock;
  readonly metrics: MetricsRegistry;
}

/** What only the API uses, built by the collector next to it. */
export interface ApiParts {
  api: ApiCore;
  /** The collector's logger (each part logs under its own `module`). */
  log: Logger;
  /** The outage read side (the store, or what CollectorDeps.outages gave instead). */
  outageReader: OutageReader;
  webChecks: LastWebChecks;
  agentConfigStore: AgentConfigStore;
  agentUpdateStore: AgentUpdateStore;
  /** More route families (CollectorDeps.apiModules), mounted after the collector's own read routes. */
  extra: ApiModule[];
}

/** The REST API (docs/api.md): one route family per file, one line each, mounted in this order. */
export function apiModules(c: CollectorParts, a: ApiParts): ApiModule[] {
  const { config, db, store, tokens, sites, outages, clock } = c;
  const { api, agentConfigStore, agentUpdateStore } = a;
  const defaultTimezone = config.siteDefaults.workingHours.timezone;
  // A PC's remote configuration (issue 16): the version published to it and its last report.
  const configStateOf = (site: string, host: string): HostConfigState | null => {
    const published = agentConfigStore.published(site, host);
    const report = agentConfigStore.report(site, host) ?? null;
    return published || report ? { version: published?.version ?? null, report } : null;
  };
  return [
    authRoutes({
      tokens,
      loginLimit: api.rateLimit(api.loginLimiter, 'login'),
      authBan: api.authBan(),
      onLoginFailure: (req) => api.loginFailure(req),
      sessionIdleMs: config.api.sessionIdleHours * 3_600_000,
      // `req.secure`: TLS here, or https as a trusted proxy says (issue 14 item 9).
      secureCookie: (req) => config.api.secureCookie || req.secure,
    }),
    tokensRoutes(tokens),
    enrollment(c, a),
    auditRoutes(c.audit),
    sitesRoutes({
      store,
      sites,
      configuredSites: Object.keys(config.sites),
      outages: a.outageReader,
      stoppedHosts: (site) => outages.stoppedHosts(site),
      webChecks: a.webChecks,
      agentConfig: configStateOf,
    }),
    hostsRoutes({
      store,
      sites,
      stoppedHosts: (site) => outages.stoppedHosts(site),
      agentConfig: configStateOf,
      agentUpdate: (site, host) => {
        const o = agentUpdateStore.offer(site, host);
        const r = agentUpdateStore.report(site, host);
        return o || r
          ? {
              offer: o ? { version: o.version, seq: o.seq, offeredAt: o.offeredAt } : null,
              report: r ? { state: r.state, version: r.version, from: r.from, reason: r.reason, at: r.at } : null,
            }
          : null;
      },
    }),
    freezesRoutes({ store, events: new SqliteEventQuery(db), params: config.diagnosis.freeze }),
    historyRoutes(c.history),
    eventsRoutes(new SqliteEventQuery(db)),
    streamRoutes(c.stream),
    ...a.extra,
    outageRoutes({ outages: c.outageStore, timezone: (site) => (site === undefined ? defaultTimezone : sites.workingHours(site).timezone) }),
    ...(c.alerting ? [alertsRoutes({ alerts: c.alerting.alertStore, lang: config.alerting.lang, notifyTest: notifyTester(c.notify, clock) })] : []),
    reportsRoutes(c.reports, { timezone: defaultTimezone }),
    rulesRoutes({ params: config.alerting.rules }),
    agentConfigRoutes({ store: agentConfigStore, service: c.agentConfig }),
    agentUpdateRoutes({ store: agentUpdateStore, service: c.agentUpdate, hosts: store }),
  ];
}

/** Site enrolment (issue 15): PCs enroll themselves with a one-time token, rate-limited per address. */
function enrollment(c: CollectorParts, a: ApiParts): ApiModule {
  const { config, store, packages } = c;
  const service = new EnrollmentService({
    store: c.enrollment,
    credentials: c.credentials,
    hostKnown: (site, host) => store.getHost(site, host) !== undefined,
    clock: c.clock,
    log: a.log.child({ module: 'enrollment' }),
    metrics: c.metrics,
    pendingRetrySeconds: config.enrollment.pendingRetrySeconds,
  });
  const limiter = new RateLimiter(config.enrollment.perMinute, Math.max(2, Math.ceil(config.enrollment.perMinute / 4)), config.api.rateLimitMaxClients);
  const brokerPort = config.broker.mode === 'embedded' ? config.broker.embedded.port : 1883;
  return enrollmentRoutes({
    service,
    store: c.enrollment,
    limit: a.api.rateLimit(limiter, 'enroll'),
    mqttUrl: (req) => config.enrollment.mqttUrl ?? `mqtt://${requestHostname(req.headers.host) ?? req.socket.localAddress ?? '127.0.0.1'}:${brokerPort}`,
    requireApprovalDefault: config.enrollment.requireApproval,
    commands: async (req, token, site) => {
      const [linux, windows] = await Promise.all([packages.info('linux'), packages.info('windows')]);
      const host = requestHostname(req.headers.host);
      const port = /:(\d+)$/.exec(req.headers.host ?? '')?.[1];
      const collectorUrl = config.enrollment.publicUrl ?? `http://${host ?? req.socket.localAddress ?? '127.0.0.1'}${port ? `:${port}` : ''}`;
      return pasteCommands({ collectorUrl, site, token, linux, windows, updateKey: config.agentUpdate.publicKey });
    },
  });
}

/** The host name of a Host header (`10.0.0.5:8080`, `[fe80::1]:8080`, `may-chu`), when it is a plain one. */
export function requestHostname(header: string | undefined): string | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(?::\d{1,5})?$/.exec(header ?? '');
  return m?.[1];
}
