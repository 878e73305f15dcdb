import { createHash } from 'node:crypto';

/**
 * Staged rollout of an agent version (issue 16 item 2), as a pure function of the rollout,
 * the PCs and their reports: who is in the first stage, whether it is healthy, and who may
 * be offered the version now. Working hours are applied by the caller (per site, with the
 * clock); this only orders the fleet.
 *
 * The first stage is the chosen sites plus a share of all PCs picked by a hash of
 * (version, site/host): spread over the sites, the same at every evaluation, another pick
 * for the next version (so the same few PCs are not always the guinea pigs). The rest is
 * offered once every first-stage PC runs the version (or is offline) and none failed; any
 * PC refusing the version or rolling it back halts the rollout until an admin acts, as
 * Wazuh and Fleet do with a failed canary.
 */
export interface Rollout {
  version: string;
  /** Share of all PCs in the first stage, 0..1 (1: no staging). */
  share: number;
  /** Sites whose PCs are all in the first stage. */
  sites: readonly string[];
}

export interface RolloutHost {
  site: string;
  host: string;
  online: boolean;
  /** The agent version its last status named. */
  agentVersion: string | null;
  /** Its last update report: `version` the one refused, or (rolled_back) the one gone back to, `from` the one left. */
  report?: { state: string; version: string; from: string } | undefined;
}

export interface StageProgress {
  total: number;
  /** Running the version. */
  updated: number;
  /** Refused it or rolled it back. */
  failed: number;
}

export interface RolloutPlan {
  /** 1 while the first stage is not healthy; 2 once the rest may be offered. */
  stage: 1 | 2;
  first: StageProgress;
  rest: StageProgress;
  /** Set when a PC failed: nothing more is offered. */
  halted: string | null;
  /** `site/host` of every PC of the first stage. */
  firstStage: ReadonlySet<string>;
  /** PCs that may be offered the version now (not running it, not failed), first stage first. */
  eligible: RolloutHost[];
}

const key = (h: { site: string; host: string }) => `${h.site}/${h.host}`;

/** Order of the PCs for picking the first stage (stable for one version). */
function pickOrder(version: string, k: string): string {
  return createHash('sha256').update(`${version}\n${k}`).digest('hex');
}

export function planRollout(r: Rollout, hosts: readonly RolloutHost[]): RolloutPlan {
  const sites = new Set(r.sites);
  const share = Math.min(1, Math.max(0, r.share));
  const count = Math.ceil(share * hosts.length);
  const byPick = hosts
    .map((h) => ({ h, o: pickOrder(r.version, key(h)) }))
    .sort((a, b) => (a.o < b.o ? -1 : a.o > b.o ? 1 : 0))
    .map((x) => x.h);
  const firstStage = new Set<string>();
  for (const h of hosts) if (sites.has(h.site)) firstStage.add(key(h));
  for (const h of byPick.slice(0, count)) firstStage.add(key(h));
  const updated = (h: RolloutHost) => h.agentVersion === r.version;
  // A refusal names the version refused; a rollback names the version gone back to, and `from` the one that failed.
  const failed = (h: RolloutHost) =>
    !updated(h) &&
    h.report !== undefined &&
    ((h.report.state === 'refused' && h.report.version === r.version) || (h.report.state === 'rolled_back' && h.report.from === r.version));
  const progress = (list: RolloutHost[]): StageProgress => ({ total: list.length, updated: list.filter(updated).length, failed: list.filter(failed).length });
  const first = hosts.filter((h) => firstStage.has(key(h)));
  const rest = hosts.filter((h) => !firstStage.has(key(h)));
  const p1 = progress(first);
  const p2 = progress(rest);
  const failures = p1.failed + p2.failed;
  const halted = failures > 0 ? `${failures} PC(s) refused or rolled back version ${r.version}` : null;
  // Healthy: every first-stage PC runs the version or is offline, and at least one runs it.
  const healthy = p1.failed === 0 && first.every((h) => updated(h) || !h.online) && (p1.updated > 0 || first.length === 0);
  const stage: 1 | 2 = healthy ? 2 : 1;
  const want = (h: RolloutHost) => !updated(h) && !failed(h);
  const eligible = halted ? [] : [...first.filter(want), ...(stage === 2 ? rest.filter(want) : [])];
  return { stage, first: p1, rest: p2, halted, firstStage, eligible };
}
