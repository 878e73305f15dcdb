import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { ALL_TOPICS } from '../../contract/topics.js';
import { StoreUnavailableError, type Ingest } from '../ingest/ingest.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';

export interface BrokerSubscriberOptions {
  url: string;
  username: string;
  password: string;
  clientId: string;
  /** MQTT 5 shared subscription group (`$share/<group>/…`) to split load across collectors. */
  shareGroup?: string | undefined;
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined; rejectUnauthorized: boolean } | undefined;
  ingest: Ingest;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
}

/**
 * Ingest from an external broker (Mosquitto, EMQX). A persistent session (clean start
 * off, long session expiry) keeps QoS 1 messages queued at the broker while the
 * collector is down; each message is acked only after the store took it
 * (`handleMessage` runs before mqtt.js sends the PUBACK).
 */
export class BrokerSubscriber {
  private client: MqttClient | undefined;
  private connected = false;
  private retryTimer: TimerHandle | undefined;
  private stopping = false;

  constructor(private readonly opts: BrokerSubscriberOptions) {
    opts.metrics.gauge('canh_broker_connected', '1 when the collector is connected to the external broker.', (g) => g.set(this.connected ? 1 : 0));
  }

  isConnected(): boolean {
    return this.connected;
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.connect();
  }

  private connect(): void {
    const { opts } = this;
    const tls = opts.tls;
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: opts.clientId,
      username: opts.username,
      password: opts.password,
      clean: false,
      properties: { sessionExpiryInterval: 7 * 24 * 3600 },
      keepalive: 30,
      reconnectPeriod: 2000,
      connectTimeout: 15_000,
      ...(tls?.caFile ? { ca: readFileSync(tls.caFile) } : {}),
      ...(tls?.certFile ? { cert: readFileSync(tls.certFile) } : {}),
      ...(tls?.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
      rejectUnauthorized: tls?.rejectUnauthorized ?? true,
    };
    const client = mqtt.connect(opts.url, options);
    this.client = client;
    // mqtt.js sends the PUBACK only after handleMessage's callback: ack after store.
    client.handleMessage = (packet, done) => {
      try {
        opts.ingest.handle(packet.topic, packet.payload as Buffer, { via: 'external' });
        done();
      } catch (err) {
        // Store down: leave the message unacked and reconnect later so the broker redelivers.
        done(err as Error);
        this.restartLater(err);
      }
    };
    const filter = opts.shareGroup ? `$share/${opts.shareGroup}/${ALL_TOPICS}` : ALL_TOPICS;
    client.on('connect', (connack) => {
      this.connected = true;
      opts.log.info({ url: redactUrl(opts.url), sessionPresent: connack.sessionPresent }, 'connected to external broker');
      // Subscribe even when the session is present: cheap, and covers a broker that lost it.
      client.subscribe(filter, { qos: 1 }, (err, granted) => {
        if (err) opts.log.error({ err: err.message }, 'subscribe failed');
        else if (granted?.some((g) => g.qos > 2)) opts.log.error({ filter }, 'subscription refused by the broker (check the collector ACL)');
      });
    });
    client.on('close', () => {
      if (this.connected) opts.log.warn('disconnected from external broker; reconnecting');
      this.connected = false;
    });
    client.on('error', (err) => {
      if (!(err instanceof StoreUnavailableError)) opts.log.warn({ err: err.message }, 'external broker error');
    });
  }

  private restartLater(err: unknown): void {
    if (this.retryTimer || this.stopping) return;
    this.opts.log.error({ err: (err as Error).message }, 'store unavailable: disconnecting from broker, retrying in 5 s');
    this.client?.end(true);
    this.client = undefined;
    this.connected = false;
    this.retryTimer = this.opts.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopping) this.connect();
    }, 5000);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.opts.clock.clear(this.retryTimer);
    const c = this.client;
    this.client = undefined;
    if (c) await c.endAsync();
    this.connected = false;
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[invalid url]';
  }
}
