import type { HostOutageCause, IncidentCause } from './outage-types.js';

/**
 * The correlator's memory of one site (persisted as one JSON row per site, so a collector
 * restart mid-incident resumes where it was, and a site is the unit of partitioning).
 * Plain JSON data only: it is cloned, stored and reloaded as is.
 */
export interface SiteState {
  site: string;
  hosts: Record<string, TrackedHost>;
  /** The site incident still open (hosts out, or returned and awaiting evidence). */
  incident: IncidentState | null;
  /** The last resolved incident, kept so late evidence (an event after the verdict) can amend it. */
  lastIncident: IncidentState | null;
}

export interface TrackedHost {
  host: string;
  /** `unknown` until a birth after a collector/broker restart. */
  state: 'online' | 'offline' | 'unknown';
  /** Agent boot id of the current session. */
  boot: string | null;
  /** OS boot time (collector clock, skew-corrected). */
  osBoot: number | null;
  /** Agent clock time of the last birth message: a Last Will carries its session's connect time, never later. */
  birthT: number | null;
  /** `birthT` of the session before (a will with `t` up to it belongs to an older session). */
  prevBirthT?: number | null;
  /** Collector time of the last live message (status, sample, event) from the host. */
  lastSeen: number | null;
  keepaliveMs: number;
  /** Sampling interval, ms (from its samples). */
  intervalMs: number;
  outage: OpenOutage | null;
  /**
   * Collector time the agent stopped cleanly (its "offline" status after the birth, or its
   * Last Will after an `agent_stop` event of the same boot); null/absent otherwise. A
   * switched-off PC (closing time, planned shutdown) is not an outage and never alerts (issue 13).
   */
  stoppedAt?: number | null;
  /**
   * When a Last Will of this host came while the collector stood still or was deaf (so it was
   * not taken then): a silence after it is a drop the broker reported, not one it did not.
   */
  willInGapAt?: number | null;
  /** The agent of the current boot said `agent_stop`: a will that follows is a clean stop. */
  stopping?: boolean;
  /** The last closed outage, so late evidence can amend it. */
  lastClosed: ClosedOutage | null;
}

/** How the correlator saw a host return. */
export interface HostReturn {
  at: number;
  boot: string;
  osBoot: number | null;
  newAgentBoot: boolean;
  newOsBoot: boolean;
  /** Skew the birth revealed (collector − agent clock), ms; applied to `osBoot` when beyond tolerance. */
  skewMs: number;
  /**
   * Heard again without a new birth: it never left its broker session, so its messages, not
   * its network, went missing (a deaf collector, a broker dropping): no evidence of a cut.
   */
  sameSession?: boolean | undefined;
}

export interface OpenOutage {
  id: number;
  start: number;
  /** What told us it dropped. */
  detectedBy: 'will' | 'silence' | 'birth' | 'event';
  detectedAt: number;
  uncertaintyMs: number;
  /** Agent boot and OS boot before the drop. */
  boot: string | null;
  osBoot: number | null;
  intervalMs: number;
  incidentId: number | null;
  returned: HostReturn | null;
  /** The new boot's `outage` event (start/end skew-corrected by ingest). */
  outageEvent: { cause: string; scope: string; start: number | null; end: number | null; uncertaintyMs: number | null } | null;
  freeze: { start: number; end: number } | null;
  networkCut: { scope: string; start: number | null; end: number | null } | null;
  /** The agent reported a planned shutdown/reboot: not an outage. */
  planned: boolean;
  /** The agent reported the PC slept/hibernated over the gap: not an outage. */
  slept?: boolean;
  /** Samples of the pre-drop boot taken inside the gap (buffered by the agent, replayed on return). */
  gapSamples: number;
  /** A sample taken after the return arrived: the agent's buffer was replayed. */
  caughtUp: boolean;
  /**
   * Taken as silent while, as far as the collector knows, its broker session stayed up: no
   * Last Will came. The broker fires the will 1.5 × keepalive after the host's last packet,
   * long before the silence timeout, so silence without a will says the collector did not
   * hear the host (messages lost on the way: a broker queue overflowing for a busy collector),
   * not that the host or its network dropped. Such an outage makes no site incident until
   * the will comes; heard again in the same session, it is discarded.
   */
  unconfirmed?: boolean | undefined;
}

export interface ClosedOutage {
  id: number;
  start: number;
  end: number;
  cause: HostOutageCause;
  incidentId: number | null;
  uncertaintyMs: number;
  evidence: Record<string, unknown>;
  /** What the host turned out to be (for correlating drops seen only afterwards). */
  verdict?: HostVerdict;
}

/** What each host of an incident turned out to be. */
export type HostVerdict = 'power' | 'network' | 'unknown';

export interface IncidentState {
  id: number;
  start: number;
  /** When it opened (collector time). */
  openedAt: number;
  hosts: string[];
  /** Each host's outage start as first seen (refined by its verdict). */
  starts: Record<string, number>;
  hostsOnlineBefore: number;
  results: Record<string, { cause: HostOutageCause; verdict: HostVerdict; start: number; end: number; uncertaintyMs?: number }>;
  gaveUp: string[];
  cause: IncidentCause;
  end: number | null;
  resolvedAt: number | null;
  uncertaintyMs: number;
  /** Formed afterwards from the hosts' own reports: the collector never saw the drops live. */
  late?: boolean;
}

/** Ids are allocated by the correlator (deterministic, persisted with the state). */
export interface IdCounters {
  nextOutageId: number;
  nextIncidentId: number;
}

export function emptySite(site: string): SiteState {
  return { site, hosts: {}, incident: null, lastIncident: null };
}
