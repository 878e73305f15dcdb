import { Aedes } from 'aedes';
import { describe, expect, it } from 'vitest';
import { queueInFifo } from '../../../../collector/broker/fifo.js';

describe('queueInFifo on the emitter of a real aedes broker', () => {
  it('replaces its queues, and the broker still delivers every message once, in order, when more wait than its concurrency', async () => {
    const aedes = await Aedes.createBroker({ concurrency: 10 });
    const mq = (aedes as unknown as { mq: { on(t: string, fn: (p: { payload: Buffer }, done: () => void) => void): void; emit(p: object, cb?: () => void): void; length: number } })
      .mq;
    expect(queueInFifo(mq)).toBe(true);
    expect(queueInFifo(mq)).toBe(false); // already replaced: left as it is
    const got: number[] = [];
    mq.on('canh/test', (p, done) => {
      got.push(Number(p.payload.toString()));
      setImmediate(done); // slow to drain: the rest queue behind the concurrency
    });
    const N = 5000;
    for (let i = 0; i < N; i++) mq.emit({ topic: 'canh/test', payload: Buffer.from(String(i)) });
    expect(mq.length).toBeGreaterThan(N / 2);
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const check = () => (got.length === N ? resolve() : Date.now() - started > 20_000 ? reject(new Error(`${got.length} of ${N}`)) : setTimeout(check, 10));
      check();
    });
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(mq.length).toBe(0);
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  });

  it('leaves an emitter without the expected queues alone', () => {
    expect(queueInFifo({})).toBe(false);
    expect(queueInFifo(null)).toBe(false);
    expect(queueInFifo({ _messageQueue: [1], _messageCallbacks: [() => {}] })).toBe(false);
  });
});
