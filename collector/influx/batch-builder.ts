/**
 * Cuts the InfluxDB writer's stream of lines into batches: a batch is sealed when it holds
 * `batchLines` lines, when one more line would make it larger than a spool record, or
 * `flushMs` after its first line (the timer runs on the injected clock).
 */
import type { Clock, TimerHandle } from '../../common/clock.js';

export interface BatchBuilderOptions {
  batchLines: number;
  flushMs: number;
  /** Largest batch in bytes (a spool record); a longer line is refused by {@link BatchBuilder.add}. */
  maxBatchBytes: () => number;
  clock: Clock;
  /** A sealed batch: `lines` lines of line protocol joined by newlines. */
  onSealed: (text: string, lines: number) => void;
}

export class BatchBuilder {
  private lines: string[] = [];
  private bytes = 0;
  private timer: TimerHandle | undefined;

  constructor(private readonly opts: BatchBuilderOptions) {}

  /** Lines in the batch being built. */
  size(): number {
    return this.lines.length;
  }

  /** Adds one line; false (nothing added) when it alone is larger than a batch may be. */
  add(line: string): boolean {
    const bytes = Buffer.byteLength(line, 'utf8') + 1;
    const max = this.opts.maxBatchBytes();
    if (bytes > max) return false;
    if (this.lines.length > 0 && this.bytes + bytes > max) this.seal();
    this.lines.push(line);
    this.bytes += bytes;
    if (this.lines.length >= this.opts.batchLines) this.seal();
    return true;
  }

  /** Starts the flush timer of a non-empty batch (once per batch). */
  arm(): void {
    if (this.timer || this.lines.length === 0) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.seal();
    }, this.opts.flushMs);
  }

  /** Stops the flush timer (the batch stays until sealed). */
  disarm(): void {
    this.opts.clock.clear(this.timer);
    this.timer = undefined;
  }

  /** Seals the batch being built, if any. */
  seal(): void {
    this.disarm();
    if (this.lines.length === 0) return;
    const n = this.lines.length;
    const text = this.lines.join('\n');
    this.lines = [];
    this.bytes = 0;
    this.opts.onSealed(text, n);
  }
}
