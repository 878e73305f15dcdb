import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { StoredMessage } from '../ingest/ingest.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import type { OutageReader, SiteIncident } from '../outage/outage-types.js';
import { isWorkingTime, workingMs } from '../sites/schedule/working-hours.js';
import type { SiteDirectory } from '../sites/site-settings.js';
import type { HostState, Store } from '../store/store.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';
import { ruleConfigKey, type AlertingConfig } from './alerting-config.js';
import { AlertStore } from './alert-store.js';
import { emptyState, type EngineState, type NotificationSink, type Observation, type Silence } from './alert-types.js';
import { OffPeakBaselines } from './baselines.js';
import { RollupBaselineHistory } from './rollup-baseline-history.js';
import { evaluate, type EngineSettings, type RuleTiming } from './engine.js';
import type { OpenIncidentView } from './inhibition.js';
import { LogNotificationSink } from './log-sink.js';
import { DEFAULT_WINDOW_LIMITS, MetricWindows } from './metric-windows.js';
import { emptyProvinceWaveState, evaluateProvinceWave, type ProvinceWaveSettings, type ProvinceWaveState } from './province-wave.js';
import type { ProvinceSiteCause } from '../notify/province-message.js';
import type { CommonParams, RuleContext, SiteView } from './rules/alert-rule.js';
import { BUILT_IN_RULES } from './rules/registry.js';

/** Bound of the active alert state (pending + firing + resolved not yet settled). */
export const MAX_ACTIVE_ALERTS = 200_000;

/** Bound of the sites remembered as changed between two timed evaluations. */
const MAX_CHANGED_SITES = 100_000;
/**
 * Longest a timed evaluation holds the collector's loop in one turn (ms): a slice of
 * `maxHostsPerEvaluation` hosts is evaluated in chunks sized to this, one per turn. 500 PCs
 * took 88 ms in one go on a slow day of the 2-core machine (13 ms for 100).
 */
export const EVALUATION_TURN_MS = 20;
/** Fewest hosts a chunk aims at (a site larger than a chunk is still evaluated whole). */
const MIN_CHUNK_HOSTS = 10;

export interface AlertServiceDeps {
  config: AlertingConfig;
  db: SqliteDatabase;
  store: Store;
  sites: SiteDirectory;
  clock: Clock;
  log: Logger;
  /** The notifier outbox; default: the log. */
  sink?: NotificationSink | undefined;
  /** Site incidents (outage collector); none when absent. */
  outages?: OutageReader | undefined;
  /** Hosts of a site switched off cleanly, with their stop time (outage collector, issue 13). */
  stoppedHosts?: ((site: string) => ReadonlyMap<string, number>) | undefined;
  metrics?: MetricsRegistry | undefined;
}

/**
 * The alerting service (issue 4): feeds the rules from ingest (onStored), evaluates them
 * on a timer, runs the pure engine and commits its state with the notifications. The
 * working-hours schedule is read with `clock.now() + scheduleOffsetMs`.
 */
export class AlertService {
  readonly alertStore: AlertStore;
  readonly windows: MetricWindows;
  readonly baselines: OffPeakBaselines;
  private state: EngineState = emptyState();
  private timer: TimerHandle | undefined;
  private readonly sink: NotificationSink;
  private readonly log: Logger;
  private failures = 0;
  /** Hosts one chunk of a sliced evaluation reads: adapted to {@link EVALUATION_TURN_MS} from the last chunk's time. */
  private chunkHosts: number;
  /** The rest of the current slice, evaluated one chunk per loop turn; undefined when none is in progress. */
  private chunkTimer: TimerHandle | undefined;
  private chunking = false;
  private countSkipped?: () => void;
  /** Site incidents of the last 8 days per site, refreshed every 30 s (rules ask every tick). */
  private readonly incidentCache = new Map<string, { at: number; list: SiteIncident[] }>();
  /** Open incident ids per site at the last evaluation: a change drops the site's cached list (its cause is news). */
  private openKeys = new Map<string, string>();
  private readonly countNotifications?: (site: string) => void;
  private readonly countErrors?: () => void;
  private readonly countRefused?: (n: number) => void;
  private refusedLogged = 0;
  /** The province digest's wave (issue 12 item 6), persisted with the engine state. */
  private province: ProvinceWaveState = emptyProvinceWaveState();
  private provinceJson = JSON.stringify(emptyProvinceWaveState());
  private readonly countProvinceUntracked?: (n: number) => void;
  /** Seeding of the baselines from history (awaited by stop()). */
  seeding: Promise<void> = Promise.resolve();
  /** The timed evaluations' round over the sites (hosts per site), and where it is. */
  private round: Array<{ site: string; n: number }> = [];
  private roundSize = new Map<string, number>();
  private cursor = 0;
  /** Sites with agents, as of the round's start (the province digest's share). */
  private sitesWithAgents = 0;
  /** Sites a status or event came in for since their last evaluation: evaluated first. */
  private readonly changedSites = new Set<string>();
  /**
   * Sites with a pending alert, by when its `forSeconds` is up: a slice takes them first
   * once due, so the alert fires then and not when the round comes back to the site (40 s
   * at 10,000 PCs): a site met pending at its first evaluation and back within the round
   * was never alerted (10 of 150 sites in a province benchmark's 60-s power cut). At most
   * one entry per site.
   */
  private readonly dueSites = new Map<string, number>();

  constructor(private readonly deps: AlertServiceDeps) {
    this.log = deps.log;
    this.alertStore = new AlertStore(deps.db);
    this.windows = new MetricWindows({ ...DEFAULT_WINDOW_LIMITS, keepMs: windowKeepMs(deps.config.rules) }, deps.log);
    this.baselines = new OffPeakBaselines(undefined, deps.log);
    this.sink = deps.sink ?? new LogNotificationSink(deps.log, deps.config.lang);
    this.chunkHosts = Math.min(100, deps.config.maxHostsPerEvaluation);
    if (deps.metrics) {
      deps.metrics.gauge('canh_alert_evaluation_chunk_hosts', `Hosts a sliced timed evaluation reads per turn of the loop (adapted to ${EVALUATION_TURN_MS} ms).`, (g) =>
        g.set(this.chunkHosts),
      );
      const skipped = deps.metrics.counter('canh_alert_ticks_skipped_total', 'Timed evaluations skipped because the previous slice was still being evaluated (a slow machine).');
      this.countSkipped = () => skipped.inc();
      const sent = deps.metrics.counter('canh_alert_notifications_total', 'Alert notifications handed to the notifier outbox.');
      const errors = deps.metrics.counter('canh_alert_evaluation_errors_total', 'Alert evaluations that failed (retried at the next tick).');
      this.countNotifications = () => sent.inc();
      this.countErrors = () => errors.inc();
      const refused = deps.metrics.counter('canh_alerts_refused_total', 'New alerts refused because the active state is full (bounded).');
      this.countRefused = (n) => refused.inc({}, n);
      deps.metrics.gauge('canh_alert_window_samples', 'Samples held in memory for the alert rules (bounded per host by time and count).', (g) => g.set(this.windows.size()));
      deps.metrics.gauge('canh_alert_window_thinned', 'Samples not added to the alert windows (one within minSpacingMs was there; they are stored).', (g) =>
        g.set(this.windows.thinned),
      );
      const untracked = deps.metrics.counter('canh_province_wave_sites_untracked_total', 'Sites of a province wave beyond its bound (counted in its messages, not tracked).');
      this.countProvinceUntracked = (n) => untracked.inc({}, n);
      deps.metrics.gauge('canh_alerts_firing', 'Alerts firing now.', (g) => g.set(Object.values(this.state.alerts).filter((a) => a.state === 'firing').length));
    }
  }

  /** The clock the working-hours schedule is read with. */
  scheduleNow(now = this.deps.clock.now()): number {
    return now + this.deps.config.scheduleOffsetMs;
  }

  /** Ingest hook: must not throw and must not block. */
  onStored(msg: StoredMessage): void {
    if (msg.kind === 'status' || msg.kind === 'events') {
      // Bounded: past it, the round reaches the rest in turn.
      if (this.changedSites.size < MAX_CHANGED_SITES) this.changedSites.add(msg.row.site);
    }
    const s = this.windows.add(msg);
    if (s && msg.kind === 'samples') {
      const site = msg.row.site;
      if (!isWorkingTime(this.deps.sites.workingHours(site), this.scheduleNow(msg.row.t))) this.baselines.learn(site, s);
    }
  }

  async start(): Promise<void> {
    this.state = this.alertStore.loadState();
    this.province = this.alertStore.loadProvinceState();
    this.provinceJson = JSON.stringify(this.province);
    // Baselines from the stored 1-minute rollups (issue 13 item 5), one site-hour per turn of the loop.
    const started = this.deps.clock.now();
    this.seeding = this.baselines
      .seed(new RollupBaselineHistory(this.deps.db), {
        until: started,
        offPeak: (site, t) => !isWorkingTime(this.deps.sites.workingHours(site), this.scheduleNow(t)),
        pause: () => new Promise((resolve) => setImmediate(resolve)),
        cancelled: () => this.timer === undefined,
      })
      .then(
        (r) => this.log.info({ ...r, ms: this.deps.clock.now() - started }, 'alerting: baselines seeded from history'),
        (err: unknown) => this.log.warn({ err: (err as Error).message }, 'alerting: baselines not seeded; learning from now on'),
      );
    const every = this.deps.config.evaluateSeconds * 1000;
    this.timer = this.deps.clock.setInterval(() => this.tick(), every);
    this.log.info(
      { alerts: Object.keys(this.state.alerts).length, evaluateSeconds: this.deps.config.evaluateSeconds, scheduleOffsetMs: this.deps.config.scheduleOffsetMs || undefined },
      'alerting started',
    );
  }

  async stop(): Promise<void> {
    this.deps.clock.clear(this.timer);
    this.timer = undefined;
    this.deps.clock.clear(this.chunkTimer);
    this.chunkTimer = undefined;
    this.chunking = false;
    await this.seeding;
  }

  /** Current engine state (read-only use). */
  current(): EngineState {
    return this.state;
  }

  private tick(): void {
    if (this.chunking) {
      this.countSkipped?.();
      return;
    }
    let slice: ReadonlySet<string> | undefined;
    try {
      slice = this.nextSlice();
    } catch (err) {
      this.evaluationFailed(err);
      return;
    }
    if (!slice) this.evaluate(undefined);
    else this.evaluateChunks([...slice], 0);
  }

  /** One evaluation (of all sites, or of `only`); errors counted and logged (rate-limited), never thrown. */
  private evaluate(only: ReadonlySet<string> | undefined): void {
    try {
      this.evaluateOnce(this.deps.clock.now(), only);
      this.failures = 0;
    } catch (err) {
      this.evaluationFailed(err);
    }
  }

  private evaluationFailed(err: unknown): void {
    this.countErrors?.();
    if (this.failures++ % 30 === 0) this.log.error({ err: (err as Error).message }, 'alert evaluation failed; retrying at the next tick');
  }

  /**
   * The slice's sites from `from` on, one chunk of about `chunkHosts` hosts per turn of the
   * loop (whole sites), so that no turn holds the loop much past {@link EVALUATION_TURN_MS}
   * whatever the machine's speed; the chunk size follows the time the last one took. The
   * round's length is unchanged: the slice is the same, only spread over a few turns.
   */
  private evaluateChunks(sites: readonly string[], from: number): void {
    const chunk = new Set<string>();
    let hosts = 0;
    let i = from;
    while (i < sites.length && (chunk.size === 0 || hosts + (this.roundSize.get(sites[i]!) ?? 1) <= this.chunkHosts)) {
      hosts += this.roundSize.get(sites[i]!) ?? 1;
      chunk.add(sites[i++]!);
    }
    const t0 = this.deps.clock.monotonic();
    this.evaluate(chunk);
    const ms = this.deps.clock.monotonic() - t0;
    const most = this.deps.config.maxHostsPerEvaluation;
    const next = ms > 0 ? Math.round((hosts * EVALUATION_TURN_MS) / ms) : this.chunkHosts * 2;
    // At most doubled per chunk (one fast chunk is no proof), never below a floor.
    this.chunkHosts = Math.max(Math.min(MIN_CHUNK_HOSTS, most), Math.min(most, this.chunkHosts * 2, next));
    if (i >= sites.length || this.timer === undefined) {
      this.chunking = false;
      this.chunkTimer = undefined;
      return;
    }
    this.chunking = true;
    this.chunkTimer = this.deps.clock.setTimeout(() => this.evaluateChunks(sites, i), 0);
  }

  /**
   * The sites the next timed evaluation reads (`alerting.maxHostsPerEvaluation`): those with
   * news first, then the round's next ones; undefined: all of them (a small deployment).
   */
  private nextSlice(): ReadonlySet<string> | undefined {
    const budget = this.deps.config.maxHostsPerEvaluation;
    if (this.cursor >= this.round.length) {
      this.round = this.siteSizes.all() as Array<{ site: string; n: number }>;
      this.roundSize = new Map(this.round.map((r) => [r.site, r.n]));
      this.cursor = 0;
      this.sitesWithAgents = this.round.length;
      let total = 0;
      for (const r of this.round) total += r.n;
      if (total <= budget) {
        this.cursor = this.round.length; // read the sizes again next tick
        this.changedSites.clear();
        return undefined;
      }
    }
    const size = this.roundSize;
    const slice = new Set<string>();
    let hosts = 0;
    const now = this.deps.clock.now();
    for (const [site, due] of this.dueSites) {
      if (hosts >= budget) break;
      if (due > now) continue;
      this.dueSites.delete(site);
      slice.add(site);
      hosts += size.get(site) ?? 1;
    }
    for (const site of this.changedSites) {
      if (hosts >= budget) break;
      this.changedSites.delete(site);
      if (slice.has(site)) continue;
      slice.add(site);
      hosts += size.get(site) ?? 1;
    }
    while (hosts < budget && this.cursor < this.round.length) {
      const r = this.round[this.cursor++]!;
      if (slice.has(r.site)) continue;
      slice.add(r.site);
      hosts += r.n;
    }
    return slice;
  }

  /** Remember when each pending alert's wait is up (a time still to come: one past is the round's). */
  private notePending(alerts: EngineState['alerts'], timings: Record<string, RuleTiming>, now: number): void {
    for (const a of Object.values(alerts)) {
      if (a.state !== 'pending') continue;
      const due = a.pendingSince + (timings[a.rule]?.forMs ?? 0);
      if (due <= now) continue;
      const had = this.dueSites.get(a.site);
      if (had === undefined || due < had) this.dueSites.set(a.site, due);
    }
  }

  private get siteSizes() {
    return (this.siteSizesStmt ??= this.deps.db.prepare('SELECT site, count(*) AS n FROM hosts GROUP BY site ORDER BY site'));
  }
  private siteSizesStmt: ReturnType<SqliteDatabase['prepare']> | undefined;

  private ruleTimings(): Record<string, RuleTiming> {
    const out: Record<string, RuleTiming> = {};
    const rules = this.deps.config.rules as Record<string, CommonParams>;
    for (const r of BUILT_IN_RULES) {
      const p = rules[ruleConfigKey(r.name)];
      if (!p?.enabled) continue;
      out[r.name] = {
        forMs: p.forSeconds * 1000,
        repeatIntervalMs: p.repeatMinutes !== undefined ? p.repeatMinutes * 60_000 : undefined,
        schedule: p.schedule,
        inhibitedByIncident: p.inhibitedByIncident,
      };
    }
    return out;
  }

  private activeSilences(now: number): Silence[] {
    const fromConfig: Silence[] = this.deps.config.maintenance.map((w, i) => ({
      id: `config-${i + 1}`,
      matchers: { rule: w.rule, site: w.site, host: w.host },
      startsAt: w.startsAt,
      endsAt: w.endsAt,
      author: w.author,
      comment: w.comment,
    }));
    return [...fromConfig, ...this.alertStore.silences({ since: now })];
  }

  private siteIncidents(site: string, now: number): SiteIncident[] {
    const outages = this.deps.outages;
    if (!outages) return [];
    const hit = this.incidentCache.get(site);
    if (hit && now - hit.at < 30_000 && now >= hit.at) return hit.list;
    const list = outages.incidents({ site, from: now - 8 * 86_400_000, to: now, limit: 1000 });
    this.incidentCache.set(site, { at: now, list });
    if (this.incidentCache.size > 100_000) this.incidentCache.delete(this.incidentCache.keys().next().value!);
    return list;
  }

  /** Build the rules' view of every site, or of the sites `only`. */
  private snapshot(now: number, only?: ReadonlySet<string>): { ctx: RuleContext; incidents: OpenIncidentView[]; open: SiteIncident[] } {
    const { sites, outages } = this.deps;
    const schedNow = this.scheduleNow(now);
    const hostsBySite = new Map<string, HostState[]>();
    for (const h of only ? [...only].flatMap((site) => this.deps.store.listHosts(site)) : this.deps.store.listHosts()) {
      const l = hostsBySite.get(h.site);
      if (l) l.push(h);
      else hostsBySite.set(h.site, [h]);
    }
    const open = outages?.openIncidents() ?? [];
    const openKeys = new Map<string, string>();
    for (const i of open) openKeys.set(i.site, `${openKeys.get(i.site) ?? ''}${i.id},`);
    for (const site of new Set([...openKeys.keys(), ...this.openKeys.keys()])) {
      // An incident just resolved: the resolved message must see its cause now, not 30 s later.
      if (openKeys.get(site) !== this.openKeys.get(site)) this.incidentCache.delete(site);
    }
    this.openKeys = openKeys;
    const views: SiteView[] = [...hostsBySite.entries()].map(([site, hosts]) => {
      const s = sites.get(site);
      return {
        site,
        name: s.name,
        lineMbps: s.lineMbps,
        inWorkingHours: isWorkingTime(s.workingHours, schedNow),
        hosts,
        openIncidents: open.filter((i) => i.site === site),
        stopped: this.deps.stoppedHosts?.(site),
      };
    });
    const offset = this.deps.config.scheduleOffsetMs;
    const ctx: RuleContext = {
      now,
      sites: views,
      window: (site, host, from) => this.windows.window(site, host, from),
      lastSample: (site, host, from) => this.windows.lastSample(site, host, from),
      events: (site, host, from) => this.windows.events(site, host, from),
      baseline: (site, series) => this.baselines.get(site, series),
      incidents: (site, from, to) => this.siteIncidents(site, now).filter((i) => i.start <= to && (i.end ?? now) >= from),
      workingMs: (site, from, to) => workingMs(sites.workingHours(site), from + offset, to + offset),
    };
    const incidents: OpenIncidentView[] = open.map((i) => ({ site: i.site, hosts: [...new Set([...i.hosts, ...i.hostsOut])] }));
    // A firing site_offline alert is the site incident as the rules see it: without it
    // (or before the outage collector decides) thirty PCs would each report "offline".
    for (const a of Object.values(this.state.alerts)) {
      if (a.rule === 'site_offline' && a.state === 'firing' && !incidents.some((i) => i.site === a.site)) incidents.push({ site: a.site, hosts: [] });
    }
    return { ctx, incidents, open };
  }

  /**
   * The province digest's step (province-wave.ts) after the engine's: sites down now are
   * those with an open site incident or a firing site_offline alert, since the earliest of
   * their starts. Its state and messages go into the engine's transaction.
   */
  private provinceStep(now: number, alerts: EngineState['alerts'], open: readonly SiteIncident[], sitesWithAgents: number) {
    const p = this.deps.config.provinceDigest;
    if (!p.enabled) return undefined;
    const down = new Map<string, number>();
    const mark = (site: string, since: number) => down.set(site, Math.min(down.get(site) ?? since, since));
    for (const i of open) mark(i.site, i.start);
    for (const a of Object.values(alerts)) if (a.rule === 'site_offline' && a.state === 'firing') mark(a.site, a.activeSince);
    const settings: ProvinceWaveSettings = {
      minSites: p.minSites,
      minShare: p.minShare,
      require: p.require,
      windowMs: p.windowSeconds * 1000,
      waitMs: p.waitSeconds * 1000,
      backShare: p.backShare,
      summaryAfterMs: p.summaryAfterMinutes * 60_000,
      boardUrl: p.boardUrl,
    };
    const cause = (site: string, since: number): ProvinceSiteCause => {
      // The site's incident of this outage: the latest one that started around or after the drop.
      const inc = this.siteIncidents(site, now)
        .filter((i) => i.start >= since - settings.windowMs && i.start <= now)
        .sort((a, b) => b.start - a.start)[0];
      if (!inc) return down.has(site) ? 'pending' : 'unknown';
      return inc.state === 'open' ? 'pending' : inc.cause;
    };
    const r = evaluateProvinceWave(this.province, { down, sitesWithAgents, cause, siteName: (site) => this.deps.sites.get(site).name }, now, settings);
    if (r.overflow) {
      this.countProvinceUntracked?.(r.overflow);
      this.log.warn({ untracked: r.overflow }, 'alerting: province wave holds its bound of sites; more are counted, not tracked');
    }
    const json = JSON.stringify(r.state);
    return { state: r.state, messages: r.messages, json, changed: json !== this.provinceJson || r.messages.length > 0 };
  }

  /**
   * One evaluation at `now` of every site, or of the sites `only` (the timer's slices,
   * {@link nextSlice}); tests call it for all. An alert no observation of a slice mentions
   * stays as it is (the engine resolves only what is stale for `staleMinutes`, far longer
   * than a round).
   */
  evaluateOnce(now = this.deps.clock.now(), only?: ReadonlySet<string>): void {
    this.windows.prune(now);
    const { ctx, incidents, open } = this.snapshot(now, only);
    const rules = this.deps.config.rules as Record<string, CommonParams>;
    const observations: Observation[] = [];
    for (const r of BUILT_IN_RULES) {
      const p = rules[ruleConfigKey(r.name)];
      if (!p?.enabled) continue;
      try {
        observations.push(...r.evaluate(ctx, p));
      } catch (err) {
        this.countErrors?.();
        this.log.error({ rule: r.name, err: (err as Error).message }, 'alert rule failed');
      }
    }
    const c = this.deps.config;
    const settings: EngineSettings = {
      groupWaitMs: c.groupWaitSeconds * 1000,
      groupIntervalMs: c.groupIntervalSeconds * 1000,
      resolvedIntervalMs: c.resolvedIntervalSeconds * 1000,
      repeatIntervalMs: c.repeatMinutes * 60_000,
      flapWindowMs: c.flapWindowMinutes * 60_000,
      flapThreshold: c.flapThreshold,
      staleAfterMs: c.staleMinutes * 60_000,
      maxAlerts: MAX_ACTIVE_ALERTS,
    };
    const viewBySite = new Map(ctx.sites.map((s) => [s.site, s]));
    const schedNow = this.scheduleNow(now);
    const timings = this.ruleTimings();
    const result = evaluate(
      this.state,
      {
        observations,
        rules: timings,
        silences: this.activeSilences(now),
        openIncidents: incidents,
        inWorkingHours: (site) => viewBySite.get(site)?.inWorkingHours ?? isWorkingTime(this.deps.sites.workingHours(site), schedNow),
        siteName: (site) => this.deps.sites.get(site).name,
        settings,
      },
      now,
    );
    if (result.refused) {
      this.countRefused?.(result.refused);
      if (this.refusedLogged++ % 100 === 0) this.log.warn({ refused: result.refused, maxAlerts: MAX_ACTIVE_ALERTS }, 'alerting: too many active alerts; new ones refused');
    }
    const province = this.provinceStep(now, result.state.alerts, open, only ? Math.max(this.sitesWithAgents, ctx.sites.length) : ctx.sites.length);
    this.alertStore.commit(result, this.sink, province?.changed ? province : undefined);
    this.state = result.state;
    if (only) this.notePending(result.state.alerts, timings, now);
    if (province) {
      this.province = province.state;
      this.provinceJson = province.json;
      for (const d of province.messages) {
        this.log.info({ notification: d.id, phase: d.phase, sitesInWave: d.sitesInWave, sitesTotal: d.sitesTotal, sitesBack: d.sitesBack }, 'province digest queued');
      }
    }
    for (const n of result.notifications) {
      this.countNotifications?.(n.site);
      this.log.info({ notification: n.id, site: n.site, kind: n.kind, firing: n.firing.length, resolved: n.resolved.length }, 'alert notification queued');
    }
    for (const a of result.changed) {
      if (a.state === 'firing' && a.startsAt === now) this.log.info({ alert: a.id, rule: a.rule, site: a.site, host: a.host, value: a.value }, 'alert firing');
      if (a.state === 'resolved' && a.endsAt === now && a.startsAt !== null) this.log.info({ alert: a.id, rule: a.rule, site: a.site, host: a.host }, 'alert resolved');
    }
  }
}

/**
 * How long the metric windows keep samples: the longest `windowSeconds` of the rules (the
 * latest sample of each host is kept apart, for the rules that only need that), plus a
 * minute. At province scale this, not a fixed 30 min, bounds the collector's memory.
 */
export function windowKeepMs(rules: Record<string, unknown>): number {
  let longest = 600;
  for (const p of Object.values(rules)) {
    const w = (p as { windowSeconds?: unknown } | undefined)?.windowSeconds;
    if (typeof w === 'number' && w > longest) longest = w;
  }
  return (longest + 60) * 1000;
}
