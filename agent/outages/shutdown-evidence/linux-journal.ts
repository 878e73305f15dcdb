import type { EvidenceDetail, ShutdownFinding } from './shutdown-finding.js';

/**
 * The systemd journal of the previous boot, read once at start after an unclean run on a new
 * OS boot (journalctl; needs a persistent journal, /var/log/journal). Pure parsers here,
 * fixture-tested; the commands run in reader.ts.
 */

/** One boot from `journalctl --list-boots -o json`. */
export interface JournalBoot {
  index: number;
  bootId: string;
  /** Last entry of that boot, epoch ms. */
  lastEntry?: number;
}

/** `journalctl --list-boots` output: JSON (systemd ≥ 251) or the classic table. */
export function parseListBoots(text: string): JournalBoot[] {
  const t = text.trim();
  if (t.startsWith('[')) {
    const list = JSON.parse(t) as Array<Record<string, unknown>>;
    return list
      .filter((b) => typeof b.boot_id === 'string')
      .map((b) => {
        const last = Number(b.last_entry);
        return {
          index: Number(b.index),
          bootId: String(b.boot_id).replace(/-/g, '').toLowerCase(),
          ...(Number.isFinite(last) && last > 0 ? { lastEntry: Math.floor(last / 1000) } : {}),
        };
      });
  }
  const boots: JournalBoot[] = [];
  for (const line of t.split('\n')) {
    // " -1 8a0e6c0f4b7c4d0c9a4b1f0b2c3d4e5f Tue 2026-11-24 05:00:00 +07—Tue 2026-11-24 06:00:00 +07"
    const m = /^\s*(-?\d+)\s+([0-9a-f]{32})\b/i.exec(line);
    if (m) boots.push({ index: Number(m[1]), bootId: m[2]!.toLowerCase() });
  }
  return boots;
}

/** The boot the previous agent run lived in: by its recorded boot id, else the one before this. */
export function previousBoot(boots: readonly JournalBoot[], previousOsBootId: string | null): JournalBoot | undefined {
  const wanted = previousOsBootId?.replace(/-/g, '').toLowerCase();
  if (wanted) {
    const hit = boots.find((b) => b.bootId === wanted);
    if (hit) return hit.index === 0 ? undefined : hit;
  }
  return boots.find((b) => b.index === -1);
}

/** MESSAGE_IDs of an orderly shutdown (systemd catalog): "System shutdown initiated", "The journal has been stopped". */
const SHUTDOWN_IDS = new Set(['98268866d1d54a499c4e98921d93bc40', 'd93fb3c9c24d451a97cea615ce59c00b']);
const SHUTDOWN_TEXT = /System is (powering down|rebooting|halting)|Reached target .*(Shutdown|Power-Off|Reboot|Halt)|Journal stopped/i;
const CRASH_TEXT = /Kernel panic|Oops[:\s]|BUG: (unable|kernel NULL)|general protection fault|Machine check events logged|Hardware Error/i;
const HANG_TEXT = /soft lockup|hard LOCKUP|blocked for more than \d+ seconds|rcu_sched self-detected stall|rcu: INFO: rcu_.* detected stalls/i;

function messageText(m: unknown): string {
  if (typeof m === 'string') return m;
  // Non-UTF-8 messages come as byte arrays.
  if (Array.isArray(m)) return Buffer.from(m.filter((b): b is number => typeof b === 'number')).toString('latin1');
  return '';
}

/**
 * The last entries of the previous boot (`journalctl -b <id> -n 50 -o json`, one JSON object per
 * line) → how it ended: shutdown messages → planned; a kernel panic/oops → crash; a lockup or
 * hung task → hang (then reset); entries that simply stop → power loss (or a hard reset:
 * Linux keeps no record that tells them apart, like Kernel-Power 41 without a bugcheck).
 */
export function classifyJournalTail(text: string): ShutdownFinding | null {
  const entries: Array<{ t: number; msg: string; id: string; transport: string }> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      const t = Math.floor(Number(e.__REALTIME_TIMESTAMP) / 1000);
      entries.push({
        t: Number.isFinite(t) ? t : 0,
        msg: messageText(e.MESSAGE),
        id: typeof e.MESSAGE_ID === 'string' ? e.MESSAGE_ID : '',
        transport: typeof e._TRANSPORT === 'string' ? e._TRANSPORT : '',
      });
    } catch {
      /* a torn line */
    }
  }
  if (entries.length === 0) return null;
  const lastAt = Math.max(...entries.map((e) => e.t));
  const details: Record<string, EvidenceDetail> = { journalEntries: entries.length, lastEntryAt: lastAt };
  const planned = entries.find((e) => SHUTDOWN_IDS.has(e.id) || SHUTDOWN_TEXT.test(e.msg));
  if (planned) return { kind: 'planned', source: 'journal', endedAt: lastAt, details: { ...details, shutdownMessage: planned.msg.slice(0, 200) } };
  const crash = entries.find((e) => CRASH_TEXT.test(e.msg));
  if (crash) return { kind: 'crash', source: 'journal', endedAt: lastAt, details: { ...details, crashMessage: crash.msg.slice(0, 200) } };
  const hang = entries.find((e) => HANG_TEXT.test(e.msg));
  if (hang) return { kind: 'hang_reset', source: 'journal', endedAt: lastAt, details: { ...details, hangMessage: hang.msg.slice(0, 200) } };
  return { kind: 'power_loss', source: 'journal', endedAt: lastAt, details: { ...details, abruptEnd: true } };
}
