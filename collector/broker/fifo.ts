/**
 * A first-in first-out queue with O(1) `push` and `shift` (an array and a head index,
 * compacted once half of it is spent). Same method names as an array's, so it can stand in
 * for one that is only pushed to and shifted from.
 */
export class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): number {
    this.items.push(item);
    return this.length;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

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
