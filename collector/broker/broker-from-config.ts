import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import { MAX_PACKET_BYTES } from '../../contract/limits.js';
import type { CollectorConfig } from '../config.js';
import type { BrokerLinkSink } from '../health/broker-link.js';
import type { GroupCommit } from '../ingest/group-commit.js';
import type { Ingest } from '../ingest/ingest.js';
import type { Store } from '../store/store.js';
import { BrokerSubscriber } from './broker-subscriber.js';
import type { CredentialStore } from './credentials.js';
import { EmbeddedBroker } from './embedded-broker.js';

/** What either broker side is wired to (built once by collector/collector.ts). */
export interface BrokerParts {
  config: CollectorConfig;
  ingest: Ingest;
  commit: GroupCommit;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
}

/** The embedded broker (`broker.mode: embedded`) with the limits of `broker.embedded`. */
export function embeddedBrokerFromConfig(p: BrokerParts & { credentials: CredentialStore; store: Store }): EmbeddedBroker {
  const e = p.config.broker.embedded;
  return new EmbeddedBroker({
    host: e.host,
    port: e.port,
    tls: e.tls,
    maxPacketBytes: MAX_PACKET_BYTES,
    auth: p.credentials,
    ingest: p.ingest,
    commit: p.commit,
    log: p.log.child({ module: 'broker' }),
    metrics: p.metrics,
    clock: p.clock,
    limits: {
      connectTimeoutMs: e.connectTimeoutSeconds * 1000,
      maxConnections: e.maxConnections,
      maxConnectionsPerAddress: e.maxConnectionsPerAddress,
      reservedFileDescriptors: e.reservedFileDescriptors,
      throttle: {
        freeFailures: e.authThrottle.freeFailures,
        maxDelayMs: e.authThrottle.maxDelaySeconds * 1000,
        banAfterFailures: e.authThrottle.banAfterFailures,
        banMs: e.authThrottle.banMinutes * 60_000,
        windowMs: e.authThrottle.windowMinutes * 60_000,
      },
    },
    knownHosts: () => p.store.hostCount(),
  });
}

/** The subscriber to an external broker (`broker.mode: external`, `broker.external`). */
export function brokerSubscriberFromConfig(p: BrokerParts & { link: BrokerLinkSink; onConnect: () => void }): BrokerSubscriber {
  const x = p.config.broker.external!;
  return new BrokerSubscriber({
    url: x.url,
    username: x.username,
    password: x.password,
    clientId: x.clientId,
    keepaliveSeconds: x.keepaliveSeconds,
    shareGroup: x.shareGroup,
    tls: x.tls,
    commit: p.commit,
    receiveMaximum: Math.min(65_535, 2 * p.config.ingest.batchMessages),
    clock: p.clock,
    log: p.log.child({ module: 'subscriber' }),
    metrics: p.metrics,
    link: p.link,
    onConnect: p.onConnect,
  });
}
