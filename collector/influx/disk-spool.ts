/**
 * The InfluxDB writer's on-disk spool: a bounded, durable FIFO of line-protocol batches.
 * It is the shared {@link DurableLog} of common/durable-log/ (append-only segment files, CRC-32 per record, an ack
 * cursor written atomically, torn tails cut at open, oldest segment dropped beyond the byte
 * bound with a counted, logged overflow) used with one topic, `influx`, and the batch text
 * as payload, so the two durable queues of Canh share one implementation and one test
 * suite. See common/durable-log/ for the file format and the recovery rules.
 *
 * What this adapter adds: the size of a segment (and so of the largest batch) derived from
 * the byte bound, and batches as text with their line count.
 */
import { DurableLog, FRAME_HEADER_BYTES, type DurableLogStats, type FsyncPolicy } from '../../common/durable-log/durable-log.js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';

const TOPIC = 'influx';
/** Frame header of the durable log plus the topic. */
const FRAME_OVERHEAD = FRAME_HEADER_BYTES + TOPIC.length;
/** Smallest spool we accept: 8 segments of 4 KiB. */
export const MIN_SPOOL_BYTES = 32 * 1024;
const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;

/** One spooled batch. */
export interface SpoolBatch {
  id: number;
  text: string;
  /** Lines (points) in `text`. */
  lines: number;
}

export interface DiskSpoolOptions {
  dir: string;
  /** Bound on the bytes of all segment files. */
  maxBytes: number;
  /**
   * `always` (default): a batch is on disk (fdatasync) before it is sent; one flush per
   * batch, i.e. at most a few per second. `interval` flushes once per second.
   */
  fsync?: FsyncPolicy;
  clock: Clock;
  log: Logger;
  /** Called (synchronously, inside an append) after the bound dropped unacknowledged batches. */
  onOverflow?: (droppedBatches: number, droppedBytes: number) => void;
}

/** Lines in a batch: one per `\n`-separated line. */
export function countLines(text: string): number {
  if (text.length === 0) return 0;
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** A bounded, crash-safe FIFO of line-protocol batches; see the file header. */
export class DiskSpool {
  private readonly outbox: DurableLog;
  /** Largest batch text (UTF-8 bytes) a record can hold. */
  readonly maxBatchBytes: number;

  constructor(opts: DiskSpoolOptions) {
    if (!(opts.maxBytes >= MIN_SPOOL_BYTES)) throw new RangeError(`influx spool: maxBytes must be >= ${MIN_SPOOL_BYTES}`);
    // Eight segments per bound: an overflow drops an eighth of the spool at a time.
    const segmentBytes = Math.min(MAX_SEGMENT_BYTES, Math.floor(opts.maxBytes / 8));
    this.maxBatchBytes = segmentBytes - FRAME_OVERHEAD;
    this.outbox = new DurableLog({
      dir: opts.dir,
      maxBytes: opts.maxBytes,
      segmentBytes,
      fsync: opts.fsync ?? 'always',
      fsyncIntervalMs: 1000,
      clock: opts.clock,
      log: opts.log,
      onOverflow: opts.onOverflow,
    });
  }

  open(): Promise<void> {
    return this.outbox.open();
  }

  close(): Promise<void> {
    return this.outbox.close();
  }

  /** Appends a batch; resolves with its id once it is on disk. Throws on I/O errors (retry later) or a batch over {@link maxBatchBytes}. */
  append(text: string): Promise<number> {
    return this.outbox.append(TOPIC, Buffer.from(text, 'utf8'));
  }

  /** Up to `maxBatches` unacknowledged batches with id >= `fromId`, in order. */
  async read(fromId: number, maxBatches: number, maxBytes = 8 * 1024 * 1024): Promise<SpoolBatch[]> {
    const records = await this.outbox.read(fromId, maxBatches, maxBytes);
    return records.map((r) => {
      const text = r.payload.toString('utf8');
      return { id: r.id, text, lines: countLines(text) };
    });
  }

  /** Removes a batch from the spool (it was written to the database). */
  ack(id: number): void {
    this.outbox.ack(id);
  }

  /** True when the batch is acknowledged or was dropped by the overflow. */
  isGone(id: number): boolean {
    return this.outbox.isAcked(id);
  }

  stats(): DurableLogStats {
    return this.outbox.stats();
  }
}
