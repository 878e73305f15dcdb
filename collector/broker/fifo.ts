import { Fifo } from '../../common/fifo.js';

/** What {@link queueInFifo} needs of aedes' message emitter (mqemitter 7). */
interface MqEmitterQueues {
  _messageQueue: unknown;
  _messageCallbacks: unknown;
}

/**
 * aedes' message emitter (mqemitter) queues what it cannot deliver at once (more than its
 * `concurrency` messages in delivery: agents' sockets slow to drain) in two arrays it takes
 * from with `Array.prototype.shift`, O(n) per message: with a province's 10,000 agents
 * replaying, the queue grew to ~10^5 messages and that shift took 62 % of the collector's CPU
 * (profiled), the acks fell behind, the agents sent again and the queue grew further.
 * Replaces both arrays, while empty, with {@link Fifo}s. Returns false (and changes nothing)
 * when the emitter does not have them as expected (another mqemitter version).
 */
export function queueInFifo(mq: unknown): boolean {
  const q = mq as Partial<MqEmitterQueues> | null;
  if (!q || !Array.isArray(q._messageQueue) || !Array.isArray(q._messageCallbacks)) return false;
  if (q._messageQueue.length !== 0 || q._messageCallbacks.length !== 0) return false;
  q._messageQueue = new Fifo<unknown>();
  q._messageCallbacks = new Fifo<unknown>();
  return true;
}
