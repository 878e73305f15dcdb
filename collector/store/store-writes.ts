import type { EventRow, InventoryRow, SampleRow, StatusRow, Store } from './store.js';
import { sampleParams, type SampleParams, type SqliteStore } from './sqlite-store.js';

/** The writes ingest makes (collector/ingest/ingest.ts): the store itself, or a {@link WriteRecorder}. */
export type IngestWrites = Pick<Store, 'insertSample' | 'insertEvent' | 'upsertInventory' | 'applyStatus' | 'setClockSkew'>;

/**
 * One write of ingest as plain data (structured clone to the store writer's worker). A
 * sample is already its insert parameters (the JSON built on the loop, so the worker only
 * binds and writes).
 */
export type WriteOp =
  | { op: 'sample'; p: SampleParams }
  | { op: 'event'; row: EventRow }
  | { op: 'inventory'; row: InventoryRow }
  | { op: 'status'; row: StatusRow }
  | { op: 'skew'; site: string; host: string; skewMs: number | null; since: number | null };

/**
 * Ingest's writes recorded instead of run (the group commit with a store writer,
 * group-commit.ts): each returns `true` for now; {@link last} is the index of the latest
 * op, whose real answer (new row or duplicate) comes back from {@link runWriteOps}.
 */
export class WriteRecorder implements IngestWrites {
  readonly ops: WriteOp[] = [];
  /** Samples among {@link ops} (the main store's count is told after the commit). */
  samples = 0;

  get last(): number {
    return this.ops.length - 1;
  }
  insertSample(row: SampleRow): boolean {
    this.ops.push({ op: 'sample', p: sampleParams(row) });
    this.samples++;
    return true;
  }
  insertEvent(row: EventRow): boolean {
    this.ops.push({ op: 'event', row });
    return true;
  }
  upsertInventory(row: InventoryRow): boolean {
    this.ops.push({ op: 'inventory', row });
    return true;
  }
  applyStatus(row: StatusRow): boolean {
    this.ops.push({ op: 'status', row });
    return true;
  }
  setClockSkew(site: string, host: string, skewMs: number | null, since: number | null): void {
    this.ops.push({ op: 'skew', site, host, skewMs, since });
  }
}

/**
 * Run recorded writes in one transaction of `store` (the worker's own connection); one
 * answer per op: 1 a new row (or a status applied), 0 a duplicate (or nothing changed).
 * Throws, after rolling back, when the store fails: nothing of the batch is written.
 */
export function runWriteOps(store: SqliteStore, ops: readonly WriteOp[]): Uint8Array {
  const out = new Uint8Array(ops.length);
  store.transaction(() => {
    for (let i = 0; i < ops.length; i++) {
      const w = ops[i]!;
      let fresh = true;
      switch (w.op) {
        case 'sample':
          fresh = store.insertSampleParams(w.p);
          break;
        case 'event':
          fresh = store.insertEvent(w.row);
          break;
        case 'inventory':
          fresh = store.upsertInventory(w.row);
          break;
        case 'status':
          fresh = store.applyStatus(w.row);
          break;
        case 'skew':
          store.setClockSkew(w.site, w.host, w.skewMs, w.since);
          break;
      }
      out[i] = fresh ? 1 : 0;
    }
  });
  return out;
}
