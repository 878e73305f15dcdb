import { join } from 'node:path';
import { readJsonFile, removeFile, writeFileAtomic } from '../../common/atomic-file.js';

/** The clean-shutdown marker file in the state dir. */
export const SHUTDOWN_MARKER_FILE = 'clean-shutdown.json';

/**
 * Written when the agent is asked to stop (SIGTERM/SIGINT, the Windows service stop, the
 * OS shutting down) and removed at the next start. Carries the run id, so a marker left
 * over from an older run (its removal lost to a power cut) never vouches for a newer one.
 */
export interface ShutdownMarkerRecord {
  v: 1;
  run: string;
  /** When the stop was requested, epoch ms. */
  t: number;
}

export function parseShutdownMarker(x: unknown): ShutdownMarkerRecord | null {
  if (!x || typeof x !== 'object') return null;
  const r = x as Record<string, unknown>;
  if (r.v !== 1 || typeof r.run !== 'string' || !Number.isFinite(r.t)) return null;
  return { v: 1, run: r.run, t: r.t as number };
}

export class ShutdownMarker {
  private readonly path: string;
  constructor(
    stateDir: string,
    private readonly fsync: boolean,
  ) {
    this.path = join(stateDir, SHUTDOWN_MARKER_FILE);
  }

  async read(): Promise<ShutdownMarkerRecord | null> {
    return parseShutdownMarker(await readJsonFile(this.path));
  }

  write(run: string, t: number): Promise<void> {
    const rec: ShutdownMarkerRecord = { v: 1, run, t };
    return writeFileAtomic(this.path, JSON.stringify(rec), { fsync: this.fsync });
  }

  remove(): Promise<void> {
    return removeFile(this.path);
  }
}
