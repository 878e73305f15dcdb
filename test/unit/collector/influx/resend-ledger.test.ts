import { describe, expect, it } from 'vitest';
import { ResendLedger } from '../../../../collector/influx/resend-ledger.js';

describe('ResendLedger', () => {
  it('sends in order, keeps written batches for the resend window, then acknowledges them', () => {
    const l = new ResendLedger();
    l.push(1, 10);
    l.push(2, 5);
    expect(l.next()?.id).toBe(1);
    expect(l.backlogLines()).toBe(15);
    l.markWritten(1, 100);
    expect(l.next()?.id).toBe(2);
    expect(l.backlogLines()).toBe(5);
    expect(l.nextExpiryIn(150, 1000)).toBe(950);
    const acked: number[] = [];
    l.expire(500, 1000, (id) => acked.push(id));
    expect(acked).toEqual([]);
    l.expire(1100, 1000, (id) => acked.push(id));
    expect(acked).toEqual([1]);
    expect(l.writtenCount()).toBe(0);
  });

  it('marks written batches for resending when the connection is lost', () => {
    const l = new ResendLedger();
    l.push(1, 10);
    l.push(2, 5);
    l.markWritten(1, 100);
    l.resendWritten();
    expect(l.next()).toMatchObject({ id: 1, resend: true });
    expect(l.backlogLines()).toBe(15);
    l.markWritten(1, 200);
    expect(l.next()).toMatchObject({ id: 2, resend: false });
  });

  it('counts a refused batch as no lines, removes an unreadable one, drops what the spool deleted', () => {
    const l = new ResendLedger();
    for (const id of [1, 2, 3, 4]) l.push(id, 10);
    l.markWritten(1, 0, true);
    expect(l.removeUnsent(3)).toBe(false);
    expect(l.removeUnsent(2)).toBe(true);
    expect(l.next()?.id).toBe(3);
    const forgotten: number[] = [];
    const lost = l.dropGone(
      (id) => id <= 3,
      (id) => forgotten.push(id),
    );
    expect(forgotten).toEqual([1, 3]);
    expect(lost).toEqual({ lines: 10, batches: 1 });
    expect(l.next()?.id).toBe(4);
  });
});
