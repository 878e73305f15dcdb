import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { CONFIG_REPORT_STATES, configTopic, type AgentConfigMessage, type ConfigReportState } from '../../contract/agent-config.js';
import { CONTRACT_VERSION } from '../../contract/limits.js';
import type { StoredMessage } from '../ingest/ingest.js';
import type { Store } from '../store/store.js';
import { partHash, type AgentConfigStore, type PublishedConfig } from './agent-config-store.js';

/** Where configurations are published (the embedded broker or the external broker's client). */
export interface ConfigPublisher {
  /** QoS 1, retained; false when it cannot be sent now (sent again at the next connection). */
  publishConfig(topic: string, payload: string): boolean;
}

export interface AgentConfigServiceDeps {
  store: AgentConfigStore;
  hosts: Pick<Store, 'listHosts'>;
  publisher: ConfigPublisher;
  clock: Clock;
  log: Logger;
  /** How often the settings revision is checked for changes made by the CLI (ms). */
  pollMs?: number;
}

/**
 * Delivers the remote agent configuration (issue 16 item 1): for each PC, the site's
 * settings with its own on top, published retained on `canh/v1/<site>/<host>/config` with
 * a version that grows only when that PC's part changes. At start and at every broker
 * (re)connection the last published message of every PC is published again, unchanged
 * (same version and hash: the agents apply nothing again). The agents' `config` events
 * are kept as each PC's last report.
 */
/** PCs handled per event-loop turn when syncing or publishing them all (the loop stays responsive). */
const CHUNK = 200;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class AgentConfigService {
  private revision = -1;
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private rerun = false;

  constructor(private readonly deps: AgentConfigServiceDeps) {}

  /** Publish every PC's last message again, then bring them up to date; polls for CLI changes. */
  async start(): Promise<void> {
    this.timer = this.deps.clock.setInterval(() => void this.syncIfChanged(), this.deps.pollMs ?? 2000);
    await this.republishAll();
    await this.syncIfChanged();
  }

  stop(): void {
    this.deps.clock.clear(this.timer);
  }

  /**
   * The settings changed (API, CLI: the revision grew): bring every PC's published part up to
   * date, {@link CHUNK} PCs per event-loop turn. Resolves when done (a change during a pass
   * makes another pass).
   */
  syncIfChanged(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.rerun = false;
        const rev = this.deps.store.revision();
        if (rev !== this.revision) {
          this.revision = rev;
          await this.syncAll();
        }
      } while (this.rerun);
    })()
      .catch((err: unknown) => this.deps.log.error({ err: (err as Error).message }, 'remote configuration sync failed'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** The PCs of one site (host null) or one PC whose part may have changed: synced now (an API change). */
  syncTarget(site: string, host: string | null): number {
    const hosts = host !== null ? [host] : [...this.hostsOf(site)];
    let n = 0;
    for (const h of hosts) if (this.sync(site, h)) n++;
    return n;
  }

  /** Known PCs of a site, PCs with their own settings there, PCs published to. */
  private hostsOf(site: string): Set<string> {
    const { store, hosts } = this.deps;
    const set = new Set<string>();
    for (const h of hosts.listHosts(site)) set.add(h.host);
    for (const s of store.all()) if (s.site === site && s.host !== null) set.add(s.host);
    for (const p of store.allPublished()) if (p.site === site) set.add(p.host);
    return set;
  }

  /** Every PC of every site that has settings or a published part. */
  private async syncAll(): Promise<void> {
    const { store, hosts } = this.deps;
    const targets: Array<[string, string]> = [];
    const seen = new Set<string>();
    const add = (site: string, host: string) => {
      const k = `${site}/${host}`;
      if (!seen.has(k)) {
        seen.add(k);
        targets.push([site, host]);
      }
    };
    for (const p of store.allPublished()) add(p.site, p.host);
    for (const s of store.all()) {
      if (s.host !== null) add(s.site, s.host);
      else for (const h of hosts.listHosts(s.site)) add(s.site, h.host);
    }
    let changed = 0;
    for (let i = 0; i < targets.length; i += CHUNK) {
      if (i > 0) await nextTurn();
      for (const [site, host] of targets.slice(i, i + CHUNK)) if (this.sync(site, host)) changed++;
    }
    if (changed) this.deps.log.info({ hosts: changed }, 'remote configuration published');
  }

  /** Publish the PC's part when it differs from the last published one; true when published. */
  sync(site: string, host: string): boolean {
    const { store } = this.deps;
    const config = store.effective(site, host);
    const hash = partHash(config);
    const last = store.published(site, host);
    if (last ? last.hash === hash : Object.keys(config).length === 0) return false;
    const p: PublishedConfig = { site, host, version: (last?.version ?? 0) + 1, hash, config, publishedAt: this.deps.clock.now() };
    store.savePublished(p);
    this.publish(p);
    return true;
  }

  private publish(p: PublishedConfig): void {
    const msg: AgentConfigMessage = { v: CONTRACT_VERSION, version: p.version, hash: p.hash, config: p.config };
    this.deps.publisher.publishConfig(configTopic(p.site, p.host), JSON.stringify(msg));
  }

  /** Publish every PC's last part again, unchanged (a broker without the retained messages), {@link CHUNK} per turn. */
  async republishAll(): Promise<void> {
    const all = this.deps.store.allPublished();
    for (let i = 0; i < all.length; i += CHUNK) {
      if (i > 0) await nextTurn();
      for (const p of all.slice(i, i + CHUNK)) this.publish(p);
    }
  }
  /** A stored message: a PC's `config` report, or a PC coming online that has none published yet. */
  onStored(msg: StoredMessage): void {
    try {
      if (msg.kind === 'events' && msg.row.type === 'config') {
        const d = msg.row.details ?? {};
        const state = d.state as ConfigReportState;
        if (!CONFIG_REPORT_STATES.includes(state) || typeof d.version !== 'number') return;
        this.deps.store.saveReport(msg.row.site, msg.row.host, {
          version: d.version,
          hash: typeof d.hash === 'string' ? d.hash.slice(0, 64) : '',
          state,
          reason: typeof d.reason === 'string' ? d.reason.slice(0, 1000) : null,
          at: msg.row.t,
        });
      } else if (msg.kind === 'status' && msg.row.state === 'online' && !this.deps.store.published(msg.row.site, msg.row.host)) {
        this.sync(msg.row.site, msg.row.host);
      }
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'remote configuration report failed');
    }
  }
}
