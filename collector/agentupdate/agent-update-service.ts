import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { UPDATE_STATES, updateTopic, type ReleasePlatform, type UpdateOffer } from '../../contract/agent-update.js';
import { CONTRACT_VERSION } from '../../contract/limits.js';
import type { StoredMessage } from '../ingest/ingest.js';
import { isWorkingTime, nextWorkingStart } from '../sites/schedule/working-hours.js';
import type { SiteDirectory } from '../sites/site-settings.js';
import type { Store } from '../store/store.js';
import { manifestOf, type AgentUpdateStore, type Offer, type Release } from './agent-update-store.js';
import { planRollout, type RolloutHost, type RolloutPlan } from './rollout-plan.js';

/** Where offers are published (the embedded broker or the external broker's client): QoS 1, retained. */
export interface OfferPublisher {
  publishConfig(topic: string, payload: string): boolean;
}

export interface AgentUpdateServiceDeps {
  store: AgentUpdateStore;
  hosts: Pick<Store, 'listHosts' | 'inventory'>;
  sites: SiteDirectory;
  publisher: OfferPublisher;
  clock: Clock;
  log: Logger;
  /** How often the rollout is evaluated (ms). */
  pollMs?: number;
}

export interface RolloutStatus {
  version: string;
  share: number;
  sites: string[];
  force: boolean;
  startedAt: number;
  startedBy: string;
  stage: 1 | 2;
  first: RolloutPlan['first'];
  rest: RolloutPlan['rest'];
  halted: string | null;
  /** PCs offered the version so far. */
  offered: number;
}

/** PCs offered per event-loop turn (the loop stays responsive for a province). */
const CHUNK = 200;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const PACKAGE_PATH = (r: Release) => `/install/releases/${encodeURIComponent(r.version)}/${encodeURIComponent(r.file)}`;

/**
 * Delivers agent updates (issue 16 item 2): evaluates the rollout every `pollMs` and
 * offers its version, retained on `canh/v1/<site>/<host>/update`, to the PCs the staged
 * plan allows (rollout-plan.ts), outside their site's working hours unless forced. An
 * offer made outside working hours is valid until they begin (`until`); a PC that was off
 * then gets a new offer (a new seq) in the next off-hours. The agents' `update` events are
 * kept as each PC's last report; a refusal or rollback halts the rollout.
 */
export class AgentUpdateService {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private last: RolloutStatus | null = null;
  private warnedNoRelease = '';

  constructor(private readonly deps: AgentUpdateServiceDeps) {}

  async start(): Promise<void> {
    this.timer = this.deps.clock.setInterval(() => void this.evaluate(), this.deps.pollMs ?? 30_000);
    // Stopped while this collector was down (CLI): an external broker may still hold the offers.
    if (!this.deps.store.rollout()) await this.withdrawAll();
    await this.republishAll();
    await this.evaluate();
  }

  stop(): void {
    this.deps.clock.clear(this.timer);
  }

  /** The rollout and its progress at the last evaluation (null: none). */
  status(): RolloutStatus | null {
    return this.last;
  }

  /** Evaluate now (an API change); resolves when the pass is done. */
  evaluate(): Promise<void> {
    this.running ??= this.pass()
      .catch((err: unknown) => this.deps.log.error({ err: (err as Error).message }, 'agent update evaluation failed'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private platformOf(site: string, host: string): ReleasePlatform | null {
    const inv = this.deps.hosts.inventory(site, host)?.data as { os?: { platform?: unknown } } | undefined;
    const p = inv?.os?.platform;
    return p === 'win32' || p === 'windows' ? 'windows' : p === 'linux' ? 'linux' : null;
  }

  private releaseFor(releases: readonly Release[], site: string, host: string): Release | undefined {
    const any = releases.find((r) => r.platform === 'any');
    if (any) return any;
    const p = this.platformOf(site, host);
    return p ? releases.find((r) => r.platform === p) : undefined;
  }

  private async pass(): Promise<void> {
    const { store, hosts, sites, clock, log } = this.deps;
    const rollout = store.rollout();
    if (!rollout) {
      // Cleared (API or CLI) since the last pass: the offers are withdrawn.
      if (this.last !== null) await this.withdrawAll();
      return;
    }
    const releases = store.releasesOf(rollout.version);
    const reports = new Map(store.reports().map((r) => [`${r.site}/${r.host}`, r]));
    const fleet: RolloutHost[] = hosts.listHosts().map((h) => {
      const rep = reports.get(`${h.site}/${h.host}`);
      return {
        site: h.site,
        host: h.host,
        online: h.state === 'online',
        agentVersion: h.agentVersion,
        report: rep ? { state: rep.state, version: rep.version, from: rep.from } : undefined,
      };
    });
    const plan = planRollout(rollout, fleet);
    const offers = new Map(store.offers().map((o) => [`${o.site}/${o.host}`, o]));
    const offered = () => [...offers.values()].filter((o) => o.version === rollout.version).length;
    this.last = { ...rollout, stage: plan.stage, first: plan.first, rest: plan.rest, halted: plan.halted, offered: offered() };
    if (releases.length === 0) {
      if (this.warnedNoRelease !== rollout.version) log.warn({ version: rollout.version }, 'rollout target has no published release (canh release publish)');
      this.warnedNoRelease = rollout.version;
      return;
    }
    const now = clock.now();
    let sent = 0;
    for (let i = 0; i < plan.eligible.length; i += CHUNK) {
      if (i > 0) await nextTurn();
      for (const h of plan.eligible.slice(i, i + CHUNK)) {
        const prev = offers.get(`${h.site}/${h.host}`);
        if (prev && prev.version === rollout.version && (prev.until === null || prev.until > now)) continue;
        const wh = sites.workingHours(h.site);
        if (!rollout.force && isWorkingTime(wh, now)) continue;
        const release = this.releaseFor(releases, h.site, h.host);
        if (!release) continue;
        const offer: Offer = {
          site: h.site,
          host: h.host,
          seq: (prev?.seq ?? 0) + 1,
          version: rollout.version,
          platform: release.platform,
          until: rollout.force ? null : nextWorkingStart(wh, now),
          offeredAt: now,
        };
        store.saveOffer(offer);
        offers.set(`${h.site}/${h.host}`, offer);
        this.publish(offer, release);
        sent++;
      }
    }
    this.last.offered = offered();
    if (sent) log.info({ version: rollout.version, hosts: sent, stage: plan.stage, force: rollout.force }, 'agent update offered');
  }

  private publish(o: Offer, r: Release): void {
    const msg: UpdateOffer = { v: CONTRACT_VERSION, seq: o.seq, manifest: manifestOf(r), signature: r.signature, keyId: r.keyId, path: PACKAGE_PATH(r), until: o.until };
    this.deps.publisher.publishConfig(updateTopic(o.site, o.host), JSON.stringify(msg));
  }

  /** The rollout was cleared: the retained offers are removed (an empty retained message), so no PC acts on them later. */
  async withdrawAll(): Promise<void> {
    const all = this.deps.store.offers();
    for (let i = 0; i < all.length; i += CHUNK) {
      if (i > 0) await nextTurn();
      for (const o of all.slice(i, i + CHUNK)) this.deps.publisher.publishConfig(updateTopic(o.site, o.host), '');
    }
    this.last = null;
  }

  /** Publish every current offer again, unchanged (a broker without the retained messages). */
  async republishAll(): Promise<void> {
    const rollout = this.deps.store.rollout();
    if (!rollout) return;
    const releases = this.deps.store.releasesOf(rollout.version);
    const all = this.deps.store.offers().filter((o) => o.version === rollout.version);
    for (let i = 0; i < all.length; i += CHUNK) {
      if (i > 0) await nextTurn();
      for (const o of all.slice(i, i + CHUNK)) {
        const r = releases.find((x) => x.platform === o.platform);
        if (r) this.publish(o, r);
      }
    }
  }

  /** A stored message: a PC's `update` report. */
  onStored(msg: StoredMessage): void {
    try {
      if (msg.kind !== 'events' || msg.row.type !== 'update') return;
      const d = msg.row.details ?? {};
      if (!(UPDATE_STATES as readonly unknown[]).includes(d.state) || typeof d.version !== 'string') return;
      this.deps.store.saveReport(msg.row.site, msg.row.host, {
        state: d.state as string,
        version: d.version.slice(0, 64),
        from: typeof d.from === 'string' ? d.from.slice(0, 64) : '',
        seq: typeof d.seq === 'number' ? d.seq : 0,
        reason: typeof d.reason === 'string' ? d.reason.slice(0, 1000) : null,
        at: msg.row.t,
      });
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'agent update report failed');
    }
  }
}
