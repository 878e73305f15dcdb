import type { EventEmitter } from 'node:events';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { indexedMemoryPersistence, ownBytes } from './retained-index.js';
import { queueInFifo } from './fifo.js';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { Identity } from './acl.js';
import { VerificationBusyError } from './credentials.js';
import type { Ingest } from '../ingest/ingest.js';
import type { AckPublisher, Submitted } from '../ingest/group-commit.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';
import { guardSocket } from './mqtt-packet-guard.js';
import { RateLimitedLog } from '../../common/log.js';
import { systemClock, type Clock } from '../../common/clock.js';
import { AuthThrottle, type AuthThrottleOptions } from './auth-throttle.js';
import { connectionBudget, ConnectionLimits, normalizeAddress, openFilesLimit } from './connection-limits.js';

/** What the broker needs from the credential store (port). */
export interface BrokerAuth {
  verify(username: string, password: string): Promise<Identity | undefined>;
  /** The identity of a username/password verified recently (no password hashing), else undefined. */
  cachedIdentity(username: string, password: string): Identity | undefined;
  /** Does `clientId` belong to `identity` (acl.ts, through credentials.ts)? */
  mayUseClientId(identity: Identity, clientId: string): boolean;
  mayPublish(identity: Identity, topic: string): boolean;
  maySubscribe(identity: Identity, filter: string): boolean;
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  tls?: { port: number; certFile: string; keyFile: string; caFile?: string | undefined } | undefined;
  maxPacketBytes: number;
  auth: BrokerAuth;
  ingest: Ingest;
  /** The group commit: stores, then acks end to end (ingest/group-commit.ts). */
  commit: IngestQueue;
  log: Logger;
  metrics: MetricsRegistry;
  /** Flood and guessing limits (config `broker.embedded`); defaults as there. */
  limits?: Partial<BrokerLimits>;
  clock?: Pick<Clock, 'monotonic' | 'now'>;
  /** PCs the collector knows (warned about at start when the open-files limit cannot hold them). */
  knownHosts?: () => number;
  /** The open-files limit (default: read from /proc/self/limits; tests pass one). */
  fileLimit?: () => number | undefined;
}

export interface BrokerLimits {
  connectTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  reservedFileDescriptors: number;
  throttle: Omit<AuthThrottleOptions, 'clock'>;
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  connectTimeoutMs: 5000,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 256,
  reservedFileDescriptors: 512,
  throttle: { freeFailures: 5, maxDelayMs: 10_000, banAfterFailures: 20, banMs: 15 * 60_000, windowMs: 10 * 60_000 },
};

/** Untrusted-input log lines: at most one per reason per minute, with the count suppressed. */
const LOG_INTERVAL_MS = 60_000;

/** Where received messages go (port of ingest/group-commit.ts). */
export interface IngestQueue {
  /** Queue a message; a promise means "wait: the queue is full" (back-pressure). */
  submit(topic: string, payload: Uint8Array, context?: Record<string, unknown>): Submitted;
}

// Connack return codes of MQTT 3.1.1 §3.2.2.3.
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

type RefusedReason = 'client_id' | 'protocol_version' | 'banned' | 'busy' | 'connect_timeout' | 'max_connections' | 'max_connections_per_address';

function refusal(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/**
 * aedes' broker heartbeat (`heartbeatInterval`). In a cluster of aedes brokers it tells the
 * others this one is alive, and every 4 heartbeats each broker publishes the stored Last
 * Wills of brokers not heard for 3 heartbeats. The embedded broker is alone in its process,
 * so that sweep can only ever find itself "dead": with the default (60 s) a collector loop
 * held up for 3 minutes (a province's connect storm on a loaded machine, measured) made aedes
 * publish the wills of its own **connected** agents (false offline), or fail on one and end
 * the process. A day: the sweep runs every 4 days and its own heartbeat is never 3 days old
 * (4 × the interval stays below the 2^31 ms that Node's timers take).
 */
export const SINGLE_BROKER_HEARTBEAT_MS = 24 * 3600_000;

/**
 * The embedded MQTT broker (aedes, MQTT 3.1.1): authenticates every client against the
 * credential store, lets an agent publish only under its own site/host and read only its
 * own ack topic, and hands each message to the group commit inside `authorizePublish`.
 * The PUBACK is transport only: a message is stored when the collector's end-to-end ack
 * says so (contract/ack.ts), published here after the commit. While the group commit's
 * queue is full, `authorizePublish` waits, and aedes stops reading that client.
 */
export class EmbeddedBroker implements AckPublisher {
  private aedes: Aedes | undefined;
  private servers: Server[] = [];
  private readonly identities = new WeakMap<Client, Identity>();
  private readonly authFailures: Counter;
  private readonly oversize: Counter;
  private readonly refused: Counter;
  private readonly delayed: Counter;
  private readonly bans: Counter;
  private readonly brokerErrors: Counter;
  private readonly sockets = new Set<Socket>();
  /** Source address of each connection aedes handles (its stream has none of its own). */
  private readonly addresses = new WeakMap<object, string>();
  private readonly limits: BrokerLimits;
  private readonly throttle: AuthThrottle;
  private conns: ConnectionLimits;
  private readonly untrusted: RateLimitedLog;

  constructor(private readonly opts: EmbeddedBrokerOptions) {
    const clock = opts.clock ?? systemClock;
    this.limits = { ...DEFAULT_BROKER_LIMITS, ...opts.limits, throttle: { ...DEFAULT_BROKER_LIMITS.throttle, ...opts.limits?.throttle } };
    this.throttle = new AuthThrottle({ ...this.limits.throttle, clock });
    this.conns = new ConnectionLimits(this.limits.maxConnections, this.limits.maxConnectionsPerAddress);
    this.untrusted = new RateLimitedLog(opts.log, LOG_INTERVAL_MS, () => clock.monotonic());
    const m = opts.metrics;
    this.authFailures = m.counter('canh_broker_auth_failures_total', 'Embedded broker connections refused for bad credentials.');
    this.oversize = m.counter('canh_broker_oversize_packets_total', 'Embedded broker connections cut for an oversized packet.');
    this.refused = m.counter(
      'canh_broker_connect_refused_total',
      "Embedded broker connections refused, by reason: client_id (another identity's), protocol_version (e.g. MQTT 5, 0x84), banned, busy (password checks queue full), connect_timeout, max_connections, max_connections_per_address.",
    );
    this.delayed = m.counter('canh_broker_auth_delayed_total', 'Password checks delayed by the guessing throttle, by scope (address, username).');
    this.bans = m.counter('canh_broker_auth_bans_total', 'Temporary bans started by the guessing throttle, by scope (address, username).');
    this.brokerErrors = m.counter(
      'canh_broker_errors_total',
      'Errors the embedded broker (aedes) reported on its own, logged and survived (e.g. a will its sweeper could not publish).',
    );
    m.gauge('canh_broker_banned', 'Addresses and usernames banned now by the guessing throttle.', (g) => {
      const b = this.throttle.banned();
      g.set(b.address, { scope: 'address' });
      g.set(b.username, { scope: 'username' });
    });
    m.gauge('canh_broker_clients', 'Clients connected to the embedded broker.', (g) => g.set(this.aedes?.connectedClients ?? 0));
    m.gauge('canh_broker_queued_messages', "Messages the embedded broker waits to deliver (more than its concurrency in delivery: agents' sockets slow to drain).", (g) =>
      g.set((this.aedes as unknown as { mq?: { length?: number } } | undefined)?.mq?.length ?? 0),
    );
    m.gauge('canh_broker_connections', 'TCP connections open to the embedded broker (MQTT clients and connections not yet authenticated).', (g) => g.set(this.conns.connections()));
    m.gauge('canh_broker_max_connections', 'Connections the embedded broker accepts at once (config, capped by the open-files limit).', (g) => g.set(this.conns.limit));
  }

  /** Connections the broker accepts at once (after the open-files budget of start()). */
  maxConnections(): number {
    return this.conns.limit;
  }

  private refuse(reason: RefusedReason, fields: Record<string, unknown>, msg: string): void {
    this.refused.inc({ reason });
    this.untrusted.warn(`refused:${reason}`, fields, msg);
  }

  private addressOf(client: Client): string {
    return this.addresses.get(client.conn as object) ?? 'unknown';
  }

  /** Port actually bound (useful when configured as 0). */
  port(): number {
    const addr = this.servers[0]?.address();
    return typeof addr === 'object' && addr ? addr.port : this.opts.port;
  }

  tlsPort(): number | undefined {
    const addr = this.servers[1]?.address();
    return typeof addr === 'object' && addr ? addr.port : undefined;
  }

  async start(): Promise<void> {
    const { log, auth, ingest, commit } = this.opts;
    const aedes = await Aedes.createBroker({
      id: 'canh-embedded',
      // Retained messages looked up by topic at each agent's SUBSCRIBE, not scanned (retained-index.ts).
      persistence: indexedMemoryPersistence(),
      heartbeatInterval: SINGLE_BROKER_HEARTBEAT_MS,
      connectTimeout: this.limits.connectTimeoutMs,
      // Counts what aedes refuses before authentication: MQTT 5 CONNECTs (answered 0x01,
      // which an MQTT 5 client reads as 0x84 "unsupported protocol version").
      preConnect: (client, packet, done) => {
        // The will lives as long as the session: its own bytes, not a view into this read.
        if (packet.will?.payload) packet.will.payload = ownBytes(packet.will.payload as Buffer);
        if (packet.protocolVersion !== 3 && packet.protocolVersion !== 4) {
          this.refuse(
            'protocol_version',
            { remote: this.addressOf(client), protocolVersion: packet.protocolVersion },
            'MQTT CONNECT refused: unsupported protocol version (this broker speaks 3.1.1; Canh agents fall back to it)',
          );
        }
        done(null, true);
      },
      authenticate: (client, username, password, done) => {
        const remote = this.addressOf(client);
        const clientId = client.id?.slice(0, 128);
        if (!username || !password) {
          this.authFailures.inc();
          this.throttle.failure(remote, username ?? '');
          this.untrusted.warn('auth-failed', { remote, clientId }, 'MQTT authentication failed (no username or password)');
          done(refusal('username and password required', BAD_USERNAME_OR_PASSWORD), false);
          return;
        }
        const user = username.slice(0, 128);
        const pass = password.toString('utf8');
        const accept = (identity: Identity): void => {
          if (!auth.mayUseClientId(identity, client.id)) {
            this.refuse('client_id', { remote, username: identity.username, clientId }, 'MQTT CONNECT refused: client id belongs to another identity');
            done(refusal('identifier rejected', IDENTIFIER_REJECTED), false);
            return;
          }
          this.throttle.success(remote, username);
          this.identities.set(client, identity);
          done(null, true);
        };
        // A password verified recently costs no hashing: never throttled, so a PC whose
        // username is being guessed (or whose NAT address is banned) still gets in.
        const known = auth.cachedIdentity(username, pass);
        if (known) {
          accept(known);
          return;
        }
        const verdict = this.throttle.verdict(remote, username);
        if (verdict.action === 'ban') {
          this.refuse('banned', { remote, username: user, scope: verdict.scope, seconds: Math.ceil(verdict.untilMs / 1000) }, 'MQTT CONNECT refused: banned for password guessing');
          done(refusal('not authorized', NOT_AUTHORIZED), false);
          return;
        }
        const check = () =>
          auth.verify(username, pass).then(
            (identity) => {
              if (!identity) {
                this.authFailures.inc();
                for (const scope of this.throttle.failure(remote, username)) {
                  this.bans.inc({ scope });
                  this.untrusted.warn(
                    `ban:${scope}`,
                    { remote, username: scope === 'username' ? user : undefined, scope, minutes: this.limits.throttle.banMs / 60_000 },
                    'MQTT password guessing: temporary ban',
                  );
                }
                this.untrusted.warn('auth-failed', { remote, username: user, clientId }, 'MQTT authentication failed');
                done(refusal('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
                return;
              }
              accept(identity);
            },
            (err: unknown) => {
              if (err instanceof VerificationBusyError) {
                this.refuse('busy', { remote, username: user }, 'MQTT CONNECT refused: too many password checks waiting');
              } else {
                log.error({ err: (err as Error).message }, 'credential check failed');
              }
              done(refusal('server unavailable', SERVER_UNAVAILABLE), false);
            },
          );
        if (verdict.delayMs > 0) {
          this.delayed.inc({ scope: verdict.delayedBy ?? 'address' });
          setTimeout(check, verdict.delayMs).unref();
        } else {
          void check();
        }
      },
      authorizePublish: (client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void) => {
        const identity = client ? this.identities.get(client) : undefined;
        if (!identity || !auth.mayPublish(identity, packet.topic)) {
          ingest.reject('identity_mismatch', 'publisher may not publish on this topic', { username: identity?.username });
          done(new Error('not authorised to publish on this topic'));
          return;
        }
        const wait = commit.submit(packet.topic, packet.payload as Buffer, { username: identity.username });
        // Shed (too many waiting already): delivered as far as MQTT goes, not stored, not
        // acked end to end; the agent sends it again after its ack timeout.
        if (wait === 'shed') done(null);
        else if (wait)
          wait.then(
            () => done(null),
            (err: unknown) => done(err as Error),
          );
        else done(null);
      },
      authorizeSubscribe: (client: Client | null, sub: Subscription, done: (err: Error | null, sub?: Subscription | null) => void) => {
        const identity = client ? this.identities.get(client) : undefined;
        if (!identity || !auth.maySubscribe(identity, sub.topic)) {
          done(null, null); // SUBACK 0x80: refused, connection kept
          return;
        }
        done(null, sub);
      },
    });
    // aedes reports its own failures as 'error' events (e.g. a will its sweeper could not
    // publish); unheard, an 'error' event ends the process, and with it every agent's link.
    // (aedes emits it as any EventEmitter does; its typings list only the client events.)
    (aedes as unknown as EventEmitter).on('error', (err: Error) => {
      this.brokerErrors.inc();
      this.untrusted.warn('aedes-error', { err: err.message }, 'embedded broker error (the broker keeps running)');
    });
    aedes.on('clientError', (client, err) => log.debug({ clientId: client?.id?.slice(0, 128), err: err.message }, 'MQTT client error'));
    aedes.on('connectionError', (client, err) => {
      if (err.message === 'connect did not arrive in time') {
        this.refuse('connect_timeout', { remote: this.addressOf(client), seconds: this.limits.connectTimeoutMs / 1000 }, 'MQTT connection closed: no CONNECT in time');
      } else {
        log.debug({ err: err.message }, 'MQTT connection error');
      }
    });
    if (!queueInFifo((aedes as unknown as { mq: unknown }).mq)) log.warn('embedded broker: message queue kept as aedes made it (O(n) per message when agents are slow to drain)');
    this.aedes = aedes;

    // Connections at once: the configuration, within the open-files limit less a reserve.
    const budget = connectionBudget(this.limits.maxConnections, this.limits.reservedFileDescriptors, this.opts.knownHosts?.() ?? 0, (this.opts.fileLimit ?? openFilesLimit)());
    this.conns = new ConnectionLimits(budget.max, this.limits.maxConnectionsPerAddress);
    if (budget.warning) log.warn({ fileLimit: budget.fileLimit, maxConnections: budget.max }, budget.warning);

    /** Count a raw TCP connection against the caps, or close it at once. */
    const admit = (socket: Socket): boolean => {
      const verdict = this.conns.admit(socket);
      if (verdict.ok) return true;
      this.refuse(
        verdict.reason,
        { remote: verdict.address, limit: verdict.reason === 'max_connections' ? this.conns.limit : this.limits.maxConnectionsPerAddress },
        'MQTT connection refused: too many connections',
      );
      socket.destroy();
      return false;
    };
    const handle = (socket: Socket) => {
      // Without NODELAY each PUBACK would wait ~40 ms for the peer's delayed ACK (Nagle),
      // capping replay speed.
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const remote = normalizeAddress(socket.remoteAddress);
      guardSocket(socket, this.opts.maxPacketBytes, (announced) => {
        this.oversize.inc();
        this.untrusted.warn('oversize', { announced, limit: this.opts.maxPacketBytes, remote }, 'oversized MQTT packet; connection closed');
      });
      this.addresses.set(socket, remote);
      aedes.handle(socket);
    };
    const plain = createNetServer((socket) => {
      if (admit(socket)) handle(socket);
    });
    await listen(plain, this.opts.port, this.opts.host);
    this.servers.push(plain);
    log.info({ host: this.opts.host, port: this.port(), maxConnections: this.conns.limit }, 'embedded MQTT broker listening');
    if (this.opts.tls) {
      const t = this.opts.tls;
      const secure = createTlsServer(
        {
          cert: readFileSync(t.certFile),
          key: readFileSync(t.keyFile),
          ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}),
          // A handshake that does not finish is cut as soon as a missing CONNECT would be.
          handshakeTimeout: this.limits.connectTimeoutMs,
        },
        (s) => handle(s as unknown as Socket),
      );
      // Counted on the raw TCP connection, before the handshake costs anything.
      secure.on('connection', (raw: Socket) => void admit(raw));
      // With a listener here Node no longer destroys the socket itself.
      secure.on('tlsClientError', (err: Error & { code?: string }, tlsSocket: Socket) => {
        if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
          this.refuse(
            'connect_timeout',
            { remote: normalizeAddress(tlsSocket.remoteAddress), seconds: this.limits.connectTimeoutMs / 1000 },
            'MQTT TLS handshake not finished in time; connection closed',
          );
        }
        tlsSocket.destroy();
      });
      await listen(secure as unknown as Server, t.port, this.opts.host);
      this.servers.push(secure as unknown as Server);
      log.info({ host: this.opts.host, port: this.tlsPort() }, 'embedded MQTT broker listening (TLS)');
    }
  }

  /** Publish an end-to-end ack to the agent subscribed on `topic` (QoS 0: a lost ack costs one re-send). */
  publishAck(topic: string, payload: string): boolean {
    const aedes = this.aedes;
    if (!aedes || aedes.closed) return false;
    aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false }, () => {});
    return true;
  }

  /**
   * Publish a remote configuration, QoS 1 and retained (contract/agent-config.ts): from
   * inside the broker, so no client credential needs the right to publish there.
   */
  publishConfig(topic: string, payload: string): boolean {
    const aedes = this.aedes;
    if (!aedes || aedes.closed) return false;
    aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true, dup: false }, (err) => {
      if (err) this.opts.log.warn({ topic, err: err.message }, 'remote configuration publish failed');
    });
    return true;
  }

  async stop(): Promise<void> {
    for (const s of this.servers) s.close();
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => (this.aedes ? this.aedes.close(() => resolve()) : resolve()));
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
    this.servers = [];
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
