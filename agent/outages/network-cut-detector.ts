import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { NetworkCutScope } from '../../contract/schemas.js';
import type { EmitEvent } from '../agent-event.js';
import type { AgentConfig } from '../config.js';
import { parseHostPort, type ReachabilityProbe } from './reachability.js';
import type { GatewayLookup } from '../platform/system-info.js';

/**
 * Network-cut diagnosis (issue 3): while the broker is unreachable, probe the default
 * gateway, the configured internet targets and the broker's own port every
 * `network.probeSeconds`, and when the link returns report one `network_cut` event:
 * - `details.scope`: `lan` (the gateway did not answer), `wan` (the gateway answered, the
 *   internet did not), `broker` (both answered: only the broker/collector was away), or
 *   `unknown` (no probe finished); the scope seen in most probe rounds, ties to the deeper;
 * - `start`: the last packet from the broker; `end`: the first probe that reached the broker
 *   port again, else the reconnection;
 * - `details.probesLan|probesWan|probesBroker`: rounds per verdict.
 * The samples of the gap are in the outbox already and follow the event.
 */

/** One probe round → scope. Pure. `gateway` null: no default route at all (a LAN cut too). */
export function cutScope(gateway: boolean | null, internet: boolean): Exclude<NetworkCutScope, 'unknown'> {
  if (gateway !== true) return 'lan';
  return internet ? 'broker' : 'wan';
}

/** The scope of a whole cut from its rounds. Pure. */
export function overallScope(counts: Record<'lan' | 'wan' | 'broker', number>): NetworkCutScope {
  const order = ['lan', 'wan', 'broker'] as const;
  let best: NetworkCutScope = 'unknown';
  let bestN = 0;
  for (const s of order) {
    if (counts[s] > bestN) {
      best = s;
      bestN = counts[s];
    }
  }
  return best;
}

/** Host and port of the broker from the MQTT URL (defaults per scheme). */
export function brokerEndpoint(url: string): { host: string; port: number } | null {
  try {
    const u = new URL(url);
    const defaults: Record<string, number> = { 'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ssl:': 8883, 'ws:': 80, 'wss:': 443 };
    const port = u.port ? Number(u.port) : defaults[u.protocol];
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return host && port ? { host, port } : null;
  } catch {
    return null;
  }
}

export interface NetworkCutDetectorOptions {
  config: AgentConfig;
  clock: Clock;
  log: Logger;
  sys: GatewayLookup;
  probe: ReachabilityProbe;
  emit: EmitEvent;
  /** Wall time of the last packet from the broker (publisher.ts). */
  lastContactAt: () => number | undefined;
  /** Resolves once a late tick being judged is judged (freeze-detector.ts), so a freeze is known first. */
  freezeSettled?: () => Promise<void>;
}

interface Cut {
  start: number;
  sinceAgentStart: boolean;
  counts: Record<'lan' | 'wan' | 'broker', number>;
  gatewaySeen: string | null;
  brokerBackAt: number | undefined;
  timer: TimerHandle | undefined;
  probing: Promise<void> | undefined;
}

export class NetworkCutDetector {
  private cut: Cut | undefined;
  /** The last freeze (freeze-detector.ts): a link lost while the PC was frozen is no network cut. */
  private lastFreeze: { start: number; end: number } | undefined;
  private stopped = false;
  private readonly broker: { host: string; port: number } | null;

  constructor(private readonly opts: NetworkCutDetectorOptions) {
    this.broker = brokerEndpoint(opts.config.mqtt.url);
  }

  /** At agent start: not connected yet, so "down" from now until the first connection. */
  start(): void {
    this.stopped = false;
    this.begin(this.opts.clock.now(), true);
  }

  /** A freeze happened (the broker dropped us meanwhile: keepalive unanswered, not the network). */
  noteFreeze(start: number, end: number): void {
    this.lastFreeze = { start, end };
  }

  /** The publisher's link changed. */
  onLink(connected: boolean): void {
    if (this.stopped) return;
    if (!connected) {
      if (!this.cut) this.begin(this.opts.lastContactAt() ?? this.opts.clock.now(), false);
      return;
    }
    const cut = this.cut;
    if (!cut) return;
    this.cut = undefined;
    this.opts.clock.clear(cut.timer);
    void this.finish(cut);
  }

  private begin(start: number, sinceAgentStart: boolean): void {
    const cut: Cut = { start, sinceAgentStart, counts: { lan: 0, wan: 0, broker: 0 }, gatewaySeen: null, brokerBackAt: undefined, timer: undefined, probing: undefined };
    this.cut = cut;
    // The first round right away when the link dropped; at start give the first connection a chance.
    const first = sinceAgentStart ? this.opts.config.network.probeSeconds * 1000 : 0;
    const loop = () => {
      if (this.cut !== cut) return;
      cut.probing = this.round(cut).finally(() => {
        cut.probing = undefined;
        if (this.cut === cut) cut.timer = this.opts.clock.setTimeout(loop, this.opts.config.network.probeSeconds * 1000);
      });
    };
    cut.timer = this.opts.clock.setTimeout(loop, first);
  }

  private async gatewayReachable(timeoutMs: number): Promise<{ gateway: string | null; ok: boolean | null }> {
    let gateway: string | null = null;
    try {
      gateway = await this.opts.sys.defaultGateway();
    } catch {
      gateway = null;
    }
    if (!gateway) return { gateway: null, ok: null };
    const results = await Promise.all(this.opts.config.network.gatewayPorts.map((p) => this.opts.probe.reachable(gateway, p, timeoutMs)));
    return { gateway, ok: results.some(Boolean) };
  }

  private async round(cut: Cut): Promise<void> {
    const n = this.opts.config.network;
    const timeoutMs = n.probeTimeoutSeconds * 1000;
    const targets = n.internetTargets.map(parseHostPort).filter((t): t is { host: string; port: number } => t !== null);
    const [gw, internet, broker] = await Promise.all([
      this.gatewayReachable(timeoutMs),
      Promise.all(targets.map((t) => this.opts.probe.reachable(t.host, t.port, timeoutMs))).then((r) => r.some(Boolean)),
      this.broker ? this.opts.probe.reachable(this.broker.host, this.broker.port, timeoutMs) : Promise.resolve(false),
    ]);
    if (this.cut !== cut) return;
    cut.gatewaySeen = gw.gateway ?? cut.gatewaySeen;
    if (broker) {
      // The broker's port answers again: the link is back, MQTT has yet to reconnect.
      cut.brokerBackAt ??= this.opts.clock.now();
      return;
    }
    cut.brokerBackAt = undefined;
    const scope = cutScope(gw.ok, internet);
    cut.counts[scope]++;
    this.opts.log.debug({ scope, gateway: gw.gateway, gatewayOk: gw.ok, internet }, 'network probe while the broker is unreachable');
  }

  private async finish(cut: Cut): Promise<void> {
    await cut.probing;
    await this.opts.freezeSettled?.().catch(() => undefined);
    const now = this.opts.clock.now();
    const end = cut.brokerBackAt !== undefined && cut.brokerBackAt < now ? cut.brokerBackAt : now;
    const durationMs = Math.max(0, end - cut.start);
    if (durationMs < this.opts.config.network.minCutSeconds * 1000) return;
    const scope = overallScope(cut.counts);
    const f = this.lastFreeze;
    const slack = Math.max(this.opts.config.intervalSeconds, this.opts.config.mqtt.keepaliveSeconds) * 1000;
    if (f && cut.start >= f.start - slack && cut.start <= f.end && cut.counts.lan === 0 && cut.counts.wan === 0) {
      // The freeze event explains the gap; the probes found the network whole.
      this.opts.log.info({ start: cut.start, end, freezeStart: f.start, freezeEnd: f.end }, 'broker link lost during a freeze: not a network cut');
      return;
    }
    this.opts.log.info({ scope, start: cut.start, end, durationMs, ...cut.counts }, 'network cut over: reporting');
    const text: Record<NetworkCutScope, string> = {
      lan: 'local network cut (the gateway did not answer)',
      wan: 'internet cut (the gateway answered, the internet did not)',
      broker: 'the collector was unreachable (the gateway and the internet answered)',
      unknown: 'the collector was unreachable',
    };
    this.opts.emit({
      type: 'network_cut',
      severity: 'warning',
      message: text[scope],
      start: Math.round(cut.start),
      end: Math.round(end),
      details: {
        scope,
        durationMs: Math.round(durationMs),
        probesLan: cut.counts.lan,
        probesWan: cut.counts.wan,
        probesBroker: cut.counts.broker,
        gateway: cut.gatewaySeen,
        sinceAgentStart: cut.sinceAgentStart,
        uncertaintyMs: Math.round(Math.max(this.opts.config.intervalSeconds, this.opts.config.network.probeSeconds) * 1000),
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const cut = this.cut;
    this.cut = undefined;
    if (cut) {
      this.opts.clock.clear(cut.timer);
      await cut.probing;
    }
  }
}
