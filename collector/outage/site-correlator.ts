import { correctSkew } from '../../contract/decode.js';
import { NO_STALLS, stallGraceMs, type CollectorStalls } from './collector-stalls.js';
import { decideHostOutage, type HostDecision } from './host-verdict.js';
import type { ClosedOutage, HostVerdict, IdCounters, IncidentState, OpenOutage, SiteState, TrackedHost } from './outage-state.js';
import type { HostOutage, IncidentCause, SiteIncident } from './outage-types.js';

/**
 * Site correlation (issue 3), a pure function of (state, input, now): host liveness from
 * birth / Last Will / silence, per-host outages, and one site incident when most online
 * hosts of a site drop within a short window, classified when they return.
 *
 * One file on purpose (over ~400 lines): one step is one `SiteRun` over one cloned site
 * state, whose transitions (stalls, outages, incidents, records) call each other within
 * the step; the state types, the per-host verdict and the stall port live apart
 * (outage-state.ts, host-verdict.ts, collector-stalls.ts).
 */

export interface CorrelatorSettings {
  siteShare: number;
  minHosts: number;
  windowMs: number;
  silenceMs: number;
  silenceIntervals: number;
  settleMs: number;
  giveUpMs: number;
  bootToleranceMs: number;
  /** Ingest's clock-skew tolerance: beyond it an agent time is shifted by the skew (contract/decode.ts correctSkew). */
  skewToleranceMs: number;
}

/** What the correlator is fed (from freshly stored messages, and a clock tick). */
export type OutageInput =
  | {
      kind: 'status';
      host: string;
      state: 'online' | 'offline';
      boot: string;
      t: number;
      received: number;
      osBoot?: number | undefined;
      keepalive?: number | undefined;
      /** A retained message the broker handed over at a subscription: read late, its receive time measures nothing. */
      retained?: boolean | undefined;
    }
  | { kind: 'sample'; host: string; boot: string; t: number; received: number; interval: number }
  | {
      kind: 'event';
      host: string;
      boot: string;
      type: string;
      t: number;
      received: number;
      start?: number | undefined;
      end?: number | undefined;
      details?: Record<string, unknown> | undefined;
    }
  | { kind: 'tick' };

/** Records to write (upserts by id) and what happened, for logs, metrics and exports. */
export type OutageEffect =
  | { kind: 'hostOutage'; change: 'opened' | 'updated' | 'closed' | 'amended'; outage: HostOutage }
  | { kind: 'discardHostOutage'; id: number; host: string; reason: string }
  | { kind: 'incident'; change: 'opened' | 'updated' | 'resolved' | 'amended'; incident: SiteIncident }
  | { kind: 'discardIncident'; id: number; reason: string }
  | { kind: 'untracked'; host: string }
  /** A host heard with no birth known (none at all, or none of the new boot it is back in): its birth may have been dropped on the way (read its status again). */
  | { kind: 'noBirth'; host: string }
  /**
   * A Last Will or broker-scope cut that was the collector's own stall, or a silence no will
   * confirmed and ended in the host's session (messages lost on the way): not the host's drop.
   */
  | { kind: 'collectorGap'; host: string; what: 'will' | 'network_cut' | 'silence'; discarded?: number | undefined };

export interface CorrelatorResult {
  state: SiteState;
  ids: IdCounters;
  effects: OutageEffect[];
  /** False when nothing worth persisting at once changed (a sample of an online host). */
  significant: boolean;
}

export interface CorrelatorLimits {
  /** Hosts tracked in this site; more are ignored and reported as `untracked`. */
  maxHostsPerSite: number;
}

const DEFAULT_KEEPALIVE_MS = 10_000;
const DEFAULT_INTERVAL_MS = 15_000;

export function correlate(
  prev: SiteState,
  prevIds: IdCounters,
  input: OutageInput,
  now: number,
  s: CorrelatorSettings,
  limits: CorrelatorLimits = { maxHostsPerSite: 100_000 },
  /** The collector's own stalls (issue 12 item 5): what it missed then is its gap, not an outage. */
  stalls: CollectorStalls = NO_STALLS,
): CorrelatorResult {
  // Hot path: a live sample of an online host with nothing open touches two fields.
  if (input.kind === 'sample') {
    const h = prev.hosts[input.host];
    if (h && isLiveSample(h, input)) {
      const next: TrackedHost = { ...h };
      applyLiveSample(next, input);
      return { state: { ...prev, hosts: { ...prev.hosts, [input.host]: next } }, ids: prevIds, effects: [], significant: false };
    }
  }
  const st = structuredClone(prev);
  const ids = { ...prevIds };
  const fx: OutageEffect[] = [];
  const c = new SiteRun(st, ids, fx, now, s, stalls);
  if (input.kind === 'tick') c.tick();
  else {
    let h = st.hosts[input.host];
    if (!h) {
      if (Object.keys(st.hosts).length >= limits.maxHostsPerSite) {
        return { state: prev, ids: prevIds, effects: [{ kind: 'untracked', host: input.host }], significant: false };
      }
      h = st.hosts[input.host] = newHost(input.host);
    }
    if (input.kind === 'status') c.status(h, input);
    else if (input.kind === 'sample') c.sample(h, input);
    else c.event(h, input);
    c.tick();
  }
  return { state: st, ids, effects: fx, significant: true };
}

type SampleInput = Extract<OutageInput, { kind: 'sample' }>;

/**
 * The hot case of {@link correlate}: a sample of an online host, same boot, nothing open.
 * Its only effect is {@link applyLiveSample} (no record, nothing significant), so the
 * tracker, which owns its site states, applies it in place instead of copying the site's
 * host table for every sample (the most frequent input by far).
 */
export function isLiveSample(h: TrackedHost, input: SampleInput): boolean {
  return h.state === 'online' && !h.outage && h.boot === input.boot;
}

/** What a live sample changes: when the host was last heard, and its sampling interval. */
export function applyLiveSample(h: TrackedHost, input: SampleInput): void {
  h.lastSeen = Math.max(h.lastSeen ?? 0, input.received);
  h.intervalMs = input.interval * 1000;
}

function newHost(host: string): TrackedHost {
  return {
    host,
    state: 'unknown',
    boot: null,
    osBoot: null,
    birthT: null,
    lastSeen: null,
    keepaliveMs: DEFAULT_KEEPALIVE_MS,
    intervalMs: DEFAULT_INTERVAL_MS,
    outage: null,
    lastClosed: null,
  };
}

/** One correlator step over a cloned site state (mutated in place, returned by `correlate`). */
class SiteRun {
  constructor(
    private readonly st: SiteState,
    private readonly ids: IdCounters,
    private readonly fx: OutageEffect[],
    private readonly now: number,
    private readonly s: CorrelatorSettings,
    private readonly stalls: CollectorStalls,
  ) {}

  // ---- the collector's own stalls (issue 12 item 5) ----

  /** How long after a stall its effects still arrive: 1.5 × the site's longest keepalive + a few seconds. */
  private graceMs(): number {
    let ka = 0;
    for (const h of Object.values(this.st.hosts)) ka = Math.max(ka, h.keepaliveMs);
    return stallGraceMs(ka || DEFAULT_KEEPALIVE_MS);
  }

  /** The collector is stalled now, or resumed less than the grace ago. */
  private inCollectorGap(): boolean {
    return this.stalls.inStall(this.now) || this.stalls.overlaps(this.now, this.now, this.graceMs());
  }

  status(h: TrackedHost, m: Extract<OutageInput, { kind: 'status' }>): void {
    if (m.keepalive) h.keepaliveMs = m.keepalive * 1000;
    if (m.state === 'online') {
      // The birth we know already, sent again by the broker (retained: a collector restart or
      // a re-read of its status, BrokerSubscriber.readStatus): no news, and no return.
      if (h.boot === m.boot && h.birthT !== null && m.t === h.birthT) return;
      // A birth is published at connect, so `sent` ≈ `t`: its skew is the agent clock's offset
      // (not for a retained one read at a subscription: ingest's time is all there is).
      const skew = m.retained ? { skewMs: 0, corrected: false } : correctSkew(m.t, m.t, m.received, this.s.skewToleranceMs);
      const shift = skew.corrected ? skew.skewMs : 0;
      const osBoot = m.osBoot === undefined ? null : m.osBoot + shift;
      const o = h.outage;
      if (!o && h.state === 'online' && h.boot !== null && h.boot !== m.boot) {
        // A new agent boot while we still held the old session online: the drop was missed
        // (e.g. the Last Will never came). Open and return at once; evidence decides.
        this.openOutage(h, h.lastSeen ?? m.received, 'birth', Math.max(h.intervalMs, m.received - (h.lastSeen ?? m.received)));
      }
      const out = h.outage;
      if (out && !out.returned) {
        const newAgentBoot = out.boot !== null && out.boot !== m.boot;
        const tol = this.s.bootToleranceMs;
        const newOsBoot = osBoot !== null && ((out.osBoot !== null && osBoot > out.osBoot + tol) || (out.osBoot === null && osBoot >= out.start - tol));
        out.returned = { at: m.received, boot: m.boot, osBoot, newAgentBoot, newOsBoot, skewMs: skew.skewMs };
      }
      // Remember the previous session's birth of this boot (its wills are stale from now on).
      if (h.boot !== m.boot) h.prevBirthT = null;
      else if (h.birthT !== null && m.t > h.birthT) h.prevBirthT = h.birthT;
      h.state = 'online';
      h.stoppedAt = null;
      h.stopping = false;
      h.willInGapAt = null;
      h.boot = m.boot;
      h.osBoot = osBoot ?? h.osBoot;
      h.birthT = m.t;
      h.lastSeen = Math.max(h.lastSeen ?? 0, m.received);
      if (h.outage) this.tryClose(h);
      return;
    }
    // Offline. A Last Will carries its session's connect time, never later than that
    // session's birth; a clean stop carries the stop time, later than the birth.
    // A will of an older session arriving after the new session's birth (broker takeover) is
    // stale: of another boot and older, or of this boot and from before the previous birth.
    if (h.boot !== null && h.boot !== m.boot && h.birthT !== null && m.t < h.birthT) return;
    if (h.boot === m.boot && h.prevBirthT != null && m.t <= h.prevBirthT) return;
    const isWill = h.birthT === null || h.boot !== m.boot || m.t <= h.birthT;
    if (h.outage && !h.outage.returned) {
      if (!h.outage.unconfirmed) return; // already out
      if (isWill) {
        // The will of a host taken as silent: it did drop (unless the collector stood still:
        // then it is remembered, and confirms the outage once the gap is over and no birth
        // said the host was back, tick()).
        if (!this.inCollectorGap()) this.confirm(h, h.outage);
        else h.willInGapAt = m.received;
        return;
      }
      // A clean stop after a silence no will confirmed: the PC was up and sending.
      this.discardUnheard(h);
    }
    // A will right after the agent said `agent_stop` (its "offline" was lost): still a clean stop.
    if (!isWill || (h.stopping && h.boot === m.boot && h.state === 'online')) {
      h.state = 'offline';
      h.stoppedAt = m.received;
      h.stopping = false;
      return; // planned stop of the agent / PC shutdown: not an outage
    }
    if (h.state !== 'online' && h.outage === null && h.lastSeen === null) {
      h.state = 'offline';
      return; // a retained will of a host we never saw online
    }
    if (this.inCollectorGap()) {
      // The broker fired this will because the collector (and its broker) stood still, not
      // because the host dropped: keep the host as it was. If it really dropped, it stays
      // silent after the stall and the silence check (which skips stalled time) opens it.
      this.fx.push({ kind: 'collectorGap', host: h.host, what: 'will' });
      h.willInGapAt = m.received;
      return;
    }
    if (h.outage?.returned) this.forceClose(h); // dropped again before its evidence settled
    // The broker fires the will 1.5 × keepalive after the last packet: the drop is between
    // the last message we received and then.
    const lastHeard = h.lastSeen ?? m.received - 1.5 * h.keepaliveMs;
    const start = Math.min(lastHeard, m.received);
    this.openOutage(h, start, 'will', Math.max(0, Math.min(m.received - start, h.intervalMs)));
  }

  /**
   * A host taken as silent speaks again in the same boot: it is back. It kept its broker
   * session, so no birth comes to say so (before this, such an outage stayed open until the
   * agent happened to reconnect: a PC shown out for days while its samples were stored).
   */
  private heardAgain(h: TrackedHost, boot: string, received: number, t: number): void {
    const o = h.outage;
    if (!o || o.returned || o.detectedBy !== 'silence' || o.boot !== boot || received <= o.detectedAt) return;
    // Made now, not an old message a broker queue held back (a dead host's last words).
    if (t < received - Math.max(2 * h.intervalMs, 30_000)) return;
    if (o.unconfirmed) {
      // Never out: its session stayed up and no will came; the collector did not hear it.
      this.discardUnheard(h);
      h.state = 'online';
      h.lastSeen = Math.max(h.lastSeen ?? 0, received);
      return;
    }
    o.returned = { at: received, boot, osBoot: h.osBoot, newAgentBoot: false, newOsBoot: false, skewMs: 0, sameSession: true };
    h.state = 'online';
    h.lastSeen = Math.max(h.lastSeen ?? 0, received);
  }

  sample(h: TrackedHost, m: Extract<OutageInput, { kind: 'sample' }>): void {
    h.intervalMs = m.interval * 1000;
    this.heardAgain(h, m.boot, m.received, m.t);
    const o = h.outage;
    if (o && o.boot === m.boot) {
      const until = o.returned?.at ?? Infinity;
      if (m.t > o.start && m.t < until) o.gapSamples++;
      if (o.returned && m.t >= o.returned.at - 2 * o.intervalMs) o.caughtUp = true;
      if (o.returned && !o.returned.newAgentBoot) h.lastSeen = Math.max(h.lastSeen ?? 0, m.received);
    } else if (!o && h.boot === m.boot) {
      // Heard in the boot it was online in before the broker restarted with the collector.
      if (h.state === 'unknown') h.state = 'online';
      h.lastSeen = Math.max(h.lastSeen ?? 0, m.received);
    } else if (!o && h.state === 'unknown' && h.boot === null) {
      // Samples before any birth we saw (e.g. a collector installed behind a running
      // broker, or a birth the broker dropped): the host is evidently online in this boot.
      h.state = 'online';
      h.boot = m.boot;
      h.lastSeen = m.received;
      this.fx.push({ kind: 'noBirth', host: h.host });
    }
    this.newBootUnborn(h, m.boot);
    if (o?.returned) this.tryClose(h);
  }

  /**
   * A host out, heard from a new agent boot whose birth never came: the birth (it carries the
   * OS boot time the verdict needs) was dropped on the way. Ask for its retained status: at a
   * province's power cut 2,000 of 3,000 PCs were back and sending, their outages open for good.
   */
  private newBootUnborn(h: TrackedHost, boot: string): void {
    const o = h.outage;
    if (o && !o.returned && o.boot !== null && o.boot !== boot && h.boot !== boot) this.fx.push({ kind: 'noBirth', host: h.host });
  }

  event(h: TrackedHost, m: Extract<OutageInput, { kind: 'event' }>): void {
    this.heardAgain(h, m.boot, m.received, m.t);
    this.newBootUnborn(h, m.boot);
    const d = m.details ?? {};
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const o = h.outage;
    switch (m.type) {
      case 'outage': {
        const ev = {
          cause: typeof d.cause === 'string' ? d.cause : 'unknown',
          scope: typeof d.scope === 'string' ? d.scope : 'unknown',
          start: m.start ?? null,
          end: m.end ?? null,
          uncertaintyMs: num(d.uncertaintyMs),
        };
        if (o && this.overlaps(o.start, o.returned?.at ?? this.now, ev.start, ev.end)) {
          o.outageEvent = ev;
        } else if (!this.amendClosed(h, ev)) {
          // The drop was never seen live (collector down, will lost): record it from the event.
          if (ev.start !== null && ev.end !== null) this.recordFromEvent(h, ev);
        }
        break;
      }
      case 'agent_stop':
        if (!o && h.state === 'online' && h.boot === m.boot) h.stopping = true;
        break;
      case 'planned_shutdown':
        if (o && (m.end === undefined || m.end >= o.start - this.s.windowMs)) o.planned = true;
        break;
      case 'sleep':
        if (o && (m.end === undefined || m.end >= o.start - this.s.windowMs)) o.slept = true;
        break;
      case 'freeze':
        if (o && m.start !== undefined && m.end !== undefined) o.freeze = { start: m.start, end: m.end };
        break;
      case 'network_cut':
        this.networkCut(h, { scope: typeof d.scope === 'string' ? d.scope : 'unknown', start: m.start ?? null, end: m.end ?? null });
        break;
      default:
        break;
    }
    if (h.outage?.returned) this.tryClose(h);
  }

  tick(): void {
    for (const h of Object.values(this.st.hosts)) {
      if (h.state === 'online' && !h.outage && h.lastSeen !== null) {
        const silence = Math.max(this.s.silenceMs, this.s.silenceIntervals * h.intervalMs);
        if (this.now - h.lastSeen > silence && !this.silenceIsCollectorGap(h.lastSeen, silence)) {
          h.state = 'offline';
          // Unconfirmed unless the broker did report it gone (a will that fell in a collector gap).
          const willSeen = h.willInGapAt != null && h.willInGapAt >= h.lastSeen;
          this.openOutage(h, h.lastSeen, 'silence', h.intervalMs, !willSeen);
        }
      }
      const o = h.outage;
      if (o?.unconfirmed && !o.returned && h.willInGapAt != null && h.willInGapAt >= (h.lastSeen ?? 0) && !this.inCollectorGap()) {
        // A will that fell in a collector gap, for a host taken as silent: the gap is over,
        // no birth came since (a birth resets willInGapAt), so the drop was real.
        h.willInGapAt = null;
        this.confirm(h, o);
      }
      if (h.outage?.returned) this.tryClose(h);
    }
    const inc = this.st.incident;
    if (inc && this.now - inc.start >= this.s.giveUpMs) {
      const out = inc.hosts.filter((x) => !inc.results[x] && !inc.gaveUp.includes(x));
      if (out.length) {
        inc.gaveUp.push(...out);
        this.resolveIfDone();
      }
    }
  }

  /**
   * A silence is counted in the collector's listening time only: time it stood still, its
   * ingest was saturated (the broker held or dropped the agents' messages for it, as in the
   * replay of a province's backlog after a restart) or its link to the external broker was
   * down, and the grace after, are its own gap. While a stall is not recorded yet (the tick
   * that notices it has not run) or the collector is deaf, nothing is taken as silent.
   */
  private silenceIsCollectorGap(lastSeen: number, silenceMs: number): boolean {
    if (this.stalls.inStall(this.now) || this.stalls.deafNow(this.now)) return true;
    // Double counting a stall inside a deaf episode only delays a silence: the safe side.
    const deaf = this.stalls.stalledMs(lastSeen, this.now) + this.stalls.deafMs(lastSeen, this.now);
    if (deaf <= 0) return false;
    return this.now - lastSeen - deaf - this.graceMs() <= silenceMs;
  }

  /**
   * An agent's `network_cut` event. With `scope: 'broker'` (gateway and internet answered,
   * only the collector did not) or `unknown` (no probe round finished: no evidence against
   * the network either), lying within a collector stall (± grace), it is the collector's
   * gap: stored as an event, never an outage, and an outage opened for it (a will or silence
   * of the stall) is discarded. A `lan`/`wan` cut (the agent saw its gateway or the internet
   * fail) or one reaching beyond the stall is the host's evidence; one that
   * overlaps a stall without an open outage (its will fell in the stall) is recorded from the
   * event, so a real cut is not lost because the collector stalled during it.
   */
  private networkCut(h: TrackedHost, cut: NonNullable<OpenOutage['networkCut']>): void {
    const o = h.outage;
    const grace = this.graceMs();
    const start = cut.start ?? cut.end;
    const end = cut.end ?? cut.start;
    const ours = (cut.scope === 'broker' || cut.scope === 'unknown') && start !== null && end !== null && this.stalls.covers(start, end, grace);
    if (ours) {
      if (o && o.detectedBy !== 'birth' && !o.returned?.newAgentBoot && this.stalls.overlaps(o.start, o.detectedAt, grace)) {
        this.fx.push({ kind: 'collectorGap', host: h.host, what: 'network_cut', discarded: o.id });
        this.discard(h, "the collector's own stall (the agent's broker-scope cut lies within it)");
      } else {
        this.fx.push({ kind: 'collectorGap', host: h.host, what: 'network_cut' });
      }
      return;
    }
    if (o) {
      o.networkCut = cut;
      return;
    }
    if (start === null || end === null || end <= start || !this.stalls.overlaps(start, end, grace)) return;
    const c = h.lastClosed;
    if (c && c.end >= start - this.s.windowMs && c.start <= end + this.s.windowMs) return; // already on record
    this.recordNetworkFromEvent(h, { ...cut, start, end });
  }

  private recordNetworkFromEvent(h: TrackedHost, cut: { scope: string; start: number; end: number }): void {
    const closed: ClosedOutage = {
      id: this.ids.nextOutageId++,
      start: cut.start,
      end: cut.end,
      cause: 'network',
      incidentId: null,
      uncertaintyMs: h.intervalMs,
      evidence: { detectedBy: 'event', event: 'network_cut', scope: cut.scope, note: 'drop not seen live (the collector stalled during it)' },
      verdict: 'network',
    };
    h.lastClosed = closed;
    this.fx.push({ kind: 'hostOutage', change: 'closed', outage: this.closedRecord(h.host, closed) });
    this.correlateLate(h);
  }

  // ---- outages ----

  private openOutage(h: TrackedHost, start: number, detectedBy: OpenOutage['detectedBy'], uncertaintyMs: number, unconfirmed = false): void {
    const o: OpenOutage = {
      id: this.ids.nextOutageId++,
      start,
      detectedBy,
      detectedAt: this.now,
      uncertaintyMs,
      boot: h.boot,
      osBoot: h.osBoot,
      intervalMs: h.intervalMs,
      incidentId: null,
      returned: null,
      outageEvent: null,
      freeze: null,
      networkCut: null,
      planned: false,
      gapSamples: 0,
      caughtUp: false,
      ...(unconfirmed ? { unconfirmed: true } : {}),
    };
    h.outage = o;
    if (detectedBy !== 'birth') h.state = 'offline';
    this.fx.push({ kind: 'hostOutage', change: 'opened', outage: this.openRecord(h, o) });
    this.correlateDrop(h, o);
  }

  /** The will of a host taken as silent came: a drop after all, correlated with its site from its start. */
  private confirm(h: TrackedHost, o: OpenOutage): void {
    o.unconfirmed = false;
    this.fx.push({ kind: 'hostOutage', change: 'updated', outage: this.openRecord(h, o) });
    this.correlateDrop(h, o);
  }

  /** A silence no will confirmed, and the host heard again in its session: the collector's gap, not an outage. */
  private discardUnheard(h: TrackedHost): void {
    const o = h.outage!;
    this.fx.push({ kind: 'collectorGap', host: h.host, what: 'silence', discarded: o.id });
    this.discard(h, 'the collector did not hear this PC while its broker session stayed up (no Last Will): its messages were lost on the way, not its power or network');
  }

  private tryClose(h: TrackedHost): void {
    const o = h.outage!;
    if (o.planned || o.slept) {
      this.discard(h, o.planned ? 'planned shutdown or reboot reported by the agent' : 'the PC slept (reported by the agent)');
      return;
    }
    const d = decideHostOutage(o, this.now, this.s.settleMs);
    if (d) this.close(h, d);
  }

  /** A returned host drops again before its evidence settled: decide with what is there. */
  private forceClose(h: TrackedHost): void {
    const d = decideHostOutage(h.outage!, Infinity, 0);
    if (d) this.close(h, d);
    else h.outage = null;
  }

  private close(h: TrackedHost, d: HostDecision): void {
    const o = h.outage!;
    h.outage = null;
    const closed: ClosedOutage = {
      id: o.id,
      start: d.start,
      end: d.end,
      cause: d.cause,
      incidentId: o.incidentId,
      uncertaintyMs: d.uncertaintyMs,
      evidence: d.evidence,
      verdict: d.verdict,
    };
    h.lastClosed = closed;
    this.fx.push({ kind: 'hostOutage', change: 'closed', outage: this.closedRecord(h.host, closed) });
    const inc = this.st.incident;
    if (inc && o.incidentId === inc.id) {
      inc.results[h.host] = { cause: d.cause, verdict: d.verdict, start: d.start, end: d.end, uncertaintyMs: d.uncertaintyMs };
      this.resolveIfDone();
    } else if (o.incidentId === null) {
      this.correlateLate(h);
    }
  }

  /**
   * Drops the collector never saw live (it was down itself, e.g. in the same power cut, or
   * the wills were lost) still make one site incident, from the returning hosts' reports:
   * outages found at their return (a new boot) or from their outage events, within the window.
   */
  private correlateLate(h: TrackedHost): void {
    const c = h.lastClosed!;
    const w = this.s.windowMs;
    const late = (x: ClosedOutage | null): x is ClosedOutage =>
      x !== null &&
      x.incidentId === null &&
      (x.evidence.detectedBy === 'birth' || x.evidence.detectedBy === 'event' || x.evidence.unconfirmed === true) &&
      (x.verdict === 'power' || x.verdict === 'network') &&
      Math.abs(x.start - c.start) <= w;
    if (!late(c)) return;
    const li = this.st.lastIncident;
    if (li?.late && Math.abs(li.start - c.start) <= w && !li.hosts.includes(h.host)) {
      li.hosts.push(h.host);
      li.starts[h.host] = c.start;
      li.results[h.host] = { cause: c.cause, verdict: c.verdict!, start: c.start, end: c.end, uncertaintyMs: c.uncertaintyMs };
      li.hostsOnlineBefore = Math.max(li.hostsOnlineBefore, li.hosts.length);
      c.incidentId = li.id;
      this.summarise(li);
      this.fx.push({ kind: 'hostOutage', change: 'amended', outage: this.closedRecord(h.host, c) });
      this.fx.push({ kind: 'incident', change: 'amended', incident: this.incidentRecord(li) });
      return;
    }
    if (this.st.incident) return; // a live incident is open: it is the one that counts
    const group = Object.values(this.st.hosts).filter((x) => late(x.lastClosed));
    const before = Math.max(group.length, Object.values(this.st.hosts).filter((x) => x.state === 'online' || x.outage).length);
    if (group.length < this.s.minHosts || group.length / before < this.s.siteShare) return;
    const inc: IncidentState = {
      id: this.ids.nextIncidentId++,
      start: Math.min(...group.map((x) => x.lastClosed!.start)),
      openedAt: this.now,
      hosts: group.map((x) => x.host).sort(),
      starts: Object.fromEntries(group.map((x) => [x.host, x.lastClosed!.start])),
      hostsOnlineBefore: before,
      results: Object.fromEntries(
        group.map((x) => {
          const l = x.lastClosed!;
          return [x.host, { cause: l.cause, verdict: l.verdict!, start: l.start, end: l.end, uncertaintyMs: l.uncertaintyMs }];
        }),
      ),
      gaveUp: [],
      cause: 'unknown',
      end: null,
      resolvedAt: this.now,
      uncertaintyMs: Math.max(...group.map((x) => x.lastClosed!.uncertaintyMs)),
      late: true,
    };
    this.summarise(inc);
    this.st.lastIncident = inc;
    this.fx.push({ kind: 'incident', change: 'opened', incident: this.incidentRecord(inc) });
    for (const x of group) {
      x.lastClosed!.incidentId = inc.id;
      this.fx.push({ kind: 'hostOutage', change: 'amended', outage: this.closedRecord(x.host, x.lastClosed!) });
    }
    this.fx.push({ kind: 'incident', change: 'resolved', incident: this.incidentRecord(inc) });
  }

  private discard(h: TrackedHost, reason: string): void {
    const o = h.outage!;
    h.outage = null;
    this.fx.push({ kind: 'discardHostOutage', id: o.id, host: h.host, reason });
    const inc = this.st.incident;
    if (inc && o.incidentId === inc.id) {
      inc.hosts = inc.hosts.filter((x) => x !== h.host);
      if (inc.hosts.length < this.s.minHosts) {
        // Not a site incident after all (e.g. the office shut its PCs down): release the rest.
        for (const x of inc.hosts) {
          const other = this.st.hosts[x];
          if (other?.outage?.incidentId === inc.id) other.outage.incidentId = null;
          if (other?.lastClosed?.incidentId === inc.id) other.lastClosed.incidentId = null;
        }
        this.st.incident = null;
        this.fx.push({ kind: 'discardIncident', id: inc.id, reason });
      } else {
        this.resolveIfDone();
      }
    }
  }

  /** Late evidence for an outage already decided (e.g. the outage event after the settle time). */
  private amendClosed(h: TrackedHost, ev: NonNullable<OpenOutage['outageEvent']>): boolean {
    const c = h.lastClosed;
    if (!c || !this.overlaps(c.start, c.end, ev.start, ev.end)) return false;
    if (c.cause !== 'unknown' && c.cause !== 'crash' && c.cause !== 'offline') return true; // already decided from better evidence
    const agentOnly = ev.scope === 'agent';
    c.cause = agentOnly ? 'crash' : ((['power_loss', 'crash', 'hang_reset'].includes(ev.cause) ? ev.cause : 'unknown') as ClosedOutage['cause']);
    if (ev.start !== null) c.start = ev.start;
    if (ev.end !== null) c.end = Math.max(c.start, ev.end);
    if (ev.uncertaintyMs !== null) c.uncertaintyMs = ev.uncertaintyMs;
    c.evidence = { ...c.evidence, event: 'outage', eventCause: ev.cause, eventScope: ev.scope, amended: true };
    c.verdict = agentOnly ? 'unknown' : 'power';
    this.fx.push({ kind: 'hostOutage', change: 'amended', outage: this.closedRecord(h.host, c) });
    if (c.incidentId === null) this.correlateLate(h);
    for (const inc of [this.st.incident, this.st.lastIncident]) {
      if (inc && c.incidentId === inc.id && inc.results[h.host]) {
        inc.results[h.host] = { cause: c.cause, verdict: agentOnly ? 'unknown' : 'power', start: c.start, end: c.end, uncertaintyMs: c.uncertaintyMs };
        if (inc === this.st.lastIncident) {
          this.summarise(inc);
          this.fx.push({ kind: 'incident', change: 'amended', incident: this.incidentRecord(inc) });
        } else this.resolveIfDone();
      }
    }
    return true;
  }

  private recordFromEvent(h: TrackedHost, ev: NonNullable<OpenOutage['outageEvent']>): void {
    const start = ev.start!;
    const closed: ClosedOutage = {
      id: this.ids.nextOutageId++,
      start,
      end: Math.max(start, ev.end!),
      cause: ev.scope === 'agent' ? 'crash' : ((['power_loss', 'crash', 'hang_reset'].includes(ev.cause) ? ev.cause : 'unknown') as ClosedOutage['cause']),
      incidentId: null,
      uncertaintyMs: ev.uncertaintyMs ?? h.intervalMs,
      evidence: { detectedBy: 'event', event: 'outage', eventCause: ev.cause, eventScope: ev.scope, note: 'drop not seen live (collector down or Last Will lost)' },
      verdict: ev.scope === 'agent' ? 'unknown' : 'power',
    };
    h.lastClosed = closed;
    this.fx.push({ kind: 'hostOutage', change: 'closed', outage: this.closedRecord(h.host, closed) });
    this.correlateLate(h);
  }

  private overlaps(aStart: number, aEnd: number, bStart: number | null, bEnd: number | null): boolean {
    const slack = this.s.windowMs;
    const bs = bStart ?? bEnd;
    const be = bEnd ?? bStart;
    if (bs === null || be === null) return true; // no times: take it as about the current outage
    return bs <= aEnd + slack && be >= aStart - slack;
  }

  // ---- site incidents ----

  private correlateDrop(h: TrackedHost, o: OpenOutage): void {
    if (o.unconfirmed) return; // no incident from what the collector merely did not hear
    const inc = this.st.incident;
    const w = this.s.windowMs;
    if (inc) {
      if (!inc.resolvedAt && Math.abs(o.start - inc.start) <= w && !inc.hosts.includes(h.host)) {
        inc.hosts.push(h.host);
        inc.starts[h.host] = o.start;
        o.incidentId = inc.id;
        inc.start = Math.min(inc.start, o.start);
        this.fx.push({ kind: 'incident', change: 'updated', incident: this.incidentRecord(inc) });
        this.fx.push({ kind: 'hostOutage', change: 'updated', outage: this.openRecord(h, o) });
      }
      return;
    }
    const out = Object.values(this.st.hosts).filter(
      (x) => x.outage && !x.outage.returned && !x.outage.unconfirmed && x.outage.incidentId === null && x.outage.detectedBy !== 'birth' && Math.abs(x.outage.start - o.start) <= w,
    );
    const online = Object.values(this.st.hosts).filter((x) => x.state === 'online' && !x.outage).length;
    const before = online + out.length;
    if (out.length < this.s.minHosts || out.length / before < this.s.siteShare) return;
    const incident: IncidentState = {
      id: this.ids.nextIncidentId++,
      start: Math.min(...out.map((x) => x.outage!.start)),
      openedAt: this.now,
      hosts: out.map((x) => x.host).sort(),
      starts: Object.fromEntries(out.map((x) => [x.host, x.outage!.start])),
      hostsOnlineBefore: before,
      results: {},
      gaveUp: [],
      cause: 'unknown',
      end: null,
      resolvedAt: null,
      uncertaintyMs: Math.max(...out.map((x) => x.outage!.uncertaintyMs)),
    };
    this.st.incident = incident;
    this.fx.push({ kind: 'incident', change: 'opened', incident: this.incidentRecord(incident) });
    for (const x of out) {
      x.outage!.incidentId = incident.id;
      this.fx.push({ kind: 'hostOutage', change: 'updated', outage: this.openRecord(x, x.outage!) });
    }
  }

  private resolveIfDone(): void {
    const inc = this.st.incident!;
    this.summarise(inc);
    const pending = inc.hosts.filter((x) => !inc.results[x] && !inc.gaveUp.includes(x));
    if (pending.length) {
      this.fx.push({ kind: 'incident', change: 'updated', incident: this.incidentRecord(inc) });
      return;
    }
    inc.resolvedAt = this.now;
    if (inc.end === null) inc.end = this.now; // every host given up: ends when we stopped waiting
    this.st.incident = null;
    this.st.lastIncident = inc;
    this.fx.push({ kind: 'incident', change: 'resolved', incident: this.incidentRecord(inc) });
  }

  /** Cause, start, end from the hosts decided so far. */
  private summarise(inc: IncidentState): void {
    const rs = Object.values(inc.results);
    const verdicts = new Set<HostVerdict>(rs.map((r) => r.verdict));
    verdicts.delete('unknown');
    inc.cause = incidentCause(verdicts);
    // Each host's best-known start: its verdict's (e.g. the agent's last heartbeat) once decided.
    inc.start = Math.min(...inc.hosts.map((x) => inc.results[x]?.start ?? inc.starts[x] ?? inc.start));
    if (rs.length) {
      inc.end = Math.max(...rs.map((r) => r.end));
      // Once every host is decided, the incident is as exact as its least exact host.
      if (rs.length === inc.hosts.length) inc.uncertaintyMs = Math.max(...rs.map((r) => r.uncertaintyMs ?? inc.uncertaintyMs));
    }
  }

  // ---- records ----

  private openRecord(h: TrackedHost, o: OpenOutage): HostOutage {
    return {
      id: o.id,
      site: this.st.site,
      host: h.host,
      cause: 'offline',
      start: o.start,
      end: null,
      uncertaintyMs: o.uncertaintyMs,
      incidentId: o.incidentId,
      evidence: { detectedBy: o.detectedBy, detectedAt: o.detectedAt, bootBefore: o.boot, ...(o.unconfirmed ? { unconfirmed: true } : {}) },
    };
  }

  private closedRecord(host: string, c: ClosedOutage): HostOutage {
    return { id: c.id, site: this.st.site, host, cause: c.cause, start: c.start, end: c.end, uncertaintyMs: c.uncertaintyMs, incidentId: c.incidentId, evidence: c.evidence };
  }

  private incidentRecord(inc: IncidentState): SiteIncident {
    const hostsOut = inc.hosts.filter((x) => !inc.results[x]);
    const byHost: Record<string, unknown> = {};
    for (const [x, r] of Object.entries(inc.results)) byHost[x] = { cause: r.cause, verdict: r.verdict };
    return {
      id: inc.id,
      site: this.st.site,
      state: inc.resolvedAt === null ? 'open' : 'resolved',
      cause: inc.cause,
      start: inc.start,
      end: inc.resolvedAt === null ? null : inc.end,
      hosts: [...inc.hosts],
      hostsOut,
      hostsOnlineBefore: inc.hostsOnlineBefore,
      uncertaintyMs: inc.uncertaintyMs,
      evidence: { openedAt: inc.openedAt, hosts: byHost, ...(inc.gaveUp.length ? { gaveUp: [...inc.gaveUp] } : {}), ...(inc.late ? { late: true } : {}) },
    };
  }
}

/** power only → power_cut; network only → network_cut; both → mixed; nothing decided → unknown. */
export function incidentCause(verdicts: ReadonlySet<HostVerdict>): IncidentCause {
  const power = verdicts.has('power');
  const net = verdicts.has('network');
  if (power && net) return 'mixed';
  if (power) return 'power_cut';
  if (net) return 'network_cut';
  return 'unknown';
}

/** Reset liveness after a collector restart: no host is online until it speaks again. */
export function afterRestart(st: SiteState, now: number, sessionsEnded = false): SiteState {
  const next = structuredClone(st);
  for (const h of Object.values(next.hosts)) {
    if (h.state === 'online' && !h.outage) {
      if (sessionsEnded) {
        // The broker went down with the collector (embedded): every PC's session ended with
        // it, and until it reconnects (a storm of 10,000 takes a minute or more) its silence
        // is the collector's doing. Not known online until heard again; no silence counted.
        h.state = 'unknown';
      } else {
        // Silence counts from now: the collector could not hear anyone while it was down.
        h.lastSeen = now;
      }
    }
  }
  return next;
}
