import type { ShutdownFinding } from './shutdown-finding.js';

/**
 * wtmp as `last -x --time-format iso` prints it (newest first): a `shutdown` record before
 * the current boot's `reboot` record means the previous boot ended in order; a previous
 * `reboot` record ending in `crash` means it did not (power loss, crash or reset: wtmp
 * cannot tell which). Pure, fixture-tested.
 */
export function classifyLastOutput(text: string): ShutdownFinding | null {
  const rows = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(reboot|shutdown)\s/.test(l));
  const current = rows.findIndex((l) => l.startsWith('reboot'));
  if (current < 0) return null;
  const prev = rows[current + 1];
  if (!prev) return null;
  const times = prev.match(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g) ?? [];
  if (prev.startsWith('shutdown')) {
    const at = times[0] ? Date.parse(times[0]) : NaN;
    return { kind: 'planned', source: 'wtmp', ...(Number.isFinite(at) ? { endedAt: at } : {}), details: { wtmp: 'shutdown record' } };
  }
  if (/\bcrash\b/.test(prev)) return { kind: 'unknown', source: 'wtmp', details: { wtmp: 'no shutdown record (crash)' } };
  return null;
}
