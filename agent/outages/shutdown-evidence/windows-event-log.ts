import type { EvidenceDetail, EvidenceQuery, ShutdownFinding } from './shutdown-finding.js';

/**
 * The Windows System event log records that tell how the previous boot ended, as the
 * PowerShell reader below prints them, and their classification (pure, fixture-tested).
 *
 * - Kernel-Power 41 ("The system has rebooted without cleanly shutting down first"), logged
 *   early in the next boot: `BugcheckCode` ≠ 0 → a crash (blue screen); `PowerButtonTimestamp`
 *   ≠ 0 → the officer held the power button on a hung PC (hang + reset); neither → the power
 *   went (or a hard reset without the button).
 * - EventLog 6008 ("The previous system shutdown at … was unexpected"): its binary data holds
 *   the time as two SYSTEMTIMEs, local then UTC.
 * - User32 1074: a process or user initiated a restart/shutdown: planned, never an outage.
 */
export interface EventLogRecord {
  /** Event id: 41, 6008, 1074 (others are ignored). */
  id: number;
  /** Provider name, e.g. `Microsoft-Windows-Kernel-Power`, `EventLog`, `User32`. */
  provider?: string;
  /**
   * When the record was written (TimeCreated, ISO 8601 or epoch ms). Records without a time
   * are taken as belonging to the previous shutdown (handy for test fixtures).
   */
  time?: string | number;
  /** EventData: named `<Data Name="…">` values, unnamed ones by position ("0", "1", …). */
  data?: Record<string, string | number | null>;
  /** EventData `<Binary>` as hex (6008). */
  binary?: string | null;
}

/** How far before the last heartbeat a 1074 may lie and still be about the previous shutdown. */
const PLANNED_LEAD_MS = 10 * 60_000;

/**
 * PowerShell that prints the relevant System log records since `sinceSeconds` ago as a JSON
 * array of {@link EventLogRecord}. ChildNodes (not the XML adapter) so that unnamed Data
 * elements (6008) keep their position.
 */
export function windowsEventLogScript(sinceSeconds: number, ids: readonly number[] = [41, 1074, 6008], provider?: string): string {
  const secs = Math.max(60, Math.ceil(sinceSeconds));
  const idList = ids.filter((i) => Number.isInteger(i) && i > 0).join(',');
  const prov = provider && /^[A-Za-z0-9-]+$/.test(provider) ? `;ProviderName='${provider}'` : '';
  return [
    "$ErrorActionPreference='SilentlyContinue'",
    `$f=@{LogName='System';Id=${idList}${prov};StartTime=(Get-Date).AddSeconds(-${secs})}`,
    '$out=@(Get-WinEvent -FilterHashtable $f -MaxEvents 50 | ForEach-Object {',
    '  $x=[xml]$_.ToXml(); $d=@{}; $b=$null; $i=0',
    '  foreach($n in $x.Event.EventData.ChildNodes){',
    "    if($n.LocalName -eq 'Data'){ $k=$n.GetAttribute('Name'); if(-not $k){$k=\"$i\"}; $d[$k]=$n.InnerText; $i++ }",
    "    elseif($n.LocalName -eq 'Binary'){ $b=$n.InnerText }",
    '  }',
    "  [pscustomobject]@{id=$_.Id;provider=$_.ProviderName;time=$_.TimeCreated.ToUniversalTime().ToString('o');data=$d;binary=$b}",
    '})',
    'ConvertTo-Json -InputObject $out -Depth 4 -Compress',
  ].join('\n');
}

/** JSON text (from PowerShell or a fixture file) → records; anything malformed is dropped. */
export function parseEventLogJson(text: string): EventLogRecord[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const parsed = JSON.parse(trimmed) as unknown;
  // ConvertTo-Json prints a lone object for a one-element array on old PowerShell.
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const out: EventLogRecord[] = [];
  for (const r of list) {
    if (!r || typeof r !== 'object') continue;
    const rec = r as Record<string, unknown>;
    const id = Number(rec.id);
    if (!Number.isInteger(id)) continue;
    const data = rec.data && typeof rec.data === 'object' ? (rec.data as Record<string, string | number | null>) : {};
    const item: EventLogRecord = { id, data };
    if (typeof rec.provider === 'string') item.provider = rec.provider;
    if (typeof rec.time === 'string' || typeof rec.time === 'number') item.time = rec.time;
    if (typeof rec.binary === 'string') item.binary = rec.binary;
    out.push(item);
  }
  return out;
}

function timeOf(r: EventLogRecord): number | undefined {
  if (r.time === undefined) return undefined;
  const t = typeof r.time === 'number' ? r.time : Date.parse(r.time);
  return Number.isFinite(t) ? t : undefined;
}

function num(v: string | number | null | undefined): number {
  if (v === null || v === undefined) return 0;
  const s = String(v).trim();
  const n = /^0x[0-9a-f]+$/i.test(s) ? Number.parseInt(s, 16) : Number(s);
  return Number.isFinite(n) ? n : 0;
}

/**
 * The UTC time in a 6008 record's binary data: two SYSTEMTIMEs (8 little-endian uint16:
 * year, month, day of week, day, hour, minute, second, ms), local first, UTC second.
 */
export function parse6008Time(binaryHex: string | null | undefined): number | undefined {
  const hex = (binaryHex ?? '').replace(/[^0-9a-fA-F]/g, '');
  if (hex.length < 64) return undefined;
  const buf = Buffer.from(hex.slice(32, 64), 'hex');
  const w = (i: number) => buf.readUInt16LE(i * 2);
  const [year, month, , day, hour, minute, second, ms] = [w(0), w(1), w(2), w(3), w(4), w(5), w(6), w(7)];
  if (year < 2000 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** Is this record about the shutdown between the last heartbeat and now? */
function inWindow(r: EventLogRecord, q: EvidenceQuery): boolean {
  const t = timeOf(r);
  if (t === undefined) return true;
  // 41 and 6008 are written during the next boot; 1074 just before the shutdown.
  const from = r.id === 1074 ? q.lastHeartbeat - PLANNED_LEAD_MS : (q.osBoot ?? q.lastHeartbeat) - PLANNED_LEAD_MS;
  return t >= from && t <= q.now + 60_000;
}

/** The records of the previous shutdown → how it ended. Pure. */
export function classifyWindowsEvents(records: readonly EventLogRecord[], q: EvidenceQuery): ShutdownFinding {
  const relevant = records.filter((r) => inWindow(r, q));
  // Newest first: if several boots happened since, the latest record is ours.
  const newest = (id: number) => relevant.filter((r) => r.id === id).sort((a, b) => (timeOf(b) ?? 0) - (timeOf(a) ?? 0))[0];
  const kp41 = newest(41);
  const ev6008 = newest(6008);
  const ev1074 = newest(1074);
  const details: Record<string, EvidenceDetail> = { eventIds: relevant.map((r) => r.id).join(',') };
  const unexpectedAt = ev6008 ? parse6008Time(ev6008.binary) : undefined;
  if (unexpectedAt !== undefined) details.unexpectedShutdownAt = unexpectedAt;
  const withTime = (f: ShutdownFinding): ShutdownFinding => (unexpectedAt !== undefined ? { ...f, endedAt: unexpectedAt } : f);

  if (kp41) {
    const d = kp41.data ?? {};
    const bugcheck = num(d.BugcheckCode);
    // Windows 10 2004+ also says LongPowerButtonPressDetected: the button held for ~4 s.
    const powerButton = num(d.PowerButtonTimestamp) !== 0 || String(d.LongPowerButtonPressDetected ?? '').toLowerCase() === 'true' ? 1 : 0;
    details.bugcheckCode = bugcheck;
    if (bugcheck !== 0) details.bugcheckHex = `0x${bugcheck.toString(16).toUpperCase()}`;
    details.powerButton = powerButton !== 0;
    if (num(d.SleepInProgress) !== 0) details.sleepInProgress = true;
    if (ev1074) details.plannedShutdownStarted = true;
    if (bugcheck !== 0) return withTime({ kind: 'crash', source: 'windows_event_log', details });
    if (powerButton !== 0) return withTime({ kind: 'hang_reset', source: 'windows_event_log', details });
    return withTime({ kind: 'power_loss', source: 'windows_event_log', details });
  }
  if (ev1074) {
    const d = ev1074.data ?? {};
    details.shutdownType = String(d.param5 ?? '').slice(0, 64);
    details.initiatedBy = String(d.param1 ?? '').slice(0, 200);
    details.reasonCode = String(d.param4 ?? '').slice(0, 32);
    const t = timeOf(ev1074);
    return { kind: 'planned', source: 'windows_event_log', ...(t !== undefined ? { endedAt: t } : {}), details };
  }
  if (ev6008) return withTime({ kind: 'unknown', source: 'windows_event_log', details });
  return { kind: 'unknown', source: 'windows_event_log', details };
}

/** Power-Troubleshooter: "The system has returned from a low power state" (SleepTime, WakeTime). */
export const POWER_TROUBLESHOOTER = 'Microsoft-Windows-Power-Troubleshooter';

/**
 * Milliseconds the PC slept within [from, to] by Power-Troubleshooter 1 records (Windows).
 * There the monotonic clock (QueryPerformanceCounter) and the tick count both count through
 * sleep, so only the System log tells a sleep from a freeze. Null when no record covers it.
 */
export function sleptMsFromPowerTroubleshooter(records: readonly EventLogRecord[], from: number, to: number): number | null {
  let total = 0;
  let seen = false;
  for (const r of records) {
    if (r.id !== 1 || (r.provider && r.provider !== POWER_TROUBLESHOOTER)) continue;
    const sleep = Date.parse(String(r.data?.SleepTime ?? ''));
    const wake = Date.parse(String(r.data?.WakeTime ?? ''));
    if (!Number.isFinite(sleep) || !Number.isFinite(wake) || wake <= sleep) continue;
    const overlap = Math.min(wake, to) - Math.max(sleep, from);
    if (overlap > 0) {
      total += overlap;
      seen = true;
    }
  }
  return seen ? total : null;
}
