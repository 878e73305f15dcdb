/**
 * The texts of spooled batches the InfluxDB writer keeps in memory (influx-writer.ts): those
 * waiting to be sent, up to `maxLines` lines (more stay on disk only), and a read-ahead page
 * read back from the spool when the sender reaches batches that were not kept.
 */
export class BatchTexts {
  private readonly held = new Map<number, string>();
  private heldLines = 0;
  private readonly readAhead = new Map<number, string>();

  constructor(private readonly maxLines: number) {}

  /** Keeps a freshly spooled batch when it fits the bound; false: it stays on disk only. */
  hold(id: number, text: string, lines: number): boolean {
    if (this.heldLines + lines > this.maxLines) return false;
    this.held.set(id, text);
    this.heldLines += lines;
    return true;
  }

  get(id: number): string | undefined {
    return this.held.get(id) ?? this.readAhead.get(id);
  }

  /** Replaces the read-ahead page with batches just read from the spool. */
  fillReadAhead(page: ReadonlyArray<{ id: number; text: string }>): void {
    this.readAhead.clear();
    for (const b of page) this.readAhead.set(b.id, b.text);
  }

  clearReadAhead(): void {
    this.readAhead.clear();
  }

  /** A batch written (or dropped): its text is no longer needed. */
  forget(id: number): void {
    const text = this.held.get(id);
    if (text !== undefined) {
      this.held.delete(id);
      this.heldLines -= countLinesOf(text);
    }
    this.readAhead.delete(id);
  }

  /** Lines held (the read-ahead page not counted: it is bounded in bytes). */
  get lines(): number {
    return this.heldLines;
  }
}

export function countLinesOf(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
