/**
 * What the OS recorded about how the previous OS boot ended (issue 3): read once at agent
 * start, after a run that ended without the agent's clean-shutdown marker on a new OS boot.
 */

/** How the previous boot ended, by the OS's own records. */
export type ShutdownKind = 'planned' | 'crash' | 'hang_reset' | 'power_loss' | 'unknown';

export type EvidenceDetail = string | number | boolean | null;

export interface ShutdownFinding {
  kind: ShutdownKind;
  /** Where the finding comes from. */
  source: 'windows_event_log' | 'journal' | 'wtmp' | 'none';
  /**
   * When the previous boot stopped, if the records say (Windows 6008, the journal's last
   * entry, the time of a planned shutdown), epoch ms.
   */
  endedAt?: number;
  /** Short machine-readable evidence (event ids, bugcheck code, shutdown type...). */
  details: Record<string, EvidenceDetail>;
}

/** What the reader is asked: the previous run's last heartbeat and the current OS boot. */
export interface EvidenceQuery {
  /** Last heartbeat of the previous run, epoch ms. */
  lastHeartbeat: number;
  /** This OS boot's time, epoch ms, when known. */
  osBoot: number | null;
  /** The previous run's OS boot id (Linux boot_id), when it was recorded. */
  previousOsBootId: string | null;
  now: number;
}

/**
 * Port: the OS's record of the previous shutdown (Windows System event log, the systemd
 * journal, wtmp). Implementations never throw: what they cannot read is `unknown`
 * (house style §11).
 */
export interface ShutdownEvidenceReader {
  read(q: EvidenceQuery): Promise<ShutdownFinding>;
}

export const NO_EVIDENCE: ShutdownFinding = { kind: 'unknown', source: 'none', details: {} };
