import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient, type IClientOptions, type ISubscriptionMap } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { DATA_TOPIC_FILTERS, TOPIC_PREFIX } from '../../contract/topics.js';
import type { IngestQueue } from './embedded-broker.js';
import type { AckPublisher } from '../ingest/group-commit.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';
import type { BrokerLinkSink } from '../health/broker-link.js';

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
  /** Told when the link is down and up again (collector/health/broker-link.ts): a silence proves nothing meanwhile. */
  link?: BrokerLinkSink | undefined;
  /** MQTT keepalive towards the broker (default 30 s). */
  keepaliveSeconds?: number | undefined;
  /** Bytes of end-to-end acks that may wait in the socket's write buffer; beyond, acks are dropped (counted; the agent sends again). Default 8 MiB. */
  ackBufferBytes?: number | undefined;
  /** Called on every (re)connection: the remote configurations are published again (retained, idempotent). */
  onConnect?: (() => void) | undefined;
  /** Least time between two re-reads of the retained status messages ({@link BrokerSubscriber.rereadStatus}); default 60 s. */
  statusRereadMinMs?: number | undefined;
}

/** The retained birth / Last Will of every agent (contract/topics.ts). */
export const STATUS_FILTER = `${TOPIC_PREFIX}/+/+/status`;

/**
 * Ingest from an external broker (Mosquitto, EMQX). Messages go to the group commit, which
 * acks them end to end to their agents after the commit (published here, QoS 0, on
 * `canh/v1/<site>/<host>/ack`). The broker's PUBACK is transport: the persistent session
 * may hold messages while the collector is away, but nothing depends on it (the agents
 * keep every record until acked). Memory is bounded: the broker may have at most
 * `receiveMaximum` messages in flight to us, and while the group commit's queue is full,
 * mqtt.js stops reading (the next message waits for the previous one's callback).
 */
/** Why the statuses are read again: an ingest saturation ended, or a PC went silent with no will heard. */
export type StatusRereadReason = 'saturation' | 'silence';

export class BrokerSubscriber implements AckPublisher {
  private client: MqttClient | undefined;
  private connected = false;
  private stopping = false;
  /** When the keepalive was last pushed back by a received message (throttled to once a second). */
  private lastAlive = 0;
  /** Wall time the broker was last heard from (a message, a CONNACK), to the second. */
  private lastHeard: number | undefined;
  /** Monotonic time of the last status re-read, and the one waiting for its turn. */
  private lastReread = -Infinity;
  private readonly rereads: Counter;
  private rereadTimer: TimerHandle | undefined;

  constructor(private readonly opts: BrokerSubscriberOptions) {
    opts.metrics.gauge('canh_broker_connected', '1 when the collector is connected to the external broker.', (g) => g.set(this.connected ? 1 : 0));
    this.rereads = opts.metrics.counter(
      'canh_broker_status_rereads_total',
      'Re-reads of the retained status messages (births, Last Wills), by reason: an ingest saturation ended (saturation), a PC went silent with no will heard (silence).',
    );
  }

  /**
   * Read every agent's retained status (birth or Last Will) again, by subscribing to the
   * status filter again: the broker then re-sends the retained messages (MQTT 3.1.1
   * §3.8.4, MQTT 5 Retain Handling 0). Called when an ingest saturation ends: meanwhile the
   * broker may have dropped messages over `max_queued_messages` for the collector, the
   * agents' records come again (kept until acked), but a Last Will is sent once — a power
   * cut of many sites during a province's replay went unseen. At most once per
   * `statusRereadMinMs` (a late call waits for its turn; one waits at most). Not for a
   * shared subscription, which gets no retained messages.
   */
  rereadStatus(reason: StatusRereadReason = 'saturation'): void {
    const { opts } = this;
    if (opts.shareGroup || this.rereadTimer !== undefined || this.stopping) return;
    const wait = this.lastReread + (opts.statusRereadMinMs ?? 60_000) - opts.clock.monotonic();
    if (wait > 0) {
      this.rereadTimer = opts.clock.setTimeout(() => {
        this.rereadTimer = undefined;
        this.rereadStatus(reason);
      }, wait);
      return;
    }
    const c = this.client;
    if (!c || !this.connected) return; // a (re)connect subscribes anyway, and gets them all
    this.lastReread = opts.clock.monotonic();
    this.rereads.inc({ reason });
    opts.log.info(
      { reason },
      reason === 'saturation'
        ? "re-reading the agents' retained status messages (the broker may have dropped some while ingest was saturated)"
        : "re-reading the agents' retained status messages (a PC went silent with no Last Will heard: the broker may have dropped it)",
    );
    // mqtt.js skips a filter it holds already unless asked to send the SUBSCRIBE again
    // (`resubscribe` in the map, read by its subscribe() but missing from its types).
    const again = { [STATUS_FILTER]: { qos: 1 }, resubscribe: true } as unknown as ISubscriptionMap;
    c.subscribe(again, (err) => {
      if (err) opts.log.warn({ err: err.message }, 'status re-read: subscribe failed');
    });
  }

  isConnected(): boolean {
    return this.connected;
  }

  async start(): Promise<void> {
    this.stopping = false;
    // Until the first CONNACK the collector hears nobody.
    this.opts.link?.linkDown();
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
      keepalive: opts.keepaliveSeconds ?? 30,
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
      // Any packet from the broker proves the link alive. mqtt.js counts only PINGRESP and
      // acks of our own publishes, and a PINGRESP queued behind the PUBLISHes we are slow to
      // take (back-pressure) made the collector time out its own link while replaying a
      // province's backlog: it then heard nobody, and silent sites looked cut.
      const now = opts.clock.monotonic();
      if (now - this.lastAlive >= 1000) {
        this.lastAlive = now;
        this.lastHeard = opts.clock.now();
        client.reschedulePing();
      }
      // RETAIN set: a retained message handed over at a subscription (MQTT 3.1.1 §3.3.1.3,
      // MQTT 5 without Retain As Published), not a live one.
      const wait = opts.commit.submit(packet.topic, packet.payload as Buffer, packet.retain ? { via: 'external', retained: true } : { via: 'external' });
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
      this.lastHeard = opts.clock.now();
      opts.link?.linkUp();
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
      // A link that timed out was dead since the broker was last heard (up to 1.5 × keepalive ago).
      if (!this.stopping) opts.link?.linkDown(this.lastHeard === undefined ? undefined : Math.max(this.lastHeard, opts.clock.now() - 1.5 * options.keepalive! * 1000));
    });
    client.on('error', (err) => opts.log.warn({ err: err.message }, 'external broker error'));
  }

  /**
   * Publish an end-to-end ack (QoS 0); false while disconnected or while the socket already
   * holds `ackBufferBytes` unwritten (the broker is not reading): the agent sends again, and
   * memory stays bounded. No callback: mqtt.js would add a `drain` listener per publish.
   */
  publishAck(topic: string, payload: string): boolean {
    const c = this.client;
    if (!c || !this.connected) return false;
    const queued = (c.stream as { writableLength?: number } | undefined)?.writableLength ?? 0;
    if (queued > (this.opts.ackBufferBytes ?? 8 * 1024 * 1024)) return false;
    c.publish(topic, payload, { qos: 0 });
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
    this.opts.clock.clear(this.rereadTimer);
    this.rereadTimer = undefined;
    const c = this.client;
    this.client = undefined;
    // Without a link nothing can be flushed, and a broker that stopped reading never lets a
    // DISCONNECT through: a graceful end is given 2 s, then the socket is closed.
    if (c && !this.connected) await c.endAsync(true);
    else if (c) {
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(() => resolve(c.endAsync(true)), 2000);
      });
      await Promise.race([c.endAsync(), forced]);
      clearTimeout(timer);
    }
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
