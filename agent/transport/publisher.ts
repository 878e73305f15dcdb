// One file on purpose (over ~400 lines): the MQTT connection epoch, the unacknowledged
// window, the re-send timer and the backlog pump share one state and one set of timers;
// split, each part would need the others' internals. The pure parts live apart
// (durable log in common/durable-log/, the ack format in contract/ack.ts, a record's key and
// send time in record-envelope.ts).
import { readFileSync } from 'node:fs';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { RateLimitedLog } from '../../common/log.js';
import { ackTopic, decodeAck } from '../../contract/ack.js';
import { configTopic } from '../../contract/agent-config.js';
import { updateTopic } from '../../contract/agent-update.js';
import { MAX_BATCH_RECORDS, MAX_PAYLOAD_BYTES } from '../../contract/limits.js';
import { agentClientId } from '../../contract/topics.js';
import type { AgentConfig } from '../config.js';
import { connectMqtt } from './mqtt-connect.js';
import type { Outbox } from './outbox.js';
import { recordKey, withSendTime } from './record-envelope.js';

export type ConnectFn = (url: string, opts: IClientOptions) => MqttClient | Promise<MqttClient>;

export interface PublisherOptions {
  config: AgentConfig;
  outbox: Outbox;
  clock: Clock;
  log: Logger;
  /** Topic and JSON of the status message (birth when `online`, Last Will when `offline`). */
  status: (state: 'online' | 'offline') => { topic: string; payload: string };
  connect?: ConnectFn;
  /** Told when the broker connection comes up (true) or goes down (false), e.g. network-cut-detector.ts. */
  onLink?: (connected: boolean) => void;
  /** Remote configuration (issue 16): subscribed on every connect (QoS 1, retained), each message handed over. */
  onConfig?: ((payload: Buffer) => void) | undefined;
  /** Self-update (issue 16 item 2): the offers on our update topic (QoS 1, retained), each handed over. */
  onUpdate?: ((payload: Buffer) => void) | undefined;
  /** Told at each valid collector acknowledgement (a version on trial confirms at the first). */
  onCollectorAck?: (() => void) | undefined;
}

export interface PublisherStats {
  connected: boolean;
  protocolVersion: 4 | 5;
  /** Subscribed to our ack topic on the current connection (SUBACK granted). */
  ackSubscribed: boolean;
  /** Outbox records published, first sends and re-sends. */
  published: number;
  /** MQTT messages that carried those records (a batch carries several, contract/decode.ts). */
  messages: number;
  /** Of those, batches (more than one record). */
  batches: number;
  /** Records allowed on the wire now: the congestion window within `mqtt.inflight`. */
  cwnd: number;
  /** Most records per message now: the collector's announced bound (contract/ack.ts `batch`) within `mqtt.batchRecords`; 1 until an ack announced it on this connection. */
  batchMax: number;
  /** Records the collector acknowledged as stored (removed from the outbox). Never counted on PUBACK. */
  acked: number;
  /** Valid ack messages received from the collector (one covers every record of one store commit). */
  collectorAcked: number;
  /** Records sent again: unacknowledged after the ack timeout, or in flight when the link dropped. */
  resent: number;
  /** Of those, re-sent early because a record sent after them on the same connection was acked first. */
  gapResends: number;
  /** Records the collector refused for good (failed validation): dropped from the outbox. */
  rejectedByCollector: number;
  /** Messages on our ack topic that are not a valid ack (ignored). */
  badAcks: number;
  /** Sent and not yet acknowledged by the collector (bounded by `mqtt.inflight`). */
  unacked: number;
  /** Age of the oldest unacknowledged record since its first send, ms (0 when none). */
  oldestUnackedMs: number;
  /** Current ack timeout, seconds: `mqtt.ackTimeoutSeconds`, doubled while no ack arrives. */
  ackTimeoutSeconds: number;
  /** Live records waiting for a window slot (the rest wait on disk). */
  liveQueued: number;
  /** Persist probes: the oldest record in flight sent again because the window stayed full and silent for an interval. */
  probes: number;
  /** PUBLISH refused by the broker on a live connection (e.g. MQTT 5 PUBACK reason >= 0x80). */
  publishErrors: number;
  /** Outbox records without a readable (boot, seq): they can never be acked, so dropped. */
  unkeyed: number;
  /** Replaying records from disk (backlog) rather than only live ones. */
  replaying: boolean;
}

/** A record sent and not yet acknowledged by the collector. */
interface InFlight {
  id: number;
  boot: string;
  seq: number;
  topic: string;
  /** Stored JSON without `sent` (stamped at every send). Bounded: at most `mqtt.inflight` of these. */
  body: string;
  /** Monotonic time of the first and of the latest send. */
  firstSentAt: number;
  lastSentAt: number;
  /** The connection (`link` counter) of the latest send. */
  link: number;
  /** Sends so far: an ack of a record sent more than once gives no round-trip sample (Karn). */
  sends: number;
  /**
   * Why it must be sent again: `link` (it was in flight when the connection dropped),
   * `gap` (a record sent after it on the same connection was acked, so this one was lost
   * on the way: the broker keeps a client's order [MQTT-4.6.0-2]) or `timeout` (no ack
   * within the ack timeout). Sticky until sent, so a round found due is completed even when
   * the round itself doubles the timeout.
   */
  due: 'link' | 'gap' | 'timeout' | undefined;
}

type Pending = { id: number; topic: string; body: string };

/** `{"v":1,"records":[` … `]}`: the batch envelope (contract/decode.ts `decodeMessages`). */
const BATCH_HEAD = '{"v":1,"records":[';
const BATCH_TAIL = ']}';

/** Ceiling of the backoff exponent (2^20 × the base is far above any sane cap). */
const MAX_BACKOFF_STEPS = 20;
/**
 * A record is taken as lost (`gap`) when one sent at least this much later on the same
 * connection is acked before it: order is kept per connection, and the slack covers acks
 * that cross on the wire. A wrong guess only costs a duplicate, which the collector drops.
 */
const GAP_SLACK_MS = 1000;
/** Pump period while backlog or re-sends wait for replay tokens. */
const PACE_MS = 50;

/**
 * Sends the outbox over MQTT and removes a record from it only when the **collector**
 * acknowledges that it stored it (issue 12; DESIGN.md "Delivery: nothing lost, end to
 * end"). A PUBACK is hop by hop: a broker may acknowledge and still drop the message (a
 * subscriber queue over its limit, a restart without persistence), so it ends nothing here.
 *
 * - **Acks.** On every connect the publisher subscribes (QoS 0) to its own
 *   `canh/v1/<site>/<host>/ack` (contract/ack.ts). An ack lists, per boot, the seq ranges
 *   the collector committed; every in-flight record it covers is acked in the outbox.
 *   `rejected` entries (failed validation) are dropped the same way, counted and logged.
 *   Acks for records not in flight (late duplicates, another boot) are ignored.
 * - **Window.** At most `mqtt.inflight` records are sent and unacknowledged at once. A
 *   freed slot goes to a live record first (the newest samples are never stuck behind a
 *   week of backlog), then to the backlog read from disk in id order. Live records wait in
 *   a queue of at most `mqtt.inflight`; older ones fall back to the disk replay. So a slow
 *   or absent collector keeps the data on this PC's disk, never in memory.
 * - **Re-send.** A record unacknowledged after the ack timeout (`mqtt.ackTimeoutSeconds`)
 *   is sent again with a fresh `sent` stamp (the collector measures clock skew with it).
 *   While no ack at all arrives (collector down) the timeout doubles per round up to
 *   `mqtt.ackTimeoutMaxSeconds`; the first ack of a record sent only once resets it (Karn).
 *   A busy collector's slow acks stretch it to the measured round trip (SRTT + 4 RTTVAR);
 *   a record sent after another that is already acked is re-sent at once (`gap`). Re-sends
 *   go in id (= seq) order, paced by `mqtt.replayPerSecond`, which also paces the backlog.
 * - **Congestion window.** Of those `mqtt.inflight`, only `cwnd` may be on the wire (sent and
 *   not given up for lost) at once, as TCP does (RFC 5681): an ack timeout halves `ssthresh`
 *   and sets `cwnd` to 1 (a `gap` sets it to the halved `ssthresh`), at most once per ack
 *   timeout; then it grows by one per acked record up to `ssthresh` (slow start) and by one
 *   per window of acks after it, up to `mqtt.inflight`. A connect starts at the whole
 *   window (the link is new, the collector's load unknown; a loss tells). A lone PC
 *   behind a quick collector is back at `mqtt.inflight` within a few round trips; ten thousand
 *   PCs replaying into a busy collector share what it can store instead of re-sending
 *   their whole windows into the broker's queue again and again (measured before this:
 *   ~6,000 re-sends/s against ~1,250 records/s stored in a 10,000-agent replay).
 * - **Persist probe.** With the window full and nothing sent for one sampling interval, the
 *   oldest record in flight is sent again (TCP's zero-window probe): the collector hears a
 *   live PC at least once per interval even while it is away, and within an interval of
 *   coming back, instead of after the backed-off timeout.
 * - **Disconnect.** In-flight records stay in flight and are re-sent on the next
 *   connection (an ack for them may still arrive: the collector stores what the broker
 *   already had). mqtt.js' own replay of unacknowledged PUBLISH packets is withdrawn at
 *   each disconnect, because it would resend the old `sent` stamp.
 */
export class Publisher {
  private client: MqttClient | undefined;
  private connected = false;
  private protocolVersion: 4 | 5;
  private readonly ackTopic: string;
  private readonly configTopic: string;
  private readonly updateTopic: string;
  private ackSubscribed = false;
  /** Incremented at every connect: a callback from an older link is not about this one. */
  private link = 0;
  /** Sent, not yet acknowledged by the collector, by `${boot}:${seq}`. */
  private readonly inflight = new Map<string, InFlight>();
  /** Outbox ids of {@link inflight} (to skip them when replaying the disk). */
  private readonly inflightIds = new Set<number>();
  /** Live records waiting for a window slot, oldest first; at most `mqtt.inflight`. */
  private readonly live: Pending[] = [];
  /** Next outbox id to look at in the disk replay; undefined when caught up. */
  private replayFrom: number | undefined;
  private tokens = 0;
  private refillAt = 0;
  private pumpTimer: TimerHandle | undefined;
  private pumpAt = Infinity;
  private reading = false;
  private stopping = false;
  /** Doublings of the ack timeout since the last ack. */
  private backoff = 0;
  /** Congestion window and slow-start threshold, records (RFC 5681; see the class comment). */
  private cwnd = Infinity;
  private ssthresh = Infinity;
  /** When the window was last cut (at most once per ack timeout), monotonic ms. */
  private lastCutAt = -Infinity;
  private lastBackoffAt = -Infinity;
  private lastAckAt: number | undefined;
  /** Scratch of onAck(): the latest send time, on the current link, of a record the ack settled. */
  private latestAckedSend = -Infinity;
  /** Records per message: 1 until the collector announced batches on this connection (contract/ack.ts). */
  private batchMax = 1;
  /** Records stamped for sending in this pump round; packed and published at its end ({@link flushOut}). */
  private readonly outgoing: InFlight[] = [];
  private counters = {
    published: 0,
    messages: 0,
    batches: 0,
    acked: 0,
    collectorAcked: 0,
    resent: 0,
    gapResends: 0,
    rejectedByCollector: 0,
    badAcks: 0,
    publishErrors: 0,
    unkeyed: 0,
    probes: 0,
  };
  /** When anything was last published (first send, re-send or probe), monotonic ms. */
  private lastTransmitAt = -Infinity;
  private readonly errLog: RateLimitedLog;
  /** Wall time of the last packet from the broker (where a network cut starts). */
  private lastContact: number | undefined;

  constructor(private readonly opts: PublisherOptions) {
    this.protocolVersion = opts.config.mqtt.protocolVersion;
    this.ackTopic = ackTopic(opts.config.site, opts.config.host);
    this.configTopic = configTopic(opts.config.site, opts.config.host);
    this.updateTopic = updateTopic(opts.config.site, opts.config.host);
    this.errLog = new RateLimitedLog(opts.log, 30_000, () => opts.clock.now());
  }

  stats(): PublisherStats {
    const now = this.opts.clock.monotonic();
    let oldest = now;
    for (const e of this.inflight.values()) oldest = Math.min(oldest, e.firstSentAt);
    return {
      connected: this.connected,
      protocolVersion: this.protocolVersion,
      ackSubscribed: this.ackSubscribed,
      ...this.counters,
      unacked: this.inflight.size,
      oldestUnackedMs: now - oldest,
      ackTimeoutSeconds: this.ackTimeoutMs() / 1000,
      batchMax: this.batchMax,
      cwnd: this.window(),
      liveQueued: this.live.length,
      probes: this.counters.probes,
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
      // Bound to the credential by the broker (contract/topics.ts agentClientId).
      clientId: agentClientId(config.site, config.host),
      username: m.username ?? `${config.site}.${config.host}`,
      password: m.password,
      // A persistent session is harmless, but nothing here relies on it: the outbox and the
      // collector's acks are what make delivery reliable.
      clean: false,
      ...(v5 ? { properties: { sessionExpiryInterval: 24 * 3600 } } : {}),
      // We subscribe to the ack topic on every connect ourselves (idempotent at the broker).
      resubscribe: false,
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
    client.on('packetreceive', () => {
      this.lastContact = this.opts.clock.now();
    });
    client.on('message', (topic, payload) => {
      if (topic === this.ackTopic) this.onAck(payload);
      else if (topic === this.configTopic) this.opts.onConfig?.(payload);
      else if (topic === this.updateTopic) this.opts.onUpdate?.(payload);
    });
    client.on('reconnect', () => {
      // The Last Will says when its session connected (contract: a will's `t` is never later
      // than its session's birth, and later than the previous session's birth). mqtt.js
      // sends the options' will again at every reconnect, so it is made anew here; a will
      // kept from the first connect would read as an older session's, and the collector
      // would ignore the real drop that fires it.
      const w = this.opts.status('offline');
      if (client.options.will) client.options.will = { ...client.options.will, payload: Buffer.from(w.payload) };
    });
    client.on('connect', (connack) => {
      failures = 0;
      this.connected = true;
      this.link++;
      log.info({ protocolVersion: this.protocolVersion, sessionPresent: connack.sessionPresent, unacked: this.inflight.size }, 'connected to broker');
      this.subscribeAcks(client);
      if (this.opts.onConfig) this.subscribeConfig(client);
      if (this.opts.onUpdate) this.subscribeUpdate(client);
      // Birth message, retained: the collector sees "online" with our boot and OS boot time.
      const birth = this.opts.status('online');
      const link = this.link;
      client.publish(birth.topic, birth.payload, { qos: 1, retain: true }, (err) => {
        if (err && link === this.link && this.connected) log.warn({ err: err.message }, 'birth message failed');
      });
      // Until an ack on this link announces batches, one record per message: the broker may
      // now deliver to another (older) collector.
      this.batchMax = 1;
      // A new link starts with the whole window and no threshold.
      this.cwnd = Infinity;
      this.ssthresh = Infinity;
      // Whatever was sent on an earlier link and is not acked is due again now.
      for (const e of this.inflight.values()) e.due = 'link';
      this.replayFrom = this.opts.outbox.stats().firstUnacked;
      this.tokens = 0;
      this.refillAt = this.opts.clock.monotonic();
      this.schedulePump(0);
      this.opts.onLink?.(true);
    });
    client.on('close', () => {
      if (this.connected) log.warn({ unacked: this.inflight.size }, 'disconnected from broker; samples stay in the outbox');
      this.connected = false;
      this.ackSubscribed = false;
      this.live.length = 0; // on disk: replayed from the oldest unacked at the next connect
      this.replayFrom = undefined;
      for (const e of this.inflight.values()) e.due = 'link';
      this.withdrawStoredPublishes(client);
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

  /** Subscribe (QoS 1) to our own remote-configuration topic; the broker delivers the retained one at once. */
  private subscribeConfig(client: MqttClient): void {
    const link = this.link;
    client.subscribe(this.configTopic, { qos: 1 }, (err, granted) => {
      if (link !== this.link || !this.connected) return;
      const refused = err ?? (granted?.some((g) => g.qos === 128) ? new Error('SUBACK refused') : undefined);
      if (refused) this.errLog.warn('config-subscribe', { err: refused.message, topic: this.configTopic }, 'cannot subscribe to the remote configuration; the local one stays');
    });
  }

  /** Subscribe (QoS 1) to our own update topic; the broker delivers the retained offer at once. */
  private subscribeUpdate(client: MqttClient): void {
    const link = this.link;
    client.subscribe(this.updateTopic, { qos: 1 }, (err, granted) => {
      if (link !== this.link || !this.connected) return;
      const refused = err ?? (granted?.some((g) => g.qos === 128) ? new Error('SUBACK refused') : undefined);
      if (refused) this.errLog.warn('update-subscribe', { err: refused.message, topic: this.updateTopic }, 'cannot subscribe to update offers');
    });
  }

  /** Subscribe (QoS 0: a lost ack only causes a re-send) to our own ack topic. */
  private subscribeAcks(client: MqttClient): void {
    const link = this.link;
    client.subscribe(this.ackTopic, { qos: 0 }, (err, granted) => {
      if (link !== this.link || !this.connected) return;
      const refused = err ?? (granted?.some((g) => g.qos === 128) ? new Error('SUBACK refused') : undefined);
      if (refused) {
        this.errLog.warn('ack-subscribe', { err: refused.message, topic: this.ackTopic }, 'cannot subscribe to the collector acks; records stay in the outbox and are re-sent');
        return;
      }
      this.ackSubscribed = true;
    });
  }

  /**
   * mqtt.js keeps unacknowledged QoS 1 PUBLISH packets and sends them again after a
   * reconnect [MQTT-4.4.0-1], with the `sent` stamp of their first send: the collector
   * would take the delay for clock skew. This publisher re-sends them itself with a fresh
   * stamp, so the stored copies are withdrawn (nothing waits for them at the broker:
   * QoS 1 keeps no inbound state there).
   */
  private withdrawStoredPublishes(client: MqttClient): void {
    const outgoing = (client as { outgoing?: Record<number, { cmd?: string }> }).outgoing;
    if (!outgoing || typeof client.removeOutgoingMessage !== 'function') return;
    for (const id of Object.keys(outgoing)) {
      if (outgoing[Number(id)]?.cmd === 'publish') client.removeOutgoingMessage(Number(id));
    }
  }

  /** One ack message from the collector (contract/ack.ts). */
  private onAck(payload: Buffer): void {
    const ack = decodeAck(payload);
    if (!ack) {
      this.counters.badAcks++;
      this.errLog.warn('bad-ack', { bytes: payload.byteLength }, 'invalid ack message on our ack topic; ignored');
      return;
    }
    this.counters.collectorAcked++;
    this.lastAckAt = this.opts.clock.monotonic();
    // Batches only to a collector that says it takes them, in each of its acks (an ack without
    // the field is an older collector: back to one record per message at once).
    this.batchMax = Math.max(1, Math.min(ack.batch ?? 1, MAX_BATCH_RECORDS, this.opts.config.mqtt.batchRecords));
    this.opts.onCollectorAck?.();
    // The backed-off timeout is kept until a record sent only once is acked (Karn's rule,
    // RFC 6298 §5): after an outage every record in flight has been re-sent, and going back
    // to 30 s at the first ack would re-send the whole window of a busy collector again.
    let freed = 0;
    this.latestAckedSend = -Infinity;
    for (const a of ack.acks) {
      for (const [from, to] of a.ranges) {
        if (this.inflight.size === 0) break;
        if (to - from < this.inflight.size) {
          for (let s = from; s <= to; s++) if (this.settle(`${a.boot}:${s}`, 'acked')) freed++;
        } else {
          for (const [key, e] of this.inflight) if (e.boot === a.boot && e.seq >= from && e.seq <= to && this.settle(key, 'acked')) freed++;
        }
      }
    }
    // Fast re-send: whatever went out on this connection clearly before a record now acked
    // was lost between broker and collector (e.g. sent while the collector's subscription
    // was not yet back after a broker restart); do not wait for the ack timeout.
    if (this.latestAckedSend > -Infinity) {
      let gaps = 0;
      for (const e of this.inflight.values()) {
        if (!e.due && e.link === this.link && e.lastSentAt <= this.latestAckedSend - GAP_SLACK_MS) {
          e.due = 'gap';
          gaps++;
        }
      }
      if (gaps) {
        this.counters.gapResends += gaps;
        this.cutWindow(false, this.inflight.size);
        this.opts.log.debug({ gaps }, 'records sent before an acked one are missing at the collector; re-sending them');
      }
    }
    for (const r of ack.rejected ?? []) {
      if (!this.settle(`${r.boot}:${r.seq}`, 'rejectedByCollector')) continue;
      freed++;
      this.errLog.warn('rejected', { boot: r.boot, seq: r.seq, reason: r.reason }, 'the collector refused a message for good; dropped from the outbox');
    }
    // Slots freed (or due times moved by the reset): let the next records go.
    this.schedulePump(0);
    if (freed === 0) this.opts.log.debug('ack for nothing in flight (late duplicate)');
  }

  /** Remove an in-flight record acknowledged by the collector, from memory and the outbox. */
  private settle(key: string, counter: 'acked' | 'rejectedByCollector'): boolean {
    const e = this.inflight.get(key);
    if (!e) return false;
    if (e.link === this.link) this.latestAckedSend = Math.max(this.latestAckedSend, e.lastSentAt);
    if (e.sends === 1 && counter === 'acked') {
      this.sampleRtt(this.opts.clock.monotonic() - e.lastSentAt);
      this.backoff = 0;
    }
    // Each acked record opens the window: by one (slow start) or by 1/cwnd (one per window).
    const cap = this.opts.config.mqtt.inflight;
    if (this.cwnd < cap) this.cwnd = Math.min(cap, this.cwnd + (this.cwnd < this.ssthresh ? 1 : 1 / this.cwnd));
    this.drop(key, e);
    this.opts.outbox.ack(e.id);
    this.counters[counter]++;
    return true;
  }

  private drop(key: string, e: InFlight): void {
    this.inflight.delete(key);
    this.inflightIds.delete(e.id);
  }

  /**
   * Round trip send → collector ack, smoothed as TCP does its RTO (RFC 6298 §2, Karn's rule:
   * only records sent once give a sample). When the collector is busy (a province replaying
   * after an outage, acks 90 s behind), a fixed 30 s timeout re-sent every window again
   * and again: duplicates that only added to its load. Measured before this: 2.2 M re-sends
   * for 1.2 M records in the 10,000-agent replay.
   */
  private srttMs: number | undefined;
  private rttvarMs = 0;

  private sampleRtt(r: number): void {
    if (this.srttMs === undefined) {
      this.srttMs = r;
      this.rttvarMs = r / 2;
    } else {
      this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - r);
      this.srttMs = 0.875 * this.srttMs + 0.125 * r;
    }
  }

  /**
   * Current ack timeout (ms): the base doubled per round without any ack, or the measured
   * round trip plus four deviations when that is longer; capped by ackTimeoutMaxSeconds.
   */
  private ackTimeoutMs(): number {
    const m = this.opts.config.mqtt;
    const rto = this.srttMs === undefined ? 0 : this.srttMs + 4 * this.rttvarMs;
    return Math.min(m.ackTimeoutMaxSeconds * 1000, Math.max(m.ackTimeoutSeconds * 1000 * 2 ** this.backoff, rto));
  }

  /**
   * Append a message to the outbox (durably, per the fsync policy) and send it when
   * possible. `body` is the message JSON without `sent`.
   */
  async enqueue(topic: string, body: string): Promise<number> {
    const id = await this.opts.outbox.append(topic, Buffer.from(body));
    if (this.connected && !this.stopping) {
      this.live.push({ id, topic, body });
      // Bounded: the oldest waiting live record falls back to the disk replay, in order.
      if (this.live.length > this.opts.config.mqtt.inflight) this.deferToDisk(this.live.shift()!.id);
      this.schedulePump(0);
    }
    return id;
  }

  private deferToDisk(id: number): void {
    if (this.replayFrom === undefined || id < this.replayFrom) this.replayFrom = id;
  }

  /** Arm the pump `ms` from now, unless it is already armed earlier. */
  private schedulePump(ms: number): void {
    if (this.stopping) return;
    const at = this.opts.clock.monotonic() + ms;
    if (this.pumpTimer && this.pumpAt <= at) return;
    this.opts.clock.clear(this.pumpTimer);
    this.pumpAt = at;
    const run = () => {
      this.pumpTimer = undefined;
      this.pumpAt = Infinity;
      void this.pump();
    };
    // Now: later in this event-loop turn, not after a 1 ms timer sleep (a wake-up per sample and per ack).
    const { clock } = this.opts;
    this.pumpTimer = ms <= 0 && clock.soon ? clock.soon(run) : clock.setTimeout(run, ms);
  }

  private refill(now: number): void {
    const rate = this.opts.config.mqtt.replayPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.refillAt) / 1000) * rate);
    this.refillAt = now;
  }

  /** Send one in-flight record: stamped now, published at the end of this pump round ({@link flushOut}). */
  private transmit(e: InFlight): void {
    e.lastSentAt = this.opts.clock.monotonic();
    this.lastTransmitAt = e.lastSentAt;
    e.link = this.link;
    e.sends++;
    e.due = undefined;
    this.counters.published++;
    this.outgoing.push(e);
  }

  /**
   * Publish what this pump round sent, each stamped with the current wall time. When the
   * collector announced batches and more than one record of a kind is ready (backlog
   * replay, re-sends, a burst of live records), they go in one message of at most
   * `batchMax` records and MAX_PAYLOAD_BYTES (contract/decode.ts); a lone record goes alone,
   * at once, as before (no added latency, no timer). Inventory and status are never batched.
   */
  private flushOut(client: MqttClient): void {
    if (this.outgoing.length === 0) return;
    const sent = this.opts.clock.now();
    const records = this.outgoing.splice(0);
    if (this.batchMax <= 1 || records.length === 1) {
      for (const e of records) this.publishMessage(client, e.topic, withSendTime(e.body, sent), false);
      return;
    }
    // Per topic, in send order (the broker keeps a client's order per topic anyway).
    const byTopic = new Map<string, InFlight[]>();
    for (const e of records) {
      let list = byTopic.get(e.topic);
      if (!list) byTopic.set(e.topic, (list = []));
      list.push(e);
    }
    const room = MAX_PAYLOAD_BYTES - BATCH_HEAD.length - BATCH_TAIL.length;
    for (const [topic, list] of byTopic) {
      if (list.length === 1 || !(topic.endsWith('/samples') || topic.endsWith('/events'))) {
        for (const e of list) this.publishMessage(client, topic, withSendTime(e.body, sent), false);
        continue;
      }
      let parts: string[] = [];
      let bytes = 0;
      const emit = (): void => {
        if (parts.length === 1) this.publishMessage(client, topic, parts[0]!, false);
        else if (parts.length > 1) this.publishMessage(client, topic, `${BATCH_HEAD}${parts.join(',')}${BATCH_TAIL}`, true);
        parts = [];
        bytes = 0;
      };
      for (const e of list) {
        const body = withSendTime(e.body, sent);
        const size = Buffer.byteLength(body) + 1; // and its comma
        if (parts.length && (parts.length >= this.batchMax || bytes + size > room)) emit();
        parts.push(body);
        bytes += size;
      }
      emit();
    }
  }

  private publishMessage(client: MqttClient, topic: string, payload: string, batch: boolean): void {
    this.counters.messages++;
    if (batch) this.counters.batches++;
    const link = this.link;
    client.publish(topic, payload, { qos: 1 }, (err) => {
      // A PUBACK only says the broker has it: the records stay until the collector's ack.
      if (!err || link !== this.link || !this.connected) return; // withdrawn at a disconnect
      this.counters.publishErrors++;
      this.errLog.warn('publish', { err: err.message }, 'broker refused a message; it will be sent again after the ack timeout');
    });
  }

  /** Take a record from the outbox into the window and send it. */
  private sendNew(rec: Pending): boolean {
    if (this.inflightIds.has(rec.id) || this.opts.outbox.isAcked(rec.id)) return false;
    const key = recordKey(rec.body);
    if (!key) {
      // Never acknowledgeable: it would hold a window slot forever. The collector refuses it anyway.
      this.counters.unkeyed++;
      this.opts.outbox.ack(rec.id);
      this.errLog.warn('unkeyed', { id: rec.id }, 'outbox record without boot/seq; dropped');
      return false;
    }
    const k = `${key.boot}:${key.seq}`;
    if (this.inflight.has(k)) {
      this.opts.outbox.ack(rec.id); // the same (boot, seq) is already on its way
      return false;
    }
    const now = this.opts.clock.monotonic();
    const e: InFlight = { id: rec.id, ...key, topic: rec.topic, body: rec.body, firstSentAt: now, lastSentAt: now, link: this.link, sends: 0, due: undefined };
    this.inflight.set(k, e);
    this.inflightIds.add(rec.id);
    this.transmit(e);
    return true;
  }

  private async pump(): Promise<void> {
    const client = this.client;
    if (!this.connected || !client || this.reading || this.stopping) return;
    const window = this.opts.config.mqtt.inflight;
    let now = this.opts.clock.monotonic();
    this.refill(now);

    // Ack timeouts: a record on the wire this long is given up for lost (due again), and
    // the congestion window is cut (once per ack timeout, cutWindow).
    const timeout = this.ackTimeoutMs();
    const due: Array<[string, InFlight]> = [];
    let onWire = 0;
    let timedOutNow = 0;
    for (const entry of this.inflight) {
      const e = entry[1];
      if (e.due) due.push(entry);
      else if (now - e.lastSentAt >= timeout) {
        e.due = 'timeout';
        due.push(entry);
        onWire++;
        timedOutNow++;
      } else onWire++;
    }
    if (timedOutNow) this.cutWindow(true, onWire);
    let pipe = onWire - timedOutNow;
    const win = this.window();

    // 1. Live first: a fresh sample takes a free slot before anything from disk.
    while (this.live.length && this.inflight.size < window && pipe < win) if (this.sendNew(this.live.shift()!)) pipe++;

    // 2. Re-send what is due, in id (= seq) order, paced, within the congestion window.
    if (due.length) {
      due.sort((a, b) => a[1].id - b[1].id);
      let timedOut = 0;
      let oldestSend = Infinity;
      for (const [key, e] of due) {
        if (this.tokens < 1 || pipe >= win) break;
        if (this.opts.outbox.isAcked(e.id)) {
          this.drop(key, e); // gone from the outbox (overflow dropped its segment)
          continue;
        }
        if (e.due === 'timeout') {
          timedOut++;
          oldestSend = Math.min(oldestSend, e.lastSentAt);
        }
        this.tokens--;
        this.counters.resent++;
        this.transmit(e);
        pipe++;
      }
      if (timedOut) this.backOff(now, oldestSend, timedOut, timeout, client);
    }

    // 2b. Persist probe: with the window full, nothing would go out until the backed-off
    // timeout (up to ackTimeoutMaxSeconds) — after a long collector outage the PC stayed
    // silent for minutes after the collector was back, and silent PCs look switched off.
    // So, as TCP probes a zero window (RFC 9293 §3.8.6.1), the oldest record in flight goes
    // again once per sampling interval of silence: the window stays bounded, the collector
    // hears the PC within an interval of coming back, and its ack opens the window.
    // Full: the window, or the congestion window while records wait for it.
    const waiting = this.live.length > 0 || this.replayFrom !== undefined || due.some(([, e]) => e.due !== undefined);
    if ((this.inflight.size >= window || (pipe >= win && waiting)) && now - this.lastTransmitAt >= this.probeMs()) {
      this.lastTransmitAt = now; // the next probe one interval on, whatever happens here
      // The oldest record given up for lost and not sent since (the congestion window holds
      // it back), else the oldest in flight: a probe that also carries news.
      let oldest: [string, InFlight] | undefined;
      for (const entry of this.inflight) {
        const better =
          !oldest || (entry[1].due !== undefined && oldest[1].due === undefined) || ((entry[1].due !== undefined) === (oldest[1].due !== undefined) && entry[1].id < oldest[1].id);
        if (better) oldest = entry;
      }
      if (oldest && this.opts.outbox.isAcked(oldest[1].id)) {
        this.drop(...oldest); // gone from the outbox (overflow dropped its segment): a slot is free
        this.schedulePump(0);
      } else if (oldest) {
        this.counters.probes++;
        this.counters.resent++;
        this.transmit(oldest[1]);
      }
    }
    this.flushOut(client);

    // 3. Backlog from disk, behind, paced.
    const budget = Math.min(Math.floor(this.tokens), window - this.inflight.size, win - pipe);
    if (this.replayFrom !== undefined && budget > 0) {
      this.reading = true;
      try {
        const from = this.replayFrom;
        const records = await this.opts.outbox.read(from, budget, 4 * 1024 * 1024);
        if (this.replayFrom === from && this.connected && this.client === client && !this.stopping) {
          for (const r of records) {
            this.replayFrom = r.id + 1;
            if (this.inflightIds.has(r.id) || this.opts.outbox.isAcked(r.id)) continue;
            this.tokens--;
            this.sendNew({ id: r.id, topic: r.topic, body: r.payload.toString('utf8') });
          }
          if (records.length < budget) {
            this.replayFrom = undefined; // caught up: new records go live
            this.opts.log.debug('outbox backlog replayed');
          }
          this.flushOut(client);
        }
      } catch (err) {
        this.errLog.warn('replay', { err: (err as Error).message }, 'outbox read failed');
      } finally {
        this.reading = false;
      }
      now = this.opts.clock.monotonic();
    }
    this.scheduleNext(now);
  }

  /**
   * A round of ack timeouts. When no ack at all arrived since these records were sent,
   * the collector is probably down: double the timeout (at most once per timeout period).
   */
  private backOff(now: number, oldestSend: number, count: number, timeout: number, client: MqttClient): void {
    if (this.lastAckAt !== undefined && this.lastAckAt >= oldestSend) return;
    if (now - this.lastBackoffAt < timeout) return;
    this.lastBackoffAt = now;
    if (this.ackTimeoutMs() < this.opts.config.mqtt.ackTimeoutMaxSeconds * 1000) this.backoff = Math.min(this.backoff + 1, MAX_BACKOFF_STEPS);
    this.errLog.warn('no-ack', { resent: count, nextTimeoutSeconds: this.ackTimeoutMs() / 1000, ackSubscribed: this.ackSubscribed }, 'no ack from the collector; re-sending');
    // Maybe the SUBACK was refused (an ACL not yet updated): try again, it is cheap.
    if (!this.ackSubscribed) this.subscribeAcks(client);
  }

  /** Arm the pump for the next thing to do: paced work, or the earliest ack timeout. */
  private scheduleNext(now: number): void {
    if (!this.connected || this.stopping) return;
    const m = this.opts.config.mqtt;
    const timeout = this.ackTimeoutMs();
    let pipe = 0;
    let dueN = 0;
    let next = Infinity;
    let paced = false;
    for (const e of this.inflight.values()) {
      if (e.due) {
        dueN++;
        continue;
      }
      pipe++;
      const at = e.lastSentAt + timeout - now;
      if (at <= 0) paced = true;
      else next = Math.min(next, at);
    }
    // Room in the congestion window: otherwise the next ack (schedulePump(0)) or a timeout wakes us.
    const room = pipe < this.window();
    if (room && ((this.replayFrom !== undefined && this.inflight.size < m.inflight) || dueN > 0)) paced = true;
    if (room && this.live.length > 0 && this.inflight.size < m.inflight) next = 0;
    if (paced) next = Math.min(next, Math.max(PACE_MS, Math.ceil(((1 - this.tokens) / m.replayPerSecond) * 1000)));
    const waiting = this.live.length > 0 || this.replayFrom !== undefined || dueN > 0;
    if (this.inflight.size >= m.inflight || (!room && waiting)) next = Math.min(next, Math.max(0, this.lastTransmitAt + this.probeMs() - now));
    if (next < Infinity) this.schedulePump(next);
  }

  /** Records allowed on the wire now: the congestion window within `mqtt.inflight`. */
  private window(): number {
    return Math.max(1, Math.min(this.opts.config.mqtt.inflight, Math.floor(this.cwnd)));
  }

  /**
   * Congestion (RFC 5681 §3.1, §3.2): an ack timeout (`timeout`) halves the threshold and
   * restarts from one record; a `gap` (a later record acked first) halves both. At most once
   * per ack timeout, so one round of losses cuts once. `onWire`: records on the wire then.
   */
  private cutWindow(timeout: boolean, onWire: number): void {
    const now = this.opts.clock.monotonic();
    if (now - this.lastCutAt < this.ackTimeoutMs()) return;
    this.lastCutAt = now;
    this.ssthresh = Math.max(2, Math.floor(onWire / 2));
    this.cwnd = timeout ? 1 : this.ssthresh;
  }

  /** Silence with a full window after which a persist probe goes: one sampling interval. */
  private probeMs(): number {
    return Math.max(1000, this.opts.config.intervalSeconds * 1000);
  }

  /**
   * Clean stop: send what is queued live (e.g. the agent_stop event) if the window has
   * room, publish "offline", wait up to `timeoutMs` for the collector to ack what is in
   * flight, and disconnect. Whatever is still unacked stays in the outbox for the next start.
   */
  async stop(timeoutMs = 3000): Promise<void> {
    this.opts.clock.clear(this.pumpTimer);
    this.pumpTimer = undefined;
    this.pumpAt = Infinity;
    if (this.connected) await this.pump();
    this.stopping = true;
    this.opts.clock.clear(this.pumpTimer);
    this.pumpTimer = undefined;
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
      while (this.inflight.size > 0 && this.connected && this.opts.clock.monotonic() < deadline) await this.opts.clock.sleep(20);
      if (this.inflight.size > 0) this.opts.log.info({ unacked: this.inflight.size }, 'stopping with unacknowledged messages; they stay in the outbox');
    }
    this.connected = false;
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }
}
