import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';
import { collectorGaps, type CollectorStalls } from '../outage/collector-stalls.js';
import { EventLoopDelay } from './event-loop-delay.js';
import type { HealthConfig } from './health-config.js';
import { SqliteStallEvents } from './stall-events.js';
import { IngestSaturation, type SaturationSummary } from './ingest-saturation.js';
import { BrokerLink } from './broker-link.js';
import type { DeafSummary } from './deaf-episodes.js';
import { StallWatch, type StallSummary } from './stall-watch.js';

export interface CollectorHealthDeps {
  config: HealthConfig;
  db: SqliteDatabase;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
}

/**
 * The collector's watch over its own event loop (issue 12 item 5): the stall watch (whose
 * stalls the outage correlator reads, and which are stored as `_collector` events), the
 * ingest saturation (the receive queue full, which the correlator reads too) and the
 * event-loop delay metric. One object for collector.ts to build, start and stop.
 */
export class CollectorHealth {
  readonly stalls: StallWatch;
  /** The group commit's receive queue full (the group commit tells it). */
  readonly saturation: IngestSaturation;
  /** The link to an external broker (the subscriber tells it; never down with the embedded broker). */
  readonly brokerLink: BrokerLink;
  /** Stalls, saturation and the broker link, for the outage correlator. */
  readonly gaps: CollectorStalls;
  private readonly delay: EventLoopDelay;

  constructor(deps: CollectorHealthDeps) {
    this.stalls = new StallWatch({
      clock: deps.clock,
      log: deps.log,
      metrics: deps.metrics,
      thresholdMs: deps.config.stallThresholdSeconds * 1000,
      recorder: new SqliteStallEvents(deps.db),
    });
    this.saturation = new IngestSaturation({ clock: deps.clock, log: deps.log, metrics: deps.metrics });
    this.brokerLink = new BrokerLink({ clock: deps.clock, log: deps.log, metrics: deps.metrics });
    this.gaps = collectorGaps(this.stalls, this.saturation, this.brokerLink);
    this.delay = new EventLoopDelay(deps.clock, deps.metrics);
  }

  /** First of all parts: a stall during the start of the others is seen too. */
  start(): void {
    this.stalls.start();
    this.delay.start();
  }

  /** Last of all parts. */
  stop(): void {
    this.delay.stop();
    this.stalls.stop();
  }

  /** `/api/health` fields `stalls`, `saturation` and `brokerLink`. */
  summary(): { stalls: StallSummary; saturation: SaturationSummary; brokerLink: DeafSummary } {
    return { stalls: this.stalls.summary(), saturation: this.saturation.saturationSummary(), brokerLink: this.brokerLink.summary() };
  }
}
