import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Fifo } from '../../../common/fifo.js';

describe('Fifo', () => {
  it('keeps first-in first-out order and its length across compactions', () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    let next = 0;
    // Interleaved pushes and shifts, through several compactions (every 1,024 spent items).
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) q.push(next++);
      for (let i = 0; i < 250; i++) out.push(q.shift()!);
      expect(q.length).toBe(next - out.length);
    }
    while (q.length) out.push(q.shift()!);
    expect(q.shift()).toBeUndefined();
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });
  it('peeks without taking, and an index past the end reads nothing', () => {
    const q = new Fifo<string>();
    expect(q.peek()).toBeUndefined();
    q.push('a');
    q.push('b');
    q.push('c');
    expect(q.shift()).toBe('a');
    expect([q.peek(), q.peek(0), q.peek(1), q.peek(2), q.peek(-1)]).toEqual(['b', 'b', 'c', undefined, undefined]);
    expect(q.length).toBe(2);
  });

  it('clear empties it, and it is usable afterwards', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 2000; i++) q.push(i);
    for (let i = 0; i < 1500; i++) q.shift();
    q.clear();
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
    q.push(7);
    expect([q.length, q.peek(), q.shift(), q.length]).toEqual([1, 7, 7, 0]);
  });

  it('releases a taken item at once (nothing else refers to it after a real garbage collection)', async () => {
    // A real gc: the flag through V8, the function from a new context (the worker keeps its own flags otherwise).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const q = new Fifo<object>();
    // Fewer than a compaction's 1,024: only the emptied slot can release them; one item stays queued behind.
    // Made in a function of its own, so that no variable of this frame holds the last one.
    const fill = (): WeakRef<object>[] =>
      Array.from({ length: 300 }, (_, i) => {
        const o = { i, payload: new Uint8Array(1024) };
        q.push(o);
        return new WeakRef(o);
      });
    const refs = fill();
    q.push({ last: true });
    for (let i = 0; i < 300; i++) q.shift();
    await new Promise((r) => setImmediate(r));
    gc();
    expect(refs.filter((r) => r.deref() !== undefined).length).toBe(0);
    expect(q.length).toBe(1);
  });
});
