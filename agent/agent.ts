import { makePrivateDir } from './platform/private-files.js';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../common/clock.js';
import { VERSION } from '../common/version.js';
import { CONTRACT_VERSION, maxBytesFor } from '../contract/limits.js';
import type { EventMessage, InventoryMessage, SampleMessage, SampleMetrics, StatusMessage } from '../contract/schemas.js';
import { topicFor } from '../contract/topics.js';
import type { AgentEvent } from './agent-event.js';
import { LIVE_REMOTE_KEYS } from '../contract/remote-config.js';
import { changedKeys, mergeRemoteConfig, type AgentConfig } from './config.js';
import { createDiskHealthReader, type DiskHealthReader } from './disk-health/disk-health-reader.js';
import { DiskHealthMonitor } from './disk-health/disk-health-monitor.js';
import { RemoteConfigState } from './remote-config.js';
import { Updater, type UpdateReport } from './update/updater.js';
import { decodeConfigMessage, type ConfigReportState } from '../contract/agent-config.js';
import { FreezeDetector } from './outages/freeze-detector.js';
import { NetworkCutDetector } from './outages/network-cut-detector.js';
import { OutageDetector } from './outages/outage-detector.js';
import { PowerSourceWatch } from './outages/power-source-watch.js';
import { TcpReachabilityProbe, type ReachabilityProbe } from './outages/reachability.js';
import { createShutdownEvidenceReader } from './outages/shutdown-evidence/reader.js';
import type { ShutdownEvidenceReader } from './outages/shutdown-evidence/shutdown-finding.js';
import { collectInventory } from './inventory.js';
import { Outbox } from './transport/outbox.js';
import { Publisher, type ConnectFn } from './transport/publisher.js';
import { Sampler } from './sampling/sampler.js';
import { createSources } from './sampling/sources/index.js';
import { bootTimeFrom } from './sampling/sources/uptime.js';
import { createSystemInfo } from './platform/system-info-factory.js';
import type { SystemInfo } from './platform/system-info.js';

export interface AgentDeps {
  clock?: Clock;
  sys?: SystemInfo;
  connect?: ConnectFn;
  /** How the previous shutdown is read (default: event log / journal / wtmp, or the test override). */
  evidence?: ShutdownEvidenceReader;
  /** Reachability probe for network-cut diagnosis (default: TCP connect). */
  probe?: ReachabilityProbe;
  /** Disk health reader (default: smartctl / Windows storage cmdlets; null: none, checks report unavailable). */
  diskHealth?: DiskHealthReader | null;
  /**
   * Remote configuration (issue 16): the local file's configuration (the floor; the
   * constructor's `config` is the effective one, the applied remote part on top) and what
   * the state folder remembers. Without it the agent starts from `config` and remembers
   * nothing yet.
   */
  remote?: { local: AgentConfig; state: RemoteConfigState };
  /** Called when a remote change needs a restart (the caller stops the agent and exits with EXIT_RESTART). */
  onRestart?: () => void;
}

/**
 * The agent (house style §1): builds its parts from config and starts/stops them.
 * Every message gets the contract envelope here: version, site/host, this run's boot
 * id and the next sequence number, and goes through the outbox.
 */
export class Agent {
  readonly boot = randomBytes(12).toString('base64url');
  private seq = 0;
  private readonly clock: Clock;
  private readonly sys: SystemInfo;
  private readonly outbox: Outbox;
  private readonly publisher: Publisher;
  private sampler: Sampler;
  private readonly updater: Updater;
  private readonly local: AgentConfig;
  private readonly remoteState: RemoteConfigState;
  private remoteChain: Promise<void> = Promise.resolve();
  private restarting = false;
  private stopped = false;
  private inventoryTimer: TimerHandle | undefined;
  private osBoot: number | undefined;
  private appendChain: Promise<unknown> = Promise.resolve();
  private readonly outage: OutageDetector | undefined;
  private readonly freeze: FreezeDetector | undefined;
  private readonly diskHealth: DiskHealthMonitor | undefined;
  private readonly networkCut: NetworkCutDetector | undefined;
  private readonly powerWatch = new PowerSourceWatch();

  constructor(
    private config: AgentConfig,
    private readonly log: Logger,
    private readonly deps: AgentDeps = {},
  ) {
    this.local = deps.remote?.local ?? config;
    this.remoteState = deps.remote?.state ?? RemoteConfigState.empty(config.stateDir);
    this.clock = deps.clock ?? systemClock;
    this.sys =
      deps.sys ??
      createSystemInfo(process.platform, {
        clock: this.clock,
        log: log.child({ module: 'system' }),
        pingProbeIntervalSeconds: config.intervalSeconds / config.ping.count,
        stateDir: config.stateDir,
      });
    this.outbox = new Outbox({
      dir: join(config.stateDir, 'outbox'),
      maxBytes: config.outbox.maxBytes,
      segmentBytes: config.outbox.segmentBytes,
      fsync: config.outbox.fsync,
      fsyncIntervalMs: config.outbox.fsyncIntervalMs,
      // One thread-pool round trip per sample (the fdatasync), not two (durable-log.ts).
      syncWrites: true,
      clock: this.clock,
      log: log.child({ module: 'outbox' }),
      onOverflow: (records, bytes) =>
        this.emit({
          type: 'outbox_overflow',
          severity: 'warning',
          message: `outbox full: dropped the ${records} oldest unsent messages (${bytes} bytes)`,
          details: { droppedRecords: records, droppedBytes: bytes },
        }),
    });
    this.publisher = new Publisher({
      config,
      outbox: this.outbox,
      clock: this.clock,
      log: log.child({ module: 'publisher' }),
      status: (state) => this.statusMessage(state),
      onLink: (connected) => this.networkCut?.onLink(connected),
      onConfig: (payload) => this.onRemoteConfig(payload),
      onUpdate: (payload) => this.updater.onOffer(payload),
      onCollectorAck: () => this.updater.onCollectorAck(),
      ...(deps.connect ? { connect: deps.connect } : {}),
    });
    this.updater = new Updater({
      config,
      running: VERSION,
      clock: this.clock,
      log: log.child({ module: 'update' }),
      report: (r) => this.reportUpdate(r),
      restart: () => {
        if (this.restarting || this.stopped) return;
        this.restarting = true;
        this.deps.onRestart?.();
      },
    });
    const emit = (ev: AgentEvent) => this.emit(ev);
    if (config.outage.enabled) {
      const intervalSeconds = config.intervalSeconds;
      this.outage = new OutageDetector({
        stateDir: config.stateDir,
        clock: this.clock,
        log: log.child({ module: 'outage' }),
        sys: this.sys,
        reader:
          deps.evidence ??
          createShutdownEvidenceReader({ platform: this.sys.platform, log: log.child({ module: 'shutdown-evidence' }), timeoutMs: config.outage.evidenceTimeoutSeconds * 1000 }),
        run: this.boot,
        // Never longer than the sampling interval: the outage start is known to within one period.
        heartbeatPeriodMs: Math.min(config.outage.heartbeatSeconds ?? intervalSeconds, intervalSeconds) * 1000,
        fsync: config.outage.heartbeatFsync,
        emit,
      });
    }
    if (config.freeze.enabled) {
      this.freeze = new FreezeDetector({
        clock: this.clock,
        log: log.child({ module: 'freeze' }),
        sys: this.sys,
        tickMs: config.freeze.tickSeconds * 1000,
        freezeMs: config.freeze.thresholdSeconds * 1000,
        clockJumpMs: config.freeze.clockJumpSeconds * 1000,
        topProcesses: config.freeze.topProcesses,
        emit,
        onFreeze: (start, end) => this.networkCut?.noteFreeze(start, end),
      });
    }
    if (config.network.enabled) {
      this.networkCut = new NetworkCutDetector({
        config,
        clock: this.clock,
        log: log.child({ module: 'network-cut' }),
        sys: this.sys,
        probe: deps.probe ?? new TcpReachabilityProbe(this.clock),
        emit,
        lastContactAt: () => this.publisher.lastContactAt(),
        freezeSettled: async () => this.freeze?.settled(),
      });
    }
    if (config.diskHealth.enabled) {
      this.diskHealth = new DiskHealthMonitor({
        clock: this.clock,
        log: log.child({ module: 'disk-health' }),
        reader: deps.diskHealth === null ? undefined : (deps.diskHealth ?? createDiskHealthReader(this.sys.platform)),
        intervalMs: config.diskHealth.intervalHours * 3600 * 1000,
        timeoutMs: config.diskHealth.timeoutSeconds * 1000,
        emit,
        stateFile: join(config.stateDir, 'disk-health.json'),
      });
    }
    this.sampler = this.buildSampler(config);
  }

  /** The sampler and its sources for `config` (rebuilt when a remote change applies live). */
  private buildSampler(config: AgentConfig): Sampler {
    const ctx = { config, clock: this.clock, log: this.log.child({ module: 'sources' }), sys: this.sys };
    return new Sampler({
      sources: createSources(ctx),
      intervalMs: config.intervalSeconds * 1000,
      clock: this.clock,
      log: this.log.child({ module: 'sampler' }),
      onSample: (t, metrics) => this.onSample(t, metrics),
      // The heartbeat in the sample's wake-up (heartbeat.ts; its own timer only when no tick comes).
      onTick: () => this.outage?.beat(),
      onTransition: (tr) =>
        this.emit({
          type: tr.state === 'unavailable' ? 'source_unavailable' : 'source_recovered',
          severity: tr.state === 'unavailable' ? 'warning' : 'info',
          message: tr.state === 'unavailable' ? `${tr.source} unavailable: ${tr.reason}` : `${tr.source} available again`,
          details: { source: tr.source },
        }),
    });
  }

  /** A message on our config topic: handled one at a time, in order. */
  private onRemoteConfig(payload: Buffer): void {
    this.remoteChain = this.remoteChain
      .then(() => this.handleRemoteConfig(payload))
      .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'remote configuration handling failed'));
  }

  private async handleRemoteConfig(payload: Buffer): Promise<void> {
    if (this.stopped || this.restarting) return;
    const msg = decodeConfigMessage(payload);
    if (typeof msg === 'string') {
      this.reportConfig('refused', 0, '', `bad message: ${msg}`);
      return;
    }
    if (this.remoteState.seen(msg)) {
      // The retained message again (a reconnect, a collector restart): nothing to do.
      this.log.info({ version: msg.version, hash: msg.hash }, 'remote configuration unchanged');
      return;
    }
    const at = this.clock.now();
    const merged = mergeRemoteConfig(this.local, msg.config);
    if (!merged.ok) {
      this.log.warn({ version: msg.version, reason: merged.reason }, 'remote configuration refused; the current one stays');
      await this.remoteState.setRefused({ version: msg.version, hash: msg.hash, reason: merged.reason, at });
      this.reportConfig('refused', msg.version, msg.hash, merged.reason);
      return;
    }
    const changed = changedKeys(this.config, merged.config);
    const restart = changed.filter((k) => !LIVE_REMOTE_KEYS.includes(k));
    // Remembered first: a restart (or a crash) starts with it.
    await this.remoteState.setApplied({ version: msg.version, hash: msg.hash, config: msg.config, at });
    if (restart.length > 0) {
      this.log.info({ version: msg.version, changed, restart }, 'remote configuration applied; restarting for keys that cannot change live');
      this.reportConfig('applied', msg.version, msg.hash, undefined, { restart: true, changed: changed.join(',') });
      this.restarting = true;
      this.deps.onRestart?.();
      return;
    }
    if (changed.length > 0) {
      const old = this.sampler;
      const c = merged.config;
      // Linux pings continuously, `ping.count` probes per interval (sampling/sources/ping.ts).
      if (c.intervalSeconds !== this.config.intervalSeconds || c.ping.count !== this.config.ping.count) this.sys.setPingProbeInterval?.(c.intervalSeconds / c.ping.count);
      this.config = merged.config;
      this.sampler = this.buildSampler(merged.config);
      await old.stop();
      if (!this.stopped) await this.sampler.start();
    }
    this.log.info({ version: msg.version, changed, intervalSeconds: this.config.intervalSeconds }, 'remote configuration applied live');
    this.reportConfig('applied', msg.version, msg.hash, undefined, { restart: false, changed: changed.join(',') });
  }

  private reportConfig(state: ConfigReportState, version: number, hash: string, reason?: string, extra: Record<string, string | boolean> = {}): void {
    this.emit({
      type: 'config',
      severity: state === 'applied' ? 'info' : 'warning',
      message: state === 'applied' ? `remote configuration ${version} applied` : `remote configuration ${version} refused: ${reason ?? ''}`.slice(0, 1024),
      details: { state, version, hash, ...(reason !== undefined ? { reason: reason.slice(0, 1000) } : {}), ...extra },
    });
  }

  private reportUpdate(r: UpdateReport): void {
    const bad = r.state === 'refused' || r.state === 'rolled_back' || r.state === 'skipped';
    const what = r.state === 'rolled_back' ? `agent update ${r.from} rolled back to ${r.version}` : `agent update ${r.version}: ${r.state}`;
    this.emit({
      type: 'update',
      severity: r.state === 'refused' || r.state === 'rolled_back' ? 'warning' : 'info',
      message: `${what}${bad && r.reason ? `: ${r.reason}` : ''}`.slice(0, 1024),
      details: { state: r.state, version: r.version, from: r.from, seq: r.seq, ...(r.reason !== undefined ? { reason: r.reason.slice(0, 1000) } : {}) },
    });
  }

  /** The configuration running now (the local file with the applied remote part on top). */
  currentConfig(): AgentConfig {
    return this.config;
  }

  private envelope(t: number): Omit<SampleMessage, 'sent' | 'interval' | 'metrics'> {
    return { v: CONTRACT_VERSION, site: this.config.site, host: this.config.host, boot: this.boot, seq: this.seq++, t };
  }

  private statusMessage(state: 'online' | 'offline'): { topic: string; payload: string } {
    const now = this.clock.now();
    const msg: StatusMessage = {
      v: CONTRACT_VERSION,
      site: this.config.site,
      host: this.config.host,
      boot: this.boot,
      // Status is not part of the outbox sequence: it carries the current counter, unconsumed.
      seq: this.seq,
      t: now,
      sent: now,
      state,
      hostname: this.config.hostname.slice(0, 256),
      agentVersion: VERSION,
      keepalive: this.config.mqtt.keepaliveSeconds,
      ...(this.osBoot ? { osBoot: this.osBoot } : {}),
    };
    return { topic: topicFor(this.config.site, this.config.host, 'status'), payload: JSON.stringify(msg) };
  }

  /** Serialise appends so sequence numbers reach the outbox in order. */
  private append(kind: 'samples' | 'events' | 'inventory', body: object): Promise<void> {
    const topic = topicFor(this.config.site, this.config.host, kind);
    const json = JSON.stringify(body);
    // The broker cuts the connection on an oversized packet and the outbox would resend it
    // on every reconnect: never let one in (limits.ts; `sent` adds < 32 bytes).
    if (Buffer.byteLength(json) + 32 > maxBytesFor(kind)) {
      this.log.error({ kind, bytes: Buffer.byteLength(json), limit: maxBytesFor(kind) }, 'message larger than the contract allows; dropped');
      return Promise.resolve();
    }
    const p = this.appendChain.then(() => this.publisher.enqueue(topic, json));
    this.appendChain = p.catch((err: unknown) => this.log.error({ err: (err as Error).message, kind }, 'outbox append failed; message lost'));
    return p.then(() => undefined);
  }

  private onSample(t: number, metrics: SampleMetrics): void {
    const up = metrics.uptime;
    if (up && 'bootTime' in up) this.osBoot = up.bootTime;
    const power = metrics.power;
    if (power && 'source' in power) {
      const ev = this.powerWatch.next(power, t);
      if (ev) this.emit(ev);
    }
    const msg: Omit<SampleMessage, 'sent'> = { ...this.envelope(t), interval: this.config.intervalSeconds, metrics };
    void this.append('samples', msg).catch(() => undefined);
  }

  emit(ev: AgentEvent): void {
    const msg: Omit<EventMessage, 'sent'> = { ...this.envelope(this.clock.now()), ...ev };
    void this.append('events', msg).catch(() => undefined);
  }

  private async sendInventory(): Promise<void> {
    try {
      const inv = await collectInventory(this.sys, VERSION, this.config.hostname);
      const msg: Omit<InventoryMessage, 'sent'> = { ...this.envelope(this.clock.now()), ...inv };
      await this.append('inventory', msg);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'inventory failed; will retry at the next inventory interval');
    }
  }

  async start(): Promise<void> {
    // Before anything writes into it: 0700 (SYSTEM/Administrators on Windows), files 0600.
    await makePrivateDir(this.config.stateDir, { log: this.log });
    await this.sys.start?.();
    await this.outbox.open();
    try {
      // Known before the birth message, so the collector sees the OS boot at once.
      this.osBoot = bootTimeFrom(this.clock.now(), await this.sys.uptimeSeconds());
    } catch {
      this.osBoot = undefined;
    }
    const st = this.outbox.stats();
    this.log.info(
      { site: this.config.site, host: this.config.host, boot: this.boot, intervalSeconds: this.config.intervalSeconds, backlog: st.records, truncatedBytes: st.truncatedBytes },
      'agent starting',
    );
    // Before anything else writes a heartbeat: the previous run's one is read first.
    await this.outage?.start();
    this.networkCut?.start();
    // Before the first ack can arrive: a version on trial confirms at it.
    await this.updater.start();
    this.publisher.start();
    this.emit({ type: 'agent_start', severity: 'info', message: `agent ${VERSION} started`, details: { version: VERSION, backlog: st.records } });
    await this.sampler.start();
    await this.freeze?.start();
    void this.sendInventory();
    this.diskHealth?.start();
    const every = this.config.inventory.intervalHours * 3600 * 1000;
    this.inventoryTimer = this.clock.setInterval(() => void this.sendInventory(), every);
  }

  async stop(): Promise<void> {
    // The clean-shutdown marker first: the rest of the stop may be cut short (OS shutdown).
    await this.outage?.stop();
    this.stopped = true;
    await this.remoteChain;
    await this.updater.stop();
    await this.freeze?.stop();
    await this.diskHealth?.stop();
    await this.networkCut?.stop();
    this.clock.clear(this.inventoryTimer);
    await this.sampler.stop();
    this.emit({ type: 'agent_stop', severity: 'info', message: 'agent stopped cleanly' });
    await this.appendChain;
    await this.publisher.stop();
    await this.outbox.close();
    await this.sys.stop?.();
    this.log.info('agent stopped');
  }

  publisherStats() {
    return this.publisher.stats();
  }
}
