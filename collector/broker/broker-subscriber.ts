import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { DATA_TOPIC_FILTERS } from '../../contract/topics.js';
import type { IngestQueue } from './embedded-broker.js';
import type { AckPublisher } from '../ingest/group-commit.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';

export interface BrokerSubscriberOptions {
  url: string;
  username: string;
  password: string;
  clientId: string;
  /** MQTT 5 shared subscription group (`$share/<group>/…`) to split load across collectors. */
  shareGroup?: string | undefined;
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined; rejectUnauthorized: boolean } | undefined;
  /** The group commit: stores, then acks end to end (ingest/group-commit.ts). */
  commit: IngestQueue;
  /** MQTT 5 receive maximum: QoS 1 messages the broker may have in flight to us (bounds our memory). */
  receiveMaximum?: number;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** Called on every (re)connection: the remote configurations are published again (retained, idempotent). */
  onConnect?: (() => void) | undefined;
}

/**
 * Ingest from an external broker (Mosquitto, EMQX). Messages go to the group commit, which
 * acks them end to end to their agents after the commit (published here, QoS 0, on
 * `canh/v1/<site>/<host>/ack`). The broker's PUBACK is transport: the persistent session
 * may hold messages while the collector is away, but nothing depends on it (the agents
 * keep every record until acked). Memory is bounded: the broker may have at most
 * `receiveMaximum` messages in flight to us, and while the group commit's queue is full,
 * mqtt.js stops reading (the next message waits for the previous one's callback).
 */
export class BrokerSubscriber implements AckPublisher {
  private client: MqttClient | undefined;
  private connected = false;
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
      properties: { sessionExpiryInterval: 7 * 24 * 3600, receiveMaximum: opts.receiveMaximum ?? 1000 },
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
    // mqtt.js reads the next packet only after handleMessage's callback: a full queue pushes back.
    client.handleMessage = (packet, done) => {
      const wait = opts.commit.submit(packet.topic, packet.payload as Buffer, { via: 'external' });
      if (wait)
        wait.then(
          () => done(),
          (err: unknown) => done(err as Error),
        );
      else done();
    };
    const filters = DATA_TOPIC_FILTERS.map((f) => (opts.shareGroup ? `$share/${opts.shareGroup}/${f}` : f));
    client.on('connect', (connack) => {
      this.connected = true;
      opts.log.info({ url: redactUrl(opts.url), sessionPresent: connack.sessionPresent }, 'connected to external broker');
      // Subscribe even when the session is present: cheap, and covers a broker that lost it.
      client.subscribe(filters, { qos: 1 }, (err, granted) => {
        if (err) opts.log.error({ err: err.message }, 'subscribe failed');
        else if (granted?.some((g) => g.qos > 2)) opts.log.error({ filters }, 'subscription refused by the broker (check the collector ACL)');
      });
      opts.onConnect?.();
    });
    client.on('close', () => {
      if (this.connected) opts.log.warn('disconnected from external broker; reconnecting');
      this.connected = false;
    });
    client.on('error', (err) => opts.log.warn({ err: err.message }, 'external broker error'));
  }

  /** Publish an end-to-end ack (QoS 0); false while disconnected (the agent sends again). */
  publishAck(topic: string, payload: string): boolean {
    const c = this.client;
    if (!c || !this.connected) return false;
    c.publish(topic, payload, { qos: 0 }, () => {});
    return true;
  }

  /** Publish a remote configuration (QoS 1, retained); false while disconnected (sent again at the next connect). */
  publishConfig(topic: string, payload: string): boolean {
    const c = this.client;
    if (!c || !this.connected) return false;
    c.publish(topic, payload, { qos: 1, retain: true }, (err) => {
      if (err) this.opts.log.warn({ topic, err: err.message }, 'remote configuration publish failed');
    });
    return true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
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
