import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { Identity } from './credentials.js';
import type { Ingest } from '../ingest/ingest.js';
import type { AckPublisher } from '../ingest/group-commit.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';
import { guardedConnection } from './mqtt-packet-guard.js';

/** What the broker needs from the credential store (port). */
export interface BrokerAuth {
  verify(username: string, password: string): Promise<Identity | undefined>;
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
}

/** Where received messages go (port of ingest/group-commit.ts). */
export interface IngestQueue {
  /** Queue a message; a promise means "wait: the queue is full" (back-pressure). */
  submit(topic: string, payload: Uint8Array, context?: Record<string, unknown>): Promise<void> | undefined;
}

// Connack return codes of MQTT 3.1.1 §3.2.2.3.
const BAD_USERNAME_OR_PASSWORD = 4;

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
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: EmbeddedBrokerOptions) {
    this.authFailures = opts.metrics.counter('canh_broker_auth_failures_total', 'Embedded broker connections refused for bad credentials.');
    this.oversize = opts.metrics.counter('canh_broker_oversize_packets_total', 'Embedded broker connections cut for an oversized packet.');
    opts.metrics.gauge('canh_broker_clients', 'Clients connected to the embedded broker.', (g) => g.set(this.aedes?.connectedClients ?? 0));
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
      authenticate: (client, username, password, done) => {
        if (!username || !password) {
          this.authFailures.inc();
          const err = Object.assign(new Error('username and password required'), { returnCode: BAD_USERNAME_OR_PASSWORD }) as AuthenticateError;
          done(err, false);
          return;
        }
        auth.verify(username, password.toString('utf8')).then(
          (identity) => {
            if (!identity) {
              this.authFailures.inc();
              log.warn({ username: username.slice(0, 128), clientId: client.id?.slice(0, 128) }, 'MQTT authentication failed');
              const err = Object.assign(new Error('bad username or password'), { returnCode: BAD_USERNAME_OR_PASSWORD }) as AuthenticateError;
              done(err, false);
              return;
            }
            this.identities.set(client, identity);
            done(null, true);
          },
          (err: unknown) => {
            log.error({ err: (err as Error).message }, 'credential check failed');
            const e = Object.assign(new Error('server unavailable'), { returnCode: 3 }) as AuthenticateError;
            done(e, false);
          },
        );
      },
      authorizePublish: (client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void) => {
        const identity = client ? this.identities.get(client) : undefined;
        if (!identity || !auth.mayPublish(identity, packet.topic)) {
          ingest.reject('identity_mismatch', 'publisher may not publish on this topic', { username: identity?.username });
          done(new Error('not authorised to publish on this topic'));
          return;
        }
        const wait = commit.submit(packet.topic, packet.payload as Buffer, { username: identity.username });
        if (wait)
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
    aedes.on('clientError', (client, err) => log.debug({ clientId: client?.id?.slice(0, 128), err: err.message }, 'MQTT client error'));
    aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'MQTT connection error'));
    this.aedes = aedes;

    const handle = (socket: Socket) => {
      // The guard hands aedes' writes to the socket piece by piece; without NODELAY each
      // PUBACK would wait ~40 ms for the peer's delayed ACK (Nagle), capping replay speed.
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const conn = guardedConnection(socket, this.opts.maxPacketBytes, (announced) => {
        this.oversize.inc();
        log.warn({ announced, limit: this.opts.maxPacketBytes, remote: socket.remoteAddress }, 'oversized MQTT packet; connection closed');
      });
      aedes.handle(conn);
    };
    const plain = createNetServer(handle);
    await listen(plain, this.opts.port, this.opts.host);
    this.servers.push(plain);
    log.info({ host: this.opts.host, port: this.port() }, 'embedded MQTT broker listening');
    if (this.opts.tls) {
      const t = this.opts.tls;
      const secure = createTlsServer({ cert: readFileSync(t.certFile), key: readFileSync(t.keyFile), ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}) }, (s) =>
        handle(s as unknown as Socket),
      );
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
