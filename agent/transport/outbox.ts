/**
 * The agent's outbox: every message is appended here before it is published, and replayed
 * in order after a reconnect. It is the shared durable log (common/durable-log/), under the
 * name the publisher and the agent use; see durable-log.ts for the guarantees.
 */
export { Outbox, type FsyncPolicy, type OutboxOptions, type OutboxRecord, type OutboxStats } from '../../common/durable-log/durable-log.js';
