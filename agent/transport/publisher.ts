import { readFileSync } from 'node:fs';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { RateLimitedLog } from '../../common/log.js';
import type { AgentConfig } from '../config.js';
import { connectMqtt } from './mqtt-connect.js';
import type { Outbox } from './outbox.js';

export type ConnectFn = (url: string, opts: IClientOptions) => MqttClient | Promise<MqttClient>;

export interface PublisherOptions {
  config: AgentConfig;
  outbox: Outbox;
  clock: Clock;
  log: Logger;
  /** Topic and JSON of the status message (birth when `online`, Last Will when `offline`). */
  status: (state: 'online' | 'offline') => { topic: string; payload: string };
  connect?: ConnectFn;
  /** Delay before resending messages the broker accepted with "no matching subscribers". */
  noSubscriberRetryMs?: number;
  /** Told when the broker connection comes up (true) or goes down (false), e.g. network-cut-detector.ts. */
  onLink?: (connected: boolean) => void;
}

export interface PublisherStats {
  connected: boolean;
  protocolVersion: 4 | 5;
  published: number;
  acked: number;
  publishErrors: number;
  /** PUBACKs with reason 0x10 "no matching subscribers": kept and sent again. */
  noSubscribers: number;
  handed: number;
  replaying: boolean;
}

/** Append `"sent":<now>` to a JSON object text that was stored without it. */
export function withSendTime(body: string, sent: number): string {
  return `${body.slice(0, -1)},"sent":${sent}}`;
}

/**
 * Sends the outbox over MQTT (QoS 1, persistent session) and acks records on PUBACK.
 *
 * Scheduling: a record appended while connected is published at once ("live"); records
 * left from a disconnection or a previous run ("backlog") are replayed from the oldest,
 * in order, at `mqtt.replayPerSecond`, interleaved with live ones so a week of backlog
 * never delays the current sample. The send time is stamped at publish, so the
 * collector can tell clock skew from transit time.
 */
export class Publisher {
  private client: MqttClient | undefined;
  private connected = false;
  private protocolVersion: 4 | 5;
  /** Ids handed to mqtt.js and not yet called back. */
  private readonly handed = new Set<number>();
  /** Live records waiting for a window slot (kept in memory to avoid a disk read). */
  private readonly live: Array<{ id: number; topic: string; body: string }> = [];
  private replayFrom: number | undefined;
  private replayTokens = 0;
  private replayRefillAt = 0;
  private pumpTimer: TimerHandle | undefined;
  private reading = false;
  private stopping = false;
  private stats_ = { published: 0, acked: 0, publishErrors: 0, noSubscribers: 0 };
  /** Message ids whose PUBACK said "no matching subscribers" (MQTT 5 reason 0x10). */
  private readonly noSubscriber = new Set<number>();
  private rewindTimer: TimerHandle | undefined;
  private readonly errLog: RateLimitedLog;
  /** Wall time of the last packet from the broker (where a network cut starts). */
  private lastContact: number | undefined;

  constructor(private readonly opts: PublisherOptions) {
    this.protocolVersion = opts.config.mqtt.protocolVersion;
    this.errLog = new RateLimitedLog(opts.log, 30_000, () => opts.clock.now());
  }

  stats(): PublisherStats {
    return {
      connected: this.connected,
      protocolVersion: this.protocolVersion,
      ...this.stats_,
      handed: this.handed.size,
      replaying: this.replayFrom !== undefined,
    };
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** Wall time of the last packet received from the broker; undefined before the first. */
  lastContactAt(): number | undefined {
    return this.lastContact;
  }

  start(): void {
    this.stopping = false;
    this.connect();
  }

  private clientOptions(): IClientOptions {
    const { config } = this.opts;
    const m = config.mqtt;
    const will = this.opts.status('offline');
    const v5 = this.protocolVersion === 5;
    return {
      protocolVersion: this.protocolVersion,
      clientId: `canh-${config.site}-${config.host}`.slice(0, 23 * 4),
      username: m.username ?? `${config.site}.${config.host}`,
      password: m.password,
      clean: false,
      ...(v5 ? { properties: { sessionExpiryInterval: 24 * 3600 } } : {}),
      keepalive: m.keepaliveSeconds,
      connectTimeout: m.connectTimeoutSeconds * 1000,
      reconnectPeriod: Math.round(m.reconnectSeconds * 1000),
      queueQoSZero: false,
      // mqtt-packet otherwise pre-builds 65,536 two-byte Buffers (~6 MB of heap) to save
      // an allocation per packet; the agent sends a few packets a minute.
      writeCache: false,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
      ...(m.tls.caFile ? { ca: readFileSync(m.tls.caFile) } : {}),
      ...(m.tls.certFile ? { cert: readFileSync(m.tls.certFile) } : {}),
      ...(m.tls.keyFile ? { key: readFileSync(m.tls.keyFile) } : {}),
      rejectUnauthorized: m.tls.rejectUnauthorized,
    };
  }

  private connect(): void {
    const connectFn = this.opts.connect ?? connectMqtt;
    const made = connectFn(this.opts.config.mqtt.url, this.clientOptions());
    if (made instanceof Promise) {
      made.then(
        (c) => (this.stopping ? c.end(true) : this.attach(c)),
        (err: unknown) => this.opts.log.error({ err: (err as Error).message }, 'cannot create the MQTT client'),
      );
    } else {
      this.attach(made);
    }
  }

  private attach(client: MqttClient): void {
    this.client = client;
    const { log } = this.opts;
    let failures = 0;
    // MQTT 5 [MQTT-3.4.2.2]: a broker answers PUBACK 0x10 when nobody is subscribed, e.g.
    // Mosquitto restarted and the collector has not resubscribed yet. mqtt.js reports that
    // as success; for Canh it means "not delivered": keep the record and send it again.
    client.on('packetreceive', (packet) => {
      this.lastContact = this.opts.clock.now();
      if (packet.cmd === 'puback' && packet.reasonCode === 0x10 && packet.messageId !== undefined) this.noSubscriber.add(packet.messageId);
    });
    client.on('connect', (connack) => {
      failures = 0;
      this.connected = true;
      log.info({ protocolVersion: this.protocolVersion, sessionPresent: connack.sessionPresent }, 'connected to broker');
      // Birth message, retained: the collector sees "online" with our boot and OS boot time.
      const birth = this.opts.status('online');
      client.publish(birth.topic, birth.payload, { qos: 1, retain: true }, (err) => {
        if (err) log.warn({ err: err.message }, 'birth message failed');
      });
      const st = this.opts.outbox.stats();
      this.replayFrom = st.firstUnacked;
      this.replayTokens = 0;
      this.replayRefillAt = this.opts.clock.monotonic();
      this.schedulePump(0);
      this.opts.onLink?.(true);
    });
    client.on('close', () => {
      if (this.connected) log.warn('disconnected from broker; samples stay in the outbox');
      this.connected = false;
      this.live.length = 0;
      this.replayFrom = undefined;
      this.noSubscriber.clear(); // message ids are per connection
      failures++;
      if (!this.stopping) this.opts.onLink?.(false);
      // Back off exponentially while the broker stays away (bounded), with jitter so a
      // whole site's PCs coming back after a power cut do not reconnect in lockstep.
      if (!this.stopping && this.client === client) {
        const m = this.opts.config.mqtt;
        const delay = Math.min(m.reconnectMaxSeconds * 1000, m.reconnectSeconds * 1000 * 2 ** Math.min(failures - 1, 16));
        client.options.reconnectPeriod = Math.max(100, Math.round(delay * (0.8 + 0.4 * Math.random())));
      }
    });
    client.on('error', (err: Error & { code?: number }) => {
      if (this.protocolVersion === 5 && (err.code === 1 || err.code === 132 || /unacceptable protocol version|unsupported protocol/i.test(err.message))) {
        log.info('broker does not speak MQTT 5; falling back to MQTT 3.1.1');
        this.protocolVersion = 4;
        this.client = undefined;
        client.end(true, () => {
          if (!this.stopping) this.connect();
        });
        return;
      }
      this.errLog.warn(`mqtt:${err.code ?? err.message}`, { err: err.message, code: err.code }, 'MQTT error');
    });
  }

  /**
   * Append a message to the outbox (durably, per the fsync policy) and send it when
   * possible. `body` is the message JSON without `sent`.
   */
  async enqueue(topic: string, body: string): Promise<number> {
    const id = await this.opts.outbox.append(topic, Buffer.from(body));
    if (this.connected) {
      this.live.push({ id, topic, body });
      if (this.live.length > 1000) this.live.shift(); // bounded: the rest is replayed from disk
      this.schedulePump(0);
    }
    return id;
  }

  /** Replay again from the oldest unacknowledged record after a pause. */
  private scheduleRewind(): void {
    if (this.rewindTimer) return;
    this.rewindTimer = this.opts.clock.setTimeout(() => {
      this.rewindTimer = undefined;
      if (!this.connected) return; // the next connection replays from the oldest anyway
      const first = this.opts.outbox.stats().firstUnacked;
      if (first !== undefined && (this.replayFrom === undefined || first < this.replayFrom)) this.replayFrom = first;
      this.schedulePump(0);
    }, this.opts.noSubscriberRetryMs ?? 5000);
  }

  private schedulePump(ms: number): void {
    if (this.pumpTimer) return;
    this.pumpTimer = this.opts.clock.setTimeout(() => {
      this.pumpTimer = undefined;
      void this.pump();
    }, ms);
  }

  private send(id: number, topic: string, body: string): void {
    const client = this.client;
    if (!client || !this.connected) return;
    this.handed.add(id);
    this.stats_.published++;
    client.publish(topic, withSendTime(body, this.opts.clock.now()), { qos: 1 }, (err, packet) => {
      this.handed.delete(id);
      if (err) {
        this.stats_.publishErrors++;
        this.errLog.warn('publish', { err: err.message }, 'publish not acknowledged; will resend');
        return;
      }
      const messageId = (packet as { messageId?: number } | undefined)?.messageId;
      if (messageId !== undefined && this.noSubscriber.delete(messageId)) {
        this.stats_.noSubscribers++;
        this.errLog.warn('no-subscriber', {}, 'broker has no subscriber for our messages (collector not connected?); keeping them to send again');
        this.scheduleRewind();
        return;
      }
      this.stats_.acked++;
      this.opts.outbox.ack(id);
      if (this.connected && (this.replayFrom !== undefined || this.live.length)) this.schedulePump(0);
    });
  }

  private async pump(): Promise<void> {
    if (!this.connected || this.reading) return;
    const window = this.opts.config.mqtt.inflight;
    // Live first: at most `window` in flight, plus a few reserved so live always moves.
    while (this.live.length && this.handed.size < window + 4) {
      const rec = this.live.shift()!;
      if (!this.handed.has(rec.id) && !this.opts.outbox.isAcked(rec.id)) this.send(rec.id, rec.topic, rec.body);
    }
    if (this.replayFrom === undefined) return;
    const now = this.opts.clock.monotonic();
    const rate = this.opts.config.mqtt.replayPerSecond;
    this.replayTokens = Math.min(rate, this.replayTokens + ((now - this.replayRefillAt) / 1000) * rate);
    this.replayRefillAt = now;
    const budget = Math.min(Math.floor(this.replayTokens), window - this.handed.size);
    if (budget > 0) {
      this.reading = true;
      try {
        const from = this.replayFrom;
        const records = await this.opts.outbox.read(from, budget, 4 * 1024 * 1024);
        if (this.replayFrom === from && this.connected) {
          for (const r of records) {
            this.replayFrom = r.id + 1;
            if (this.handed.has(r.id) || this.opts.outbox.isAcked(r.id)) continue;
            this.replayTokens--;
            this.send(r.id, r.topic, r.payload.toString('utf8'));
          }
          if (records.length < budget) {
            this.replayFrom = undefined; // caught up: new records go live
            this.opts.log.debug('outbox backlog replayed');
          }
        }
      } catch (err) {
        this.errLog.warn('replay', { err: (err as Error).message }, 'outbox read failed');
      } finally {
        this.reading = false;
      }
    }
    if (this.replayFrom !== undefined) this.schedulePump(50);
  }

  /** Publish "offline" (clean stop), wait briefly for in-flight acks, and disconnect. */
  async stop(timeoutMs = 3000): Promise<void> {
    // Send what is queued live (e.g. the agent_stop event) before we stop pumping.
    this.opts.clock.clear(this.rewindTimer);
    this.rewindTimer = undefined;
    this.opts.clock.clear(this.pumpTimer);
    this.pumpTimer = undefined;
    if (this.connected) await this.pump();
    this.stopping = true;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.connected) {
      const off = this.opts.status('offline');
      await new Promise<void>((resolve) => {
        const timer = this.opts.clock.setTimeout(resolve, timeoutMs);
        client.publish(off.topic, off.payload, { qos: 1, retain: true }, () => {
          this.opts.clock.clear(timer);
          resolve();
        });
      });
      const deadline = this.opts.clock.monotonic() + timeoutMs;
      while (this.handed.size > 0 && this.opts.clock.monotonic() < deadline) await this.opts.clock.sleep(20);
    }
    this.connected = false;
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }
}
