import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { RateLimitedLog } from '../../common/log.js';
import type { StoredMessage } from '../ingest/ingest.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';
import { NO_STALLS, type CollectorStalls } from './collector-stalls.js';
import type { OutageConfig } from './outage-config.js';
import { emptySite, type IdCounters, type SiteState } from './outage-state.js';
import type { ClosedOutage } from './outage-types.js';
import { afterRestart, applyLiveSample, correlate, isLiveSample, type CorrelatorSettings, type OutageEffect, type OutageInput } from './site-correlator.js';
import type { SqliteOutageStore } from './sqlite-outage-store.js';

export interface OutageTrackerDeps {
  store: SqliteOutageStore;
  config: OutageConfig;
  /** Ingest's clock-skew tolerance (config `ingest.skewToleranceSeconds`), ms. */
  skewToleranceMs: number;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /**
   * The broker runs in the collector's process (embedded): a collector restart ends every
   * agent's broker session, so after one no PC is online until it reconnects.
   */
  sessionsEndWithCollector?: boolean | undefined;
  /** The collector's own stalls (collector/health/stall-watch.ts): its gap is never an outage. Default: none. */
  stalls?: CollectorStalls | undefined;
  /** A host outage closed or a site incident resolved (e.g. the InfluxDB `incident` point). Must not throw. */
  onClosed?: ((closed: ClosedOutage) => void) | undefined;
  /**
   * A host went silent with no Last Will heard (an unconfirmed outage), or is heard with no
   * birth known. Behind an external broker its will or birth may have been dropped on the way
   * (a full queue for the collector): the collector reads that host's retained status again
   * (BrokerSubscriber.readStatus). Must not throw.
   */
  onStatusWanted?: ((site: string, host: string, reason: 'silence' | 'unknown') => void) | undefined;
}

export function correlatorSettings(c: OutageConfig, skewToleranceMs: number): CorrelatorSettings {
  return {
    siteShare: c.siteShare,
    minHosts: c.minHosts,
    windowMs: c.windowSeconds * 1000,
    silenceMs: c.silenceSeconds * 1000,
    silenceIntervals: c.silenceIntervals,
    settleMs: c.settleSeconds * 1000,
    giveUpMs: c.giveUpHours * 3600_000,
    bootToleranceMs: c.bootToleranceSeconds * 1000,
    skewToleranceMs,
  };
}

/**
 * Outage intelligence in the collector (issue 3): feeds the pure site correlator from
 * freshly stored messages (Ingest's onStored hook) and a clock tick, writes its records and
 * per-site state to the outage store, counts and logs what happens. Restart-safe: the state
 * is reloaded at start, so an incident open when the collector stopped stays one incident.
 */
export class OutageTracker {
  private readonly sites = new Map<string, SiteState>();
  private ids: IdCounters = { nextOutageId: 1, nextIncidentId: 1 };
  private readonly dirty = new Set<string>();
  private readonly settings: CorrelatorSettings;
  private timer: TimerHandle | undefined;
  private trackedHosts = 0;
  private readonly hostOpened: Counter;
  private readonly hostClosed: Counter;
  private readonly incidentOpened: Counter;
  private readonly incidentResolved: Counter;
  private readonly untracked: Counter;
  private readonly storeErrors: Counter;
  private readonly collectorGap: Counter;
  private readonly stalls: CollectorStalls;
  private readonly rlog: RateLimitedLog;

  constructor(private readonly deps: OutageTrackerDeps) {
    this.settings = correlatorSettings(deps.config, deps.skewToleranceMs);
    const m = deps.metrics;
    this.hostOpened = m.counter('canh_outage_host_outages_opened_total', 'Host outages opened (host dropped without a clean stop).');
    this.hostClosed = m.counter('canh_outage_host_outages_closed_total', 'Host outages closed, by cause.');
    this.incidentOpened = m.counter('canh_outage_incidents_opened_total', 'Site incidents opened (most hosts of a site dropped together).');
    this.incidentResolved = m.counter('canh_outage_incidents_resolved_total', 'Site incidents resolved, by cause.');
    this.untracked = m.counter('canh_outage_hosts_untracked_total', 'Messages of hosts beyond outage.maxHosts, not tracked.');
    this.collectorGap = m.counter(
      'canh_outage_collector_gap_total',
      "Last Wills, agents' broker-scope cuts and silences not taken as outages (the collector's own stall; a silence ended in the host's broker session with no will), by kind.",
    );
    this.stalls = deps.stalls ?? NO_STALLS;
    this.storeErrors = m.counter('canh_outage_store_errors_total', 'Outage store writes that failed (state kept in memory, retried at the next flush).');
    m.gauge('canh_outage_incidents_open', 'Site incidents open now.', (g) => {
      let n = 0;
      for (const s of this.sites.values()) if (s.incident) n++;
      g.set(n);
    });
    m.gauge('canh_outage_hosts_out', 'Hosts with an open outage now.', (g) => {
      let n = 0;
      for (const s of this.sites.values()) for (const h of Object.values(s.hosts)) if (h.outage && !h.outage.returned) n++;
      g.set(n);
    });
    this.rlog = new RateLimitedLog(deps.log, 10_000, () => deps.clock.now());
  }

  /** Reload the persisted state (mid-incident restarts resume it) and start the tick. */
  start(): void {
    const { ids, sites } = this.deps.store.load();
    this.ids = ids;
    const now = this.deps.clock.now();
    for (const s of sites) {
      const st = afterRestart(s, now, this.deps.sessionsEndWithCollector === true);
      this.sites.set(st.site, st);
      this.trackedHosts += Object.keys(st.hosts).length;
      if (st.incident) this.deps.log.info({ site: st.site, incident: st.incident.id, hostsOut: st.incident.hosts.length }, 'site incident still open from before the restart');
    }
    this.timer = this.deps.clock.setInterval(() => this.tick(), this.deps.config.tickMs);
  }

  stop(): void {
    this.deps.clock.clear(this.timer);
    this.timer = undefined;
    this.flush();
  }

  /** Ingest's onStored hook: must not throw. */
  onStored(msg: StoredMessage): void {
    const input = toInput(msg);
    if (input) this.step(msg.row.site, input);
  }

  /** Current state of a site (read-only; for tests and the board). */
  siteState(site: string): SiteState | undefined {
    return this.sites.get(site);
  }

  /**
   * Hosts of `site` switched off cleanly and not back (issue 13): their agent stopped with
   * SIGTERM / a shutdown. The alert rules and the board treat them as "off", never as out.
   */
  stoppedHosts(site: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const h of Object.values(this.sites.get(site)?.hosts ?? {})) {
      if (h.state === 'offline' && !h.outage && h.stoppedAt != null) out.set(h.host, h.stoppedAt);
    }
    return out;
  }

  tick(): void {
    const now = this.deps.clock.now();
    for (const [site, st] of this.sites) if (needsTick(st, now, this.settings)) this.step(site, { kind: 'tick' });
    this.flush();
  }

  private step(site: string, input: OutageInput): void {
    const prev = this.sites.get(site) ?? emptySite(site);
    if (input.kind === 'sample') {
      // The hot case (correlate's): this tracker owns the state, so no copy of the site.
      const h = prev.hosts[input.host];
      if (h && isLiveSample(h, input)) {
        applyLiveSample(h, input);
        this.dirty.add(site);
        return;
      }
    }
    const before = Object.keys(prev.hosts).length;
    const maxHostsPerSite = this.deps.config.maxHosts - (this.trackedHosts - before);
    const now = this.deps.clock.now();
    const r = correlate(prev, this.ids, input, now, this.settings, { maxHostsPerSite }, this.stalls);
    // A site whose only host is untracked is not kept (the map stays bounded by maxHosts).
    if (Object.keys(r.state.hosts).length || this.sites.has(site)) this.sites.set(site, r.state);
    this.ids = r.ids;
    this.trackedHosts += Object.keys(r.state.hosts).length - before;
    if (r.effects.length === 0 && !r.significant) {
      this.dirty.add(site);
      return;
    }
    if (!this.sites.has(site)) {
      for (const e of r.effects) this.report(site, e);
      return;
    }
    const records = r.effects.filter((e) => e.kind !== 'untracked' && e.kind !== 'collectorGap' && e.kind !== 'noBirth');
    if (records.length || r.significant) {
      try {
        this.deps.store.apply(records, r.state, this.ids);
        this.dirty.delete(site);
      } catch (err) {
        this.storeErrors.inc();
        this.dirty.add(site);
        this.rlog.warn('store', { err: (err as Error).message }, 'outage store write failed; state kept in memory');
      }
    }
    for (const e of r.effects) this.report(site, e);
  }

  private flush(): void {
    if (!this.dirty.size) return;
    const states = [...this.dirty].map((s) => this.sites.get(s)).filter((s): s is SiteState => s !== undefined);
    try {
      this.deps.store.saveSites(states, this.ids);
      this.dirty.clear();
    } catch (err) {
      this.storeErrors.inc();
      this.rlog.warn('store', { err: (err as Error).message }, 'outage state flush failed; retried at the next tick');
    }
  }

  private report(site: string, e: OutageEffect): void {
    const { log } = this.deps;
    switch (e.kind) {
      case 'hostOutage':
        if (e.change === 'opened') {
          this.hostOpened.inc();
          log.info({ site, host: e.outage.host, outage: e.outage.id, start: e.outage.start, detectedBy: e.outage.evidence.detectedBy }, 'host outage opened');
          if (e.outage.evidence.unconfirmed === true) this.statusWanted(site, e.outage.host, 'silence');
        } else if (e.change === 'closed') {
          this.hostClosed.inc({ cause: e.outage.cause });
          log.info({ site, host: e.outage.host, outage: e.outage.id, cause: e.outage.cause, start: e.outage.start, end: e.outage.end }, 'host outage closed');
          this.emit({ scope: 'host', outage: e.outage });
        }
        break;
      case 'incident':
        if (e.change === 'opened') {
          this.incidentOpened.inc();
          log.warn({ site, incident: e.incident.id, hosts: e.incident.hosts, hostsOnlineBefore: e.incident.hostsOnlineBefore, start: e.incident.start }, 'site incident opened');
        } else if (e.change === 'resolved') {
          this.incidentResolved.inc({ cause: e.incident.cause });
          log.warn(
            { site, incident: e.incident.id, cause: e.incident.cause, hosts: e.incident.hosts.length, start: e.incident.start, end: e.incident.end, evidence: e.incident.evidence },
            'site incident resolved',
          );
          this.emit({ scope: 'site', incident: e.incident });
        }
        break;
      case 'discardHostOutage':
        log.info({ site, host: e.host, outage: e.id, reason: e.reason }, 'host outage discarded');
        break;
      case 'discardIncident':
        log.info({ site, incident: e.id, reason: e.reason }, 'site incident discarded');
        break;
      case 'collectorGap':
        this.collectorGap.inc({ kind: e.what });
        if (e.what === 'silence')
          this.rlog.warn(
            'unheard',
            { site, host: e.host, discarded: e.discarded },
            'not an outage: the collector did not hear this PC while its broker session stayed up (messages lost on the way)',
          );
        else log.debug({ site, host: e.host, what: e.what, discarded: e.discarded }, "not an outage: the collector's own stall");
        break;
      case 'noBirth':
        this.statusWanted(site, e.host, 'unknown');
        break;
      case 'untracked':
        this.untracked.inc();
        this.rlog.warn('untracked', { site, maxHosts: this.deps.config.maxHosts }, 'host beyond outage.maxHosts: not tracked for outages');
        break;
    }
  }

  private statusWanted(site: string, host: string, reason: 'silence' | 'unknown'): void {
    try {
      this.deps.onStatusWanted?.(site, host, reason);
    } catch (err) {
      this.rlog.warn('unheard-hook', { err: (err as Error).message }, 'status re-read hook failed');
    }
  }

  private emit(closed: ClosedOutage): void {
    try {
      this.deps.onClosed?.(closed);
    } catch (err) {
      this.rlog.warn('export', { err: (err as Error).message }, 'outage export hook failed');
    }
  }
}

/** Whether a tick can change anything in this site (cheap, so idle sites are not cloned). */
export function needsTick(st: SiteState, now: number, s: CorrelatorSettings): boolean {
  if (st.incident && now - st.incident.start >= s.giveUpMs) return true;
  for (const h of Object.values(st.hosts)) {
    if (h.outage?.returned) return true;
    if (h.state === 'online' && !h.outage && h.lastSeen !== null && now - h.lastSeen > Math.max(s.silenceMs, s.silenceIntervals * h.intervalMs)) return true;
  }
  return false;
}

function toInput(msg: StoredMessage): OutageInput | undefined {
  switch (msg.kind) {
    case 'status': {
      const r = msg.row;
      return {
        kind: 'status',
        host: r.host,
        state: r.state,
        boot: r.boot,
        t: r.t,
        received: r.received,
        osBoot: r.osBoot,
        keepalive: r.keepalive,
        ...(r.retained ? { retained: true } : {}),
      };
    }
    case 'samples': {
      const r = msg.row;
      return { kind: 'sample', host: r.host, boot: r.boot, t: r.t, received: r.received, interval: r.interval };
    }
    case 'events': {
      const r = msg.row;
      return { kind: 'event', host: r.host, boot: r.boot, type: r.type, t: r.t, received: r.received, start: r.start, end: r.end, details: r.details };
    }
    case 'inventory':
      return undefined;
  }
}
