/**
 * The agent's outbox: every message is appended here before it is published, and replayed
 * in order after a reconnect. It is the shared durable log (common/durable-log/), under the
 * names the publisher and the agent use; see durable-log.ts for the guarantees.
 */
export {
  DurableLog as Outbox,
  type DurableLogOptions as OutboxOptions,
  type DurableLogRecord as OutboxRecord,
  type DurableLogStats as OutboxStats,
  type FsyncPolicy,
} from '../../common/durable-log/durable-log.js';
