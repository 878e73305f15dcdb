import { DeafEpisodes, type DeafEpisodesDeps } from './deaf-episodes.js';

/** Port: the external-broker subscriber says when its link is down and when it is up again. */
export interface BrokerLinkSink {
  /** Not connected to the external broker (before the first connect, or the link dropped); `since`: when it last heard anything. */
  linkDown(since?: number): void;
  /** Connected (CONNACK received). */
  linkUp(): void;
}

/**
 * The collector's link to an external broker (Mosquitto, EMQX), as a gap in what it hears
 * (issue 12). While the link is down the collector hears nobody; the broker queues for its
 * persistent session up to `max_queued_messages` and drops the rest (the agents send them
 * again: they keep them until acked). A host's silence then proves nothing: in a 10,000-agent
 * run, a collector whose own keepalive timed out while it replayed a backlog recorded site
 * incidents ~20 s after each reconnect. The outage correlator counts a silence only outside
 * these episodes (plus a grace), as for a stall or ingest saturation. Each episode:
 * `canh_broker_link_losses_total`, `canh_broker_link_down_seconds_total`, one log line at each
 * end, `brokerLink` in `/api/health`; `canh_broker_connected` is the subscriber's gauge.
 */
export class BrokerLink extends DeafEpisodes implements BrokerLinkSink {
  constructor(deps: DeafEpisodesDeps) {
    super(deps, {
      episodes: ['canh_broker_link_losses_total', 'Episodes without a link to the external broker (including the start, before the first connect).'],
      seconds: ['canh_broker_link_down_seconds_total', 'Seconds without a link to the external broker.'],
      evicted: ['canh_broker_link_losses_evicted_total', 'Link-loss episodes dropped from the in-memory ring (its bound); still counted.'],
      startMessage: 'no link to the external broker: silences of agents are no evidence until it is back',
      endMessage: 'link to the external broker up',
    });
  }

  linkDown(since?: number): void {
    this.begin(since);
  }

  linkUp(): void {
    this.end();
  }
}
