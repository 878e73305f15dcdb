/**
 * A first-in first-out queue with O(1) `push` and `shift` (an array and a head index,
 * compacted once half of it is spent). Same method names as an array's, so it can stand in
 * for one that is only pushed to and shifted from.
 *
 * A taken item is released at once (its slot emptied), and the array is dropped whenever the
 * queue is empty: a queue of received messages must not keep what it handed over (a message
 * holds a view of the whole socket read it came in).
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

  /** The item `i` places behind the oldest (0: the oldest), without taking it. */
  peek(i = 0): T | undefined {
    return i >= 0 && i < this.length ? this.items[this.head + i] : undefined;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
