import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
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
  /** Least time between two re-reads of one PC's retained status ({@link BrokerSubscriber.readStatus}); default 5 min. */
  statusRereadMinMs?: number | undefined;
  /** Status topics subscribed at once by a re-read, and the pause between two such chunks; default 250 and 1 s. */
  statusRereadChunk?: number | undefined;
  statusRereadGapMs?: number | undefined;
}

/** PCs waiting for a re-read of their status, at most (beyond: counted, not read). */
export const MAX_STATUS_WANTED = 20_000;

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
/** Why a PC's status is read again: it went silent with no will heard, or it is heard with no birth known. */
export type StatusRereadReason = 'silence' | 'unknown';

export class BrokerSubscriber implements AckPublisher {
  private client: MqttClient | undefined;
  private connected = false;
  private stopping = false;
  /** When the keepalive was last pushed back by a received message (throttled to once a second). */
  private lastAlive = 0;
  /** Wall time the broker was last heard from (a message, a CONNACK), to the second. */
  private lastHeard: number | undefined;
  /** Status topics to read again, in request order, and why; bounded by {@link MAX_STATUS_WANTED}. */
  private readonly statusWanted = new Map<string, StatusRereadReason>();
  /** Monotonic time each status topic was last read again (oldest first; bounded as well). */
  private readonly statusReadAt = new Map<string, number>();
  private readonly rereads: Counter;
  private readonly rereadOverflow: Counter;
  private rereadTimer: TimerHandle | undefined;
  /** A chunk's SUBSCRIBE/UNSUBSCRIBE is on the wire. */
  private rereading = false;

  constructor(private readonly opts: BrokerSubscriberOptions) {
    opts.metrics.gauge('canh_broker_connected', '1 when the collector is connected to the external broker.', (g) => g.set(this.connected ? 1 : 0));
    this.rereads = opts.metrics.counter(
      'canh_broker_status_rereads_total',
      'PCs whose retained status (birth or Last Will) was read again, by reason: silent with no will heard (silence), heard with no birth known (unknown).',
    );
    this.rereadOverflow = opts.metrics.counter('canh_broker_status_rereads_dropped_total', `Status re-reads not done: more than ${MAX_STATUS_WANTED} PCs waiting for one.`);
  }

  /**
   * Read one PC's retained status (birth or Last Will) again: the broker sends a retained
   * message when a client subscribes to its topic (MQTT 3.1.1 §3.8.4, MQTT 5 Retain
   * Handling 0). A Last Will is published once, and Mosquitto drops what does not fit its
   * queue for the collector (`max_queued_messages`): at a province's power cut 3,000 wills
   * at once went partly unseen, the cut sites looked merely silent. The correlator asks for
   * the status of a PC that went silent with no will heard, or that is heard with no birth
   * known; its will (or birth) is still the retained message.
   *
   * Only the PCs asked for, never all of them: reading every retained status (10,000 at
   * province scale) into a queue that just overflowed made it overflow again, the agents'
   * samples were dropped, more PCs fell silent, and ingest collapsed. A PC at most once per
   * `statusRereadMinMs`; `statusRereadChunk` topics per SUBSCRIBE (unsubscribed as soon as
   * the broker answered: it queued the retained messages by then), one chunk per
   * `statusRereadGapMs`.
   */
  readStatus(site: string, host: string, reason: StatusRereadReason): void {
    const { opts } = this;
    if (this.stopping) return;
    const topic = `${TOPIC_PREFIX}/${site}/${host}/status`;
    // Once per PC and reason per interval: a PC read for its silence is read again for its return.
    const last = this.statusReadAt.get(`${reason} ${topic}`);
    if (this.statusWanted.has(topic) || (last !== undefined && opts.clock.monotonic() - last < (opts.statusRereadMinMs ?? 300_000))) return;
    if (this.statusWanted.size >= MAX_STATUS_WANTED) {
      this.rereadOverflow.inc();
      return;
    }
    this.statusWanted.set(topic, reason);
    this.scheduleStatusRead(0);
  }

  private scheduleStatusRead(delayMs: number): void {
    if (this.rereadTimer !== undefined || this.rereading || this.stopping || this.statusWanted.size === 0) return;
    this.rereadTimer = this.opts.clock.setTimeout(() => {
      this.rereadTimer = undefined;
      this.readStatusChunk();
    }, delayMs);
  }

  private readStatusChunk(): void {
    const { opts } = this;
    const c = this.client;
    if (!c || !this.connected) return; // the next connect subscribes to every status anyway
    const topics: string[] = [];
    const now = opts.clock.monotonic();
    const byReason: Partial<Record<StatusRereadReason, number>> = {};
    for (const [topic, reason] of this.statusWanted) {
      if (topics.length >= (opts.statusRereadChunk ?? 250)) break;
      topics.push(topic);
      this.statusWanted.delete(topic);
      byReason[reason] = (byReason[reason] ?? 0) + 1;
      this.statusReadAt.delete(`${reason} ${topic}`);
      this.statusReadAt.set(`${reason} ${topic}`, now);
    }
    while (this.statusReadAt.size > MAX_STATUS_WANTED) this.statusReadAt.delete(this.statusReadAt.keys().next().value!);
    for (const [reason, n] of Object.entries(byReason)) this.rereads.inc({ reason }, n);
    opts.log.info(
      { pcs: topics.length, ...byReason, waiting: this.statusWanted.size },
      "re-reading PCs' retained status messages (no will heard for a silent PC, or no birth for one heard)",
    );
    this.rereading = true;
    const next = () => {
      this.rereading = false;
      this.scheduleStatusRead(opts.statusRereadGapMs ?? 1000);
    };
    c.subscribe(topics, { qos: 1 }, (err) => {
      if (err) {
        opts.log.warn({ err: err.message }, 'status re-read: subscribe failed');
        next();
        return;
      }
      // The broker queued the retained messages while it handled the SUBSCRIBE: the extra
      // subscriptions can go (the status filter still delivers every live status).
      c.unsubscribe(topics, () => next());
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
      // Shed: PUBACK to the broker (transport), not stored; the agent sends it again.
      if (wait === 'shed') done();
      else if (wait)
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
      // It also hands over every retained status: no PC's needs reading again.
      if (!opts.shareGroup) this.statusWanted.clear();
      else this.scheduleStatusRead(0); // a shared subscription gets none: what waited goes now
      client.subscribe(filters, { qos: 1 }, (err, granted) => {
        if (err) opts.log.error({ err: err.message }, 'subscribe failed');
        else if (granted?.some((g) => g.qos > 2)) opts.log.error({ filters }, 'subscription refused by the broker (check the collector ACL)');
      });
      opts.onConnect?.();
    });
    client.on('close', () => {
      if (this.connected) opts.log.warn('disconnected from external broker; reconnecting');
      this.connected = false;
      this.rereading = false;
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
