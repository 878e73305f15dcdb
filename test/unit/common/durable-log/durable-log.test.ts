import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { appendFile, mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { DurableLog as Outbox, type DurableLogOptions as OutboxOptions } from '../../../../common/durable-log/durable-log.js';
import { FRAME_HEADER_BYTES, tableCrc32 } from '../../../../common/durable-log/frame.js';
import { createLogger } from '../../../../common/log.js';
import { readSlotFile } from '../../../../common/slot-file.js';

/** Frame overhead of the documented layout: u32 length, u32 crc, u64 id, u16 topic length. */
const HEADER = FRAME_HEADER_BYTES;

let dir: string;
let lines: string[];
let clock: FakeClock;
const opened: Outbox[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'canh-outbox-'));
  lines = [];
  clock = new FakeClock();
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const o of opened.splice(0)) await o.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

function options(over: Partial<OutboxOptions> = {}): OutboxOptions {
  const sink = { write: (s: string) => void lines.push(s) };
  return {
    dir: join(dir, 'outbox'),
    maxBytes: 1024 * 1024,
    segmentBytes: 64 * 1024,
    fsync: 'never',
    fsyncIntervalMs: 1000,
    clock,
    log: createLogger('test', { level: 'debug', destination: sink as unknown as NodeJS.WritableStream }),
    ...over,
  };
}

async function openOutbox(over: Partial<OutboxOptions> = {}): Promise<Outbox> {
  const o = new Outbox(options(over));
  await o.open();
  opened.push(o);
  return o;
}

async function reopen(o: Outbox, over: Partial<OutboxOptions> = {}): Promise<Outbox> {
  await o.close();
  return openOutbox(over);
}

/** Payload of `n` bytes that encodes `i`, so records can be told apart. */
function payloadFor(i: number, n = 16): Buffer {
  const b = Buffer.alloc(n, 0x61 + (i % 26));
  b.write(String(i).padStart(Math.min(8, n), '0').slice(-n), 0, 'latin1');
  return b;
}

async function readAll(o: Outbox, pageSize = 100): Promise<number[]> {
  const ids: number[] = [];
  let from = 0;
  for (;;) {
    const page = await o.read(from, pageSize);
    if (page.length === 0) return ids;
    for (const r of page) ids.push(r.id);
    from = page[page.length - 1]!.id + 1;
  }
}

async function segmentFiles(): Promise<string[]> {
  return (await readdir(join(dir, 'outbox'))).filter((n) => n.endsWith('.seg')).sort();
}

async function segmentBytesOnDisk(): Promise<number> {
  let total = 0;
  for (const n of await segmentFiles()) total += (await stat(join(dir, 'outbox', n))).size;
  return total;
}

async function activeSegmentPath(): Promise<string> {
  const files = await segmentFiles();
  return join(dir, 'outbox', files[files.length - 1]!);
}

async function cursorOnDisk(): Promise<number | undefined> {
  try {
    return (JSON.parse((await readSlotFile(join(dir, 'outbox', 'cursor.slots')))!) as { ackedThrough: number }).ackedThrough;
  } catch {
    return undefined;
  }
}

async function fileHandlePrototype(): Promise<FileHandle> {
  const fh = await open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(fh) as FileHandle;
  await fh.close();
  return proto;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('Outbox: syncWrites (the agent)', () => {
  it('writes the record on the calling thread: in the file before the first event-loop turn, only the fdatasync in the thread pool', async () => {
    for (const syncWrites of [false, true]) {
      const o = await openOutbox({ syncWrites, fsync: 'always' });
      await o.append('t', payloadFor(0)); // opens the active segment
      const path = await activeSegmentPath();
      const before = statSync(path).size;
      const p = o.append('t', payloadFor(1, 500));
      // Microtasks only: a thread-pool write cannot complete before the event loop turns.
      for (let i = 0; i < 50; i++) await Promise.resolve();
      const during = statSync(path).size;
      await p;
      expect(statSync(path).size).toBeGreaterThan(before);
      // With syncWrites the record is in the file before the loop turns. (Without, it usually
      // is not yet, but a thread-pool thread may write it meanwhile: no assertion, a race.)
      if (syncWrites) expect(during).toBeGreaterThan(before);
      expect((await o.read(0, 10)).map((r) => r.payload.equals(payloadFor(r.id, r.id === 1 ? 500 : 16)))).toEqual([true, true]);
      const again = await reopen(o, { syncWrites });
      expect(again.stats().records).toBe(2);
      await again.close();
      await rm(join(dir, 'outbox'), { recursive: true, force: true });
    }
  });
});

describe('Outbox: append and read', () => {
  it('round-trips topic and payload bytes', async () => {
    const o = await openOutbox();
    const recs = [
      { topic: 'canh/v1/xa-an-binh/pc-01/sample', payload: Buffer.from('{"seq":1}') },
      { topic: 'canh/v1/xã-phú-mỹ/máy-1/event', payload: Buffer.alloc(0) },
      { topic: '', payload: randomBytes(3000) },
    ];
    const ids: number[] = [];
    for (const r of recs) ids.push(await o.append(r.topic, r.payload));
    expect(ids).toEqual([0, 1, 2]);

    const got = await o.read(0, 10);
    expect(got.map((r) => r.id)).toEqual([0, 1, 2]);
    got.forEach((r, i) => {
      expect(r.topic).toBe(recs[i]!.topic);
      expect(r.payload.equals(recs[i]!.payload)).toBe(true);
    });
    expect((await o.read(1, 1)).map((r) => r.id)).toEqual([1]);
    expect(await o.read(3, 10)).toEqual([]);
    // Byte budget: always at least one record, then stop before exceeding it.
    expect((await o.read(0, 10, 1)).map((r) => r.id)).toEqual([0]);
    const budget = recs[0]!.topic.length + 9 + Buffer.byteLength(recs[1]!.topic);
    expect((await o.read(0, 10, budget)).map((r) => r.id)).toEqual([0, 1]);

    const s = o.stats();
    expect(s.records).toBe(3);
    expect(s.nextId).toBe(3);
    expect(s.firstUnacked).toBe(0);
    expect(s.segments).toBe(1);
    expect(s.bytes).toBe(await segmentBytesOnDisk());
  });

  it('copies the payload at append time', async () => {
    const o = await openOutbox();
    const buf = Buffer.from('original');
    const p = o.append('t', buf);
    buf.write('mutated!');
    await p;
    expect((await o.read(0, 1))[0]!.payload.toString()).toBe('original');
  });

  it('keeps ids monotonic across close and reopen, also when everything was acked', async () => {
    let o = await openOutbox({ segmentBytes: 200, maxBytes: 10_000 });
    for (let i = 0; i < 5; i++) expect(await o.append('t', payloadFor(i))).toBe(i);
    o = await reopen(o, { segmentBytes: 200, maxBytes: 10_000 });
    expect(o.stats().nextId).toBe(5);
    expect(await o.append('t', payloadFor(5))).toBe(5);
    for (let i = 0; i <= 5; i++) o.ack(i);
    o = await reopen(o, { segmentBytes: 200, maxBytes: 10_000 });
    expect(await o.read(0, 100)).toEqual([]);
    expect(await o.append('t', payloadFor(6))).toBe(6);
    expect((await o.read(0, 100)).map((r) => r.id)).toEqual([6]);
  });

  it('serialises concurrent appends: 200 at once get ids 0..199 in call order', async () => {
    // fsync 'always' and small segments so appends really interleave with I/O and rolls.
    const o = await openOutbox({ fsync: 'always', segmentBytes: 2000, maxBytes: 1_000_000 });
    const ids = await Promise.all(range(0, 200).map((i) => o.append(`t/${i}`, payloadFor(i))));
    expect(ids).toEqual(range(0, 200));
    const got = await o.read(0, 1000);
    expect(got.map((r) => r.id)).toEqual(range(0, 200));
    got.forEach((r, i) => {
      expect(r.topic).toBe(`t/${i}`);
      expect(r.payload.equals(payloadFor(i))).toBe(true);
    });
    expect(o.stats().segments).toBeGreaterThan(1);
  });

  it('rejects a record larger than segmentBytes with a RangeError and does not consume an id', async () => {
    const o = await openOutbox({ segmentBytes: 100, maxBytes: 1000 });
    await expect(o.append('t', Buffer.alloc(100 - HEADER))).rejects.toBeInstanceOf(RangeError);
    // Exactly segmentBytes fits.
    expect(await o.append('t', Buffer.alloc(100 - HEADER - 1))).toBe(0);
    expect(o.stats().bytes).toBe(100);
  });

  it('refuses use before open and after close', async () => {
    const o = new Outbox(options());
    await expect(o.append('t', Buffer.alloc(1))).rejects.toThrow(/not open/);
    await o.open();
    await o.close();
    await expect(o.read(0, 1)).rejects.toThrow(/not open/);
    await expect(o.open()).rejects.toThrow(/once/);

    // close() during open() waits for it and then closes.
    const o2 = new Outbox(options());
    const opening = o2.open();
    await o2.close();
    await opening;
    await expect(o2.append('t', Buffer.alloc(1))).rejects.toThrow(/not open/);
  });

  it('reads the next 100 records of a long backlog without reading the whole segment', async () => {
    const F = HEADER + 1 + 1500;
    let o = await openOutbox({ segmentBytes: 4 * 1024 * 1024, maxBytes: 64 * 1024 * 1024 });
    for (let i = 0; i < 4000; i++) await o.append('t', payloadFor(i, 1500));
    o = await reopen(o, { segmentBytes: 4 * 1024 * 1024, maxBytes: 64 * 1024 * 1024 });
    expect(o.stats().bytes).toBe(4000 * F);

    const readSpy = vi.spyOn(await fileHandlePrototype(), 'read');
    const got = await o.read(2000, 100);
    expect(got.map((r) => r.id)).toEqual(range(2000, 2100));
    expect(got[57]!.payload.equals(payloadFor(2057, 1500))).toBe(true);
    const requested = readSpy.mock.calls.reduce((sum, call) => sum + Number((call as unknown[])[2] ?? 0), 0);
    expect(requested).toBe(100 * F);
  });
});

describe('Outbox: crash recovery', () => {
  const F = HEADER + 1 + 16; // topic 't', 16-byte payload

  async function writeAndClose(n: number, over: Partial<OutboxOptions> = {}): Promise<void> {
    const o = await openOutbox(over);
    for (let i = 0; i < n; i++) await o.append('t', payloadFor(i));
    await o.close();
  }

  it('cuts a torn frame (valid header, body cut short) and keeps every complete record', async () => {
    await writeAndClose(10);
    // A header announcing a 200-byte body, followed by only 20 bytes of it.
    const torn = Buffer.alloc(8 + 20, 0x55);
    torn.writeUInt32LE(200, 0);
    torn.writeUInt32LE(0xdeadbeef, 4);
    await appendFile(await activeSegmentPath(), torn);

    let o = await openOutbox();
    expect(o.stats().truncatedBytes).toBe(torn.length);
    expect(await readAll(o)).toEqual(range(0, 10));
    expect((await o.read(9, 1))[0]!.payload.equals(payloadFor(9))).toBe(true);
    expect(lines.some((l) => l.includes('cut torn or corrupt tail') && l.includes('torn frame'))).toBe(true);

    expect(await o.append('t', payloadFor(10))).toBe(10);
    o = await reopen(o);
    expect(o.stats().truncatedBytes).toBe(0);
    expect(await readAll(o)).toEqual(range(0, 11));
    expect((await o.read(10, 1))[0]!.payload.equals(payloadFor(10))).toBe(true);
  });

  it('cuts random garbage, a partial header and a zero-filled tail', async () => {
    await writeAndClose(10);
    // Deterministic pseudo-random garbage (LCG), so a failure is reproducible.
    const garbage = Buffer.alloc(777);
    let x = 12345;
    for (let i = 0; i < garbage.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      garbage[i] = x >>> 24;
    }
    await appendFile(await activeSegmentPath(), garbage);
    let o = await openOutbox();
    expect(o.stats().truncatedBytes).toBe(777);
    expect(await readAll(o)).toEqual(range(0, 10));
    expect(await segmentBytesOnDisk()).toBe(10 * F);

    await o.close();
    await appendFile(await activeSegmentPath(), Buffer.from([1, 2, 3, 4, 5, 6, 7])); // shorter than a header
    o = await openOutbox();
    expect(o.stats().truncatedBytes).toBe(7);

    await o.close();
    await appendFile(await activeSegmentPath(), Buffer.alloc(4096)); // what a power cut can leave
    o = await openOutbox();
    expect(o.stats().truncatedBytes).toBe(4096);
    expect(await readAll(o)).toEqual(range(0, 10));
    expect(await o.append('t', payloadFor(10))).toBe(10);
    o = await reopen(o);
    expect(await readAll(o)).toEqual(range(0, 11));
  });

  it('cuts at a corrupted byte in the middle of the active segment; earlier records survive', async () => {
    await writeAndClose(10);
    const path = await activeSegmentPath();
    const bytes = await readFile(path);
    bytes[5 * F + HEADER + 4]! ^= 0xff; // inside record 5's payload
    await writeFile(path, bytes);

    let o = await openOutbox();
    expect(o.stats().truncatedBytes).toBe(5 * F);
    expect(await readAll(o)).toEqual(range(0, 5));
    expect((await stat(path)).size).toBe(5 * F);
    expect(lines.some((l) => l.includes('crc mismatch'))).toBe(true);
    const id = await o.append('t', payloadFor(99));
    o = await reopen(o);
    expect(await readAll(o)).toEqual([...range(0, 5), id]);
  });

  it('cuts only the bad tail of an older segment and keeps later segments', async () => {
    await writeAndClose(30, { segmentBytes: 10 * F, maxBytes: 100 * F });
    expect(await segmentFiles()).toHaveLength(3);
    const middle = join(dir, 'outbox', (await segmentFiles())[1]!);
    const bytes = await readFile(middle);
    bytes[3 * F + 9]! ^= 0x01; // record 13's id (covered by the CRC)
    await writeFile(middle, bytes);

    const o = await openOutbox({ segmentBytes: 10 * F, maxBytes: 100 * F });
    expect(o.stats().truncatedBytes).toBe(7 * F);
    expect(await readAll(o)).toEqual([...range(0, 13), ...range(20, 30)]);
    expect(o.stats().nextId).toBe(30);
  });

  it('deletes an empty segment left by a crash during a roll', async () => {
    await writeAndClose(3);
    await writeFile(join(dir, 'outbox', `${'3'.padStart(16, '0')}.seg`), Buffer.alloc(0));
    const o = await openOutbox();
    expect(await segmentFiles()).toHaveLength(1);
    expect(o.stats().truncatedBytes).toBe(0);
    expect(await o.append('t', payloadFor(3))).toBe(3);
    expect(await readAll(o)).toEqual(range(0, 4));
  });

  it('skips and auto-acks a record that rotted on disk after open', async () => {
    const o = await openOutbox();
    for (let i = 0; i < 5; i++) await o.append('t', payloadFor(i));
    const fh = await open(await activeSegmentPath(), 'r+');
    await fh.write(Buffer.from('X'), 0, 1, 2 * F + HEADER + 3); // record 2's payload
    await fh.close();
    expect(await readAll(o)).toEqual([0, 1, 3, 4]);
    expect(o.isAcked(2)).toBe(true);
    expect(lines.some((l) => l.includes('failed validation on read'))).toBe(true);
    for (const id of [0, 1]) o.ack(id);
    expect(o.stats().firstUnacked).toBe(3); // the cursor did not stall on the bad record
  });

  it('a failed write rejects the append, leaves no remnant and the id gap does not stall the cursor', async () => {
    let o = await openOutbox();
    expect(await o.append('t', payloadFor(0))).toBe(0);
    const write = vi.spyOn(await fileHandlePrototype(), 'write');
    write.mockRejectedValueOnce(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    await expect(o.append('t', payloadFor(1))).rejects.toThrow(/no space/);
    expect(await o.append('t', payloadFor(2))).toBe(2);
    expect(o.stats().bytes).toBe(2 * F);
    expect(await readAll(o)).toEqual([0, 2]);
    o.ack(0);
    o.ack(2);
    expect(o.stats()).toMatchObject({ records: 0, firstUnacked: undefined });
    o = await reopen(o);
    expect(o.stats().truncatedBytes).toBe(0);
    expect(await readAll(o)).toEqual([]);
    expect(await cursorOnDisk()).toBe(2);
    expect(await o.append('t', payloadFor(3))).toBe(3);
  });

  it('replays everything when the cursor is unreadable (both slots torn)', async () => {
    const o1 = await openOutbox();
    for (let i = 0; i < 5; i++) await o1.append('t', payloadFor(i));
    for (let i = 0; i < 3; i++) o1.ack(i);
    await o1.close();
    expect(await cursorOnDisk()).toBe(2);
    await writeFile(join(dir, 'outbox', 'cursor.slots'), '{"ackedThr');
    const o = await openOutbox();
    expect(await readAll(o)).toEqual(range(0, 5));
    expect(lines.some((l) => l.includes('cursor.slots unreadable'))).toBe(true);
  });

  it("an earlier version's cursor.json is read when there is no cursor.slots, and removed after the next persist", async () => {
    const o1 = await openOutbox();
    for (let i = 0; i < 5; i++) await o1.append('t', payloadFor(i));
    await o1.close();
    await rm(join(dir, 'outbox', 'cursor.slots'), { force: true });
    await writeFile(join(dir, 'outbox', 'cursor.json'), '{"ackedThrough":2}\n');
    const o = await openOutbox();
    expect(await readAll(o)).toEqual(range(3, 5));
    o.ack(3);
    await o.close();
    expect(await cursorOnDisk()).toBe(3);
    await expect(readFile(join(dir, 'outbox', 'cursor.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });
});

describe('Outbox: byte bound and overflow', () => {
  // Every record is exactly F = 100 bytes; a segment holds 10, the bound 3 full segments.
  const F = 100;
  const S = 1000;
  const M = 3000;
  const rec = (i: number): Buffer => Buffer.concat([Buffer.from('SECRET-PAYLOAD-'), payloadFor(i, F - HEADER - 1 - 15)]);

  it('drops the oldest segments, counts exactly, never exceeds the bound', async () => {
    const calls: Array<[number, number]> = [];
    const o = await openOutbox({ segmentBytes: S, maxBytes: M, onOverflow: (r, b) => calls.push([r, b]) });
    const N = 105;
    for (let i = 0; i < N; i++) {
      await o.append('t', rec(i));
      expect(o.stats().bytes).toBeLessThanOrEqual(M);
      expect(await segmentBytesOnDisk()).toBeLessThanOrEqual(M + F);
      expect(o.stats().bytes).toBe(await segmentBytesOnDisk());
    }
    // The 31st record opens a 4th segment (3100 > 3000), dropping the oldest 10 records;
    // every 10th record after that does the same. After 105 appends the segments hold
    // 80..89, 90..99, 100..104, so exactly 80 records went, in 8 drops of 10.
    const expectedDropped = 80;
    expect(calls).toEqual(Array.from({ length: 8 }, () => [10, 10 * F]));
    const s = o.stats();
    expect(s.droppedRecords).toBe(expectedDropped);
    expect(s.droppedBytes).toBe(expectedDropped * F);
    expect(s.segments).toBe(3);
    expect(s.records).toBe(N - expectedDropped);
    expect(s.firstUnacked).toBe(80);
    expect(await readAll(o, 7)).toEqual(range(80, N));
    expect((await o.read(0, 1))[0]!.payload.equals(rec(80))).toBe(true);
    expect((await o.read(104, 1))[0]!.payload.equals(rec(104))).toBe(true);
    // Dropped ids count as acked, so they cannot stall the cursor.
    expect(o.isAcked(79)).toBe(true);
    expect(o.isAcked(80)).toBe(false);

    const warns = lines.filter((l) => l.includes('outbox overflow'));
    expect(warns).toHaveLength(8);
    expect(JSON.parse(warns[0]!)).toMatchObject({ level: 40, droppedRecords: 10, droppedBytes: 1000 });
    expect(lines.some((l) => l.includes('SECRET-PAYLOAD'))).toBe(false);

    const again = await reopen(o, { segmentBytes: S, maxBytes: M });
    expect(await readAll(again)).toEqual(range(80, N));
    expect(await cursorOnDisk()).toBe(79);
  });

  it('counts only records that were not acked', async () => {
    const calls: Array<[number, number]> = [];
    const o = await openOutbox({ segmentBytes: S, maxBytes: M, onOverflow: (r, b) => calls.push([r, b]) });
    for (let i = 0; i < 30; i++) await o.append('t', rec(i));
    expect(calls).toEqual([]);
    for (const id of [0, 1, 2, 3, 4, 7]) o.ack(id);
    await o.append('t', rec(30));
    // Segment 0..9 dropped; 0-4 and 7 were acked, so 5, 6, 8, 9 were lost.
    expect(calls).toEqual([[4, 4 * F]]);
    expect(o.stats()).toMatchObject({ droppedRecords: 4, firstUnacked: 10, records: 21 });
    expect(o.isAcked(5)).toBe(true);
  });
});

describe('Outbox: acknowledgements', () => {
  const F = HEADER + 1 + 16;
  const opts = { segmentBytes: 10 * F, maxBytes: 100 * F };

  it('advances the cursor only over contiguous acks, persists it at most once a second, deletes acked segments', async () => {
    let o = await openOutbox(opts);
    for (let i = 0; i < 30; i++) await o.append('t', payloadFor(i));
    expect(await segmentFiles()).toHaveLength(3);

    o.ack(2);
    o.ack(1);
    expect(o.isAcked(1)).toBe(true);
    expect(o.isAcked(0)).toBe(false);
    expect(o.stats().firstUnacked).toBe(0);
    expect(clock.pending).toBe(0); // cursor did not move: nothing to persist
    o.ack(0);
    expect(o.stats().firstUnacked).toBe(3);
    expect(o.stats().records).toBe(27);

    clock.advance(0); // first persist is immediate
    await o.read(0, 1); // queue barrier
    expect(await cursorOnDisk()).toBe(2);

    for (let i = 3; i < 10; i++) o.ack(i);
    expect(o.stats().firstUnacked).toBe(10);
    clock.advance(999);
    await o.read(0, 1);
    expect(await cursorOnDisk()).toBe(2); // rate-limited
    expect(await segmentFiles()).toHaveLength(3);
    clock.advance(1);
    await o.read(0, 1);
    expect(await cursorOnDisk()).toBe(9);
    expect(await segmentFiles()).toHaveLength(2); // 0..9 fully acked: deleted
    expect(o.stats().segments).toBe(2);
    expect(o.stats().bytes).toBe(20 * F);

    for (let i = 10; i <= 15; i++) o.ack(i);
    o.ack(17);
    o.ack(25);
    o.ack(25); // duplicate
    o.ack(1000); // unknown
    o.ack(3); // already below the cursor
    expect(o.stats()).toMatchObject({ firstUnacked: 16, records: 12 });
    expect(o.isAcked(17)).toBe(true);
    expect(o.isAcked(16)).toBe(false);
    expect(await readAll(o)).toEqual([16, ...range(18, 25), ...range(26, 30)]);
    expect((await o.read(17, 2)).map((r) => r.id)).toEqual([18, 19]);

    o = await reopen(o, opts);
    expect(await cursorOnDisk()).toBe(15);
    // Acks above the durable cursor (17, 25) are not persisted: replayed by design.
    expect(await readAll(o)).toEqual(range(16, 30));
    expect(o.stats()).toMatchObject({ records: 14, firstUnacked: 16, segments: 2 });
    expect(o.isAcked(15)).toBe(true);
    expect(o.isAcked(16)).toBe(false);
  });

  it('never deletes the active segment, even when fully acked', async () => {
    const o = await openOutbox(opts);
    for (let i = 0; i < 15; i++) await o.append('t', payloadFor(i));
    for (let i = 0; i < 15; i++) o.ack(i);
    clock.advance(0);
    await o.read(0, 1);
    expect(await cursorOnDisk()).toBe(14);
    expect(await segmentFiles()).toEqual([`${'10'.padStart(16, '0')}.seg`]);
    expect(o.stats()).toMatchObject({ records: 0, firstUnacked: undefined, segments: 1 });
  });

  it('replays in order: 1,000 records, every 3rd acked, pages of 50', async () => {
    let o = await openOutbox({ segmentBytes: 4096, maxBytes: 1_000_000 });
    for (let i = 0; i < 1000; i++) await o.append('t', payloadFor(i));
    const ackedIds = new Set<number>();
    for (let i = 0; i < 100; i++) ackedIds.add(i); // a contiguous acked prefix
    for (let i = 0; i < 1000; i += 3) ackedIds.add(i);
    // Out of order: descending.
    for (const id of [...ackedIds].sort((a, b) => b - a)) o.ack(id);

    const unacked = range(0, 1000).filter((id) => !ackedIds.has(id));
    const pages: number[][] = [];
    let from = 0;
    for (;;) {
      const page = await o.read(from, 50);
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(50);
      pages.push(page.map((r) => r.id));
      from = page[page.length - 1]!.id + 1;
    }
    expect(pages.flat()).toEqual(unacked);
    expect(pages.slice(0, -1).every((p) => p.length === 50)).toBe(true);
    expect(o.stats().records).toBe(unacked.length);

    // After a restart only the durable cursor (99) survives: everything above it is
    // replayed, in order (at-least-once; the collector dedups by boot+seq).
    o = await reopen(o, { segmentBytes: 4096, maxBytes: 1_000_000 });
    expect(await cursorOnDisk()).toBe(99);
    expect(await readAll(o, 50)).toEqual(range(100, 1000));
  });
});

describe('Outbox: fsync policy', () => {
  it("'interval' flushes from the clock timer, at most once per interval", async () => {
    const datasync = vi.spyOn(await fileHandlePrototype(), 'datasync');
    const o = await openOutbox({ fsync: 'interval', fsyncIntervalMs: 500 });
    for (let i = 0; i < 5; i++) await o.append('t', payloadFor(i));
    expect(datasync).toHaveBeenCalledTimes(0);
    clock.advance(499);
    await o.read(0, 1);
    expect(datasync).toHaveBeenCalledTimes(0);
    clock.advance(1);
    await o.read(0, 1);
    expect(datasync).toHaveBeenCalledTimes(1);

    clock.advance(10_000); // idle: no timer armed, no flush
    await o.read(0, 1);
    expect(datasync).toHaveBeenCalledTimes(1);

    await o.append('t', payloadFor(5));
    await o.append('t', payloadFor(6));
    clock.advance(500);
    await o.read(0, 1);
    expect(datasync).toHaveBeenCalledTimes(2);

    await o.append('t', payloadFor(7));
    await o.close();
    expect(datasync).toHaveBeenCalledTimes(3); // close flushes
    expect(clock.pending).toBe(0);
    const again = await openOutbox();
    expect(await readAll(again)).toEqual(range(0, 8));
  });

  it("'always' fdatasyncs every append before it resolves; 'never' only at close", async () => {
    const datasync = vi.spyOn(await fileHandlePrototype(), 'datasync');
    let o = await openOutbox({ fsync: 'always' });
    for (let i = 0; i < 4; i++) {
      await o.append('t', payloadFor(i));
      expect(datasync).toHaveBeenCalledTimes(i + 1);
    }
    await o.close();
    datasync.mockClear();

    o = await openOutbox({ fsync: 'never' });
    for (let i = 0; i < 4; i++) await o.append('t', payloadFor(i));
    expect(datasync).toHaveBeenCalledTimes(0);
    await o.close();
    expect(datasync).toHaveBeenCalledTimes(1);
  });
});

describe('Outbox: CRC-32 fallback', () => {
  it('matches the standard check value and zlib', () => {
    expect(tableCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const data = randomBytes(4096);
    const native = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
    if (typeof native === 'function') expect(tableCrc32(data)).toBe(native(data) >>> 0);
    expect(tableCrc32(Buffer.alloc(0))).toBe(0);
  });
});
