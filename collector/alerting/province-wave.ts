import type { ProvinceCauseCounts, ProvinceDigest, ProvinceDigestSite, ProvinceSiteCause } from '../notify/province-message.js';

/**
 * The province digest (issue 12 item 6): when many sites drop together (a province-wide
 * power cut, an ISP's backbone), one extra message per channel tells the province what is
 * happening, on top of the per-site messages: how many sites of how many, which, the causes
 * known so far, the time span; then one summary when most of them are back (or after a
 * while): how many came back and after how long.
 *
 * A pure function of (state, input, now) like the engine (house style §4); the service
 * persists the returned state in the same transaction as the messages, and the message ids
 * are deterministic (`province:<waveStart>`, `province:<waveStart>:summary`): a restart
 * never sends one twice.
 *
 * A wave = sites whose drop times lie within `windowMs` of the first one. It is detected
 * when at least the threshold of such sites are down at once; a new wave only after the
 * previous one ended (its summary was sent), and only from sites that dropped after the
 * previous wave's window.
 */

export interface ProvinceWaveSettings {
  /** At least this many sites (never fewer than 2). */
  minSites: number;
  /** At least this share (0–1) of the sites with agents; 0 = no share condition. */
  minShare: number;
  /** `both`: the count AND the share must be reached; `either`: one of them suffices. */
  require: 'both' | 'either';
  /** Drops within this span of the first one belong to one wave. */
  windowMs: number;
  /** Wait this long after the threshold was reached, to gather the companions into the message. */
  waitMs: number;
  /** Summary when this share (0–1) of the wave's sites is back… */
  backShare: number;
  /** …or at the latest this long after the wave's first drop. */
  summaryAfterMs: number;
  /** Link to the board, quoted in the messages (optional). */
  boardUrl?: string | undefined;
}

export interface WaveSite {
  since: number;
  /** When it was seen back; null while down. */
  backAt: number | null;
  cause: ProvinceSiteCause;
}

export interface ProvinceWave {
  /** The first drop (the wave's id). */
  start: number;
  /** When the threshold was reached. */
  detectedAt: number;
  /** When the first message was queued; null before. */
  announcedAt: number | null;
  /** Sites with agents when it was detected (the denominator). */
  total: number;
  sites: Record<string, WaveSite>;
  /** Sites of the wave beyond {@link MAX_WAVE_SITES} (counted, not tracked). */
  overflow: number;
}

export interface ProvinceWaveState {
  wave: ProvinceWave | null;
  /** End of the last wave's window: sites that dropped before it belonged to that wave. */
  floor: number | null;
}

export function emptyProvinceWaveState(): ProvinceWaveState {
  return { wave: null, floor: null };
}

export interface ProvinceWaveInput {
  /** Sites down now (open site incident or firing site_offline alert) and since when. */
  down: ReadonlyMap<string, number>;
  /** Sites with agents (the denominator of the share). */
  sitesWithAgents: number;
  /** What is known of the cause of `site`'s outage that began at `since` (pending while open). */
  cause(site: string, since: number): ProvinceSiteCause;
  siteName(site: string): string;
}

export interface ProvinceWaveResult {
  state: ProvinceWaveState;
  messages: ProvinceDigest[];
  /** Sites not tracked in a wave because it holds {@link MAX_WAVE_SITES} already (this step). */
  overflow: number;
}

/** Bound of the sites tracked in one wave (a province has a few hundred communes). */
export const MAX_WAVE_SITES = 5000;
/** Bound of the sites listed in one message (the texts show ~20; the webhook gets these). */
export const MAX_LISTED_SITES = 500;
/** A drop older than this when first seen starts no wave (after a long collector outage it is history). */
export const STALE_DROP_MS = 30 * 60_000;

/** Sites needed for a wave among `total` sites with agents. */
export function waveThreshold(total: number, s: Pick<ProvinceWaveSettings, 'minSites' | 'minShare' | 'require'>): number {
  const count = Math.max(2, s.minSites);
  if (s.minShare <= 0) return count;
  const share = Math.ceil(s.minShare * total - 1e-9);
  return s.require === 'both' ? Math.max(count, share) : Math.max(2, Math.min(count, share));
}

function cloneState(s: ProvinceWaveState): ProvinceWaveState {
  if (!s.wave) return { wave: null, floor: s.floor };
  const sites: Record<string, WaveSite> = {};
  for (const [k, v] of Object.entries(s.wave.sites)) sites[k] = { ...v };
  return { wave: { ...s.wave, sites }, floor: s.floor };
}

/** The earliest span of `windowMs` holding at least `needed` drops; its start, or null. */
function findWave(drops: ReadonlyArray<[string, number]>, needed: number, windowMs: number): number | null {
  let j = 0;
  for (let i = 0; i < drops.length; i++) {
    if (j < i) j = i;
    while (j + 1 < drops.length && drops[j + 1]![1] - drops[i]![1] <= windowMs) j++;
    if (j - i + 1 >= needed) return drops[i]![1];
  }
  return null;
}

export function evaluateProvinceWave(prev: ProvinceWaveState, input: ProvinceWaveInput, now: number, s: ProvinceWaveSettings): ProvinceWaveResult {
  const state = cloneState(prev);
  const messages: ProvinceDigest[] = [];
  let overflow = 0;

  if (!state.wave) {
    const floor = state.floor ?? -Infinity;
    const drops = [...input.down.entries()].filter(([, since]) => since > floor && since >= now - s.windowMs - STALE_DROP_MS).sort((a, b) => a[1] - b[1]);
    const start = findWave(drops, waveThreshold(input.sitesWithAgents, s), s.windowMs);
    if (start !== null) state.wave = { start, detectedAt: now, announcedAt: null, total: input.sitesWithAgents, sites: {}, overflow: 0 };
  }
  const wave = state.wave;
  if (!wave) return { state, messages, overflow };

  // Membership: every site that dropped inside the window joins (also after the first message).
  const windowEnd = wave.start + s.windowMs;
  let tracked = Object.keys(wave.sites).length;
  let untracked = 0;
  for (const [site, since] of input.down) {
    if (since < wave.start || since > windowEnd || wave.sites[site]) continue;
    if (tracked >= MAX_WAVE_SITES) untracked++;
    else {
      wave.sites[site] = { since, backAt: null, cause: 'pending' };
      tracked++;
    }
  }
  // Untracked sites are not remembered (that is the bound): the most seen down at once is
  // what the messages add to the count, and what grew is counted once.
  if (untracked > wave.overflow) {
    overflow = untracked - wave.overflow;
    wave.overflow = untracked;
  }
  for (const [site, w] of Object.entries(wave.sites)) {
    const down = input.down.has(site);
    if (down) w.backAt = null;
    else w.backAt ??= now;
    w.cause = input.cause(site, w.since);
  }

  const members = Object.keys(wave.sites).length;
  const back = Object.values(wave.sites).filter((w) => w.backAt !== null).length;
  if (wave.announcedAt === null) {
    if (now - wave.detectedAt >= s.waitMs) {
      messages.push(digestOf(wave, 'wave', now, input, s));
      wave.announcedAt = now;
    }
  } else if (now > wave.announcedAt && (back >= s.backShare * (members + wave.overflow) || now - wave.start >= s.summaryAfterMs)) {
    messages.push(digestOf(wave, 'summary', now, input, s));
    state.floor = windowEnd;
    state.wave = null;
  }
  return { state, messages, overflow };
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : Math.round((a[m - 1]! + a[m]!) / 2);
}

function digestOf(wave: ProvinceWave, kind: 'wave' | 'summary', now: number, input: ProvinceWaveInput, s: ProvinceWaveSettings): ProvinceDigest {
  const entries = Object.entries(wave.sites).sort(([a, x], [b, y]) => x.since - y.since || a.localeCompare(b));
  const causes: ProvinceCauseCounts = { power_cut: 0, network_cut: 0, mixed: 0, unknown: 0, pending: 0 };
  for (const [, w] of entries) causes[w.cause]++;
  const backLengths = entries.filter(([, w]) => w.backAt !== null).map(([, w]) => w.backAt! - w.since);
  const sites: ProvinceDigestSite[] = entries
    .slice(0, MAX_LISTED_SITES)
    .map(([site, w]) => ({ site, name: input.siteName(site), since: w.since, backAt: w.backAt, cause: w.cause }));
  return {
    id: kind === 'wave' ? `province:${wave.start}` : `province:${wave.start}:summary`,
    phase: kind,
    createdAt: now,
    waveStart: wave.start,
    lastDrop: entries.length ? Math.max(...entries.map(([, w]) => w.since)) : wave.start,
    sitesTotal: Math.max(wave.total, entries.length + wave.overflow),
    sitesInWave: entries.length + wave.overflow,
    sitesBack: backLengths.length,
    causes,
    backMedianMs: backLengths.length ? median(backLengths) : null,
    backLongestMs: backLengths.length ? Math.max(...backLengths) : null,
    sites,
    ...(s.boardUrl ? { boardUrl: s.boardUrl } : {}),
  };
}
