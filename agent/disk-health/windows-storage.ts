import { MAX_STRING } from '../../contract/limits.js';
import type { DiskHealth } from '../../contract/schemas.js';
import { parseEventLogJson, windowsEventLogScript, type EventLogRecord } from '../outages/shutdown-evidence/windows-event-log.js';

/**
 * Windows disk health (issue 17): Get-PhysicalDisk | Get-StorageReliabilityCounter (errors,
 * wear, temperature, power-on hours), MSStorageDriver_FailurePredictStatus (the drive's SMART
 * prediction) and the System log disk errors since the previous check: 7 (bad block),
 * 51 (error during paging), 129 (reset to device), 153 (I/O retried). The script runs once per
 * check (every few hours), never per sample; the parser is pure and tested on recorded shapes.
 */

/** Event ids counted as disk errors. */
export const DISK_ERROR_EVENT_IDS = [7, 51, 129, 153] as const;

/** The PowerShell of one check: one JSON object `{ disks, predict }` (events come from windowsEventLogScript). */
export const WINDOWS_STORAGE_SCRIPT = [
  "$ErrorActionPreference='SilentlyContinue'",
  '$d=@(Get-PhysicalDisk | ForEach-Object { $c = $_ | Get-StorageReliabilityCounter;',
  '  [pscustomobject]@{DeviceId=$_.DeviceId;FriendlyName=$_.FriendlyName;MediaType=[string]$_.MediaType;HealthStatus=[string]$_.HealthStatus;',
  '  ReadErrorsUncorrected=$c.ReadErrorsUncorrected;WriteErrorsUncorrected=$c.WriteErrorsUncorrected;Wear=$c.Wear;Temperature=$c.Temperature;PowerOnHours=$c.PowerOnHours} })',
  '$p=@(Get-CimInstance -Namespace root\\wmi -ClassName MSStorageDriver_FailurePredictStatus | Select-Object InstanceName,PredictFailure,Reason)',
  'ConvertTo-Json -InputObject @{disks=$d;predict=$p} -Depth 3 -Compress',
].join('\n');

/** The System log query of one check: disk error ids since `sinceSeconds` ago. */
export function windowsDiskEventsScript(sinceSeconds: number): string {
  return windowsEventLogScript(sinceSeconds, DISK_ERROR_EVENT_IDS);
}

interface WinDisk {
  DeviceId?: unknown;
  FriendlyName?: unknown;
  HealthStatus?: unknown;
  ReadErrorsUncorrected?: unknown;
  WriteErrorsUncorrected?: unknown;
  Wear?: unknown;
  Temperature?: unknown;
  PowerOnHours?: unknown;
}
interface WinPredict {
  InstanceName?: unknown;
  PredictFailure?: unknown;
}

const asList = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : v && typeof v === 'object' ? [v as T] : []);
const count = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
};
/** `\Device\Harddisk1\DR1` or `Disk 1` in an event's data → the disk number (= PhysicalDisk DeviceId). */
function diskNumberOf(r: EventLogRecord): string | undefined {
  for (const v of Object.values(r.data ?? {})) {
    const m = /\\Harddisk(\d+)\\|\bDisk (\d+)\b/i.exec(String(v ?? ''));
    if (m) return m[1] ?? m[2];
  }
  return undefined;
}
/** WMI instance names carry the model as `Prod_<model with _ for spaces>`, cut to the ATA/SCSI product field's length. */
const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');
/** The model's part-number token (the longest word: `WD5000AAKX-08U6AA0` of `WDC WD5000AAKX-08U6AA0`), first 7 characters, as found in an instance name. */
function modelKey(name: string): string | undefined {
  const token = name.split(/\s+/).reduce((a, b) => (norm(b).length > norm(a).length ? b : a), '');
  const key = norm(token).slice(0, 7);
  return key.length >= 5 ? key : undefined;
}

export interface WindowsDiskHealth {
  disks: DiskHealth[];
  /** Error events that name no disk (129 names the controller) or a disk not listed. */
  unattributedErrorEvents: number;
}

/** `storageJson` from {@link WINDOWS_STORAGE_SCRIPT}, `eventsJson` from {@link windowsDiskEventsScript}. */
export function parseWindowsDiskHealth(storageJson: string, eventsJson: string): WindowsDiskHealth {
  const raw = JSON.parse(storageJson) as { disks?: unknown; predict?: unknown };
  const winDisks = asList<WinDisk>(raw.disks);
  const predicts = asList<WinPredict>(raw.predict);
  const events = eventsJson.trim() === '' ? [] : parseEventLogJson(eventsJson).filter((r) => (DISK_ERROR_EVENT_IDS as readonly number[]).includes(r.id));
  const perDisk = new Map<string, number>();
  let unattributed = 0;
  const ids = new Set(winDisks.map((d) => String(d.DeviceId ?? '')));
  for (const r of events) {
    const n = diskNumberOf(r);
    if (n !== undefined && ids.has(n)) perDisk.set(n, (perDisk.get(n) ?? 0) + 1);
    else unattributed++;
  }

  const disks = winDisks.map((d): DiskHealth => {
    const id = String(d.DeviceId ?? '').slice(0, MAX_STRING);
    const name = typeof d.FriendlyName === 'string' ? d.FriendlyName.trim().slice(0, MAX_STRING) : '';
    const h: DiskHealth = { device: id !== '' ? `PhysicalDisk${id}` : name || 'PhysicalDisk?', state: 'ok', ...(name ? { model: name } : {}) };
    // The prediction: the WMI instance whose Prod_ part is this model; with one disk, the only instance.
    const key = modelKey(name);
    const mine = key === undefined ? [] : predicts.filter((p) => typeof p.InstanceName === 'string' && norm(p.InstanceName).includes(key));
    const pred = mine.length > 0 ? mine : winDisks.length === 1 ? predicts : [];
    if (pred.length > 0) h.predictedFailure = pred.some((p) => p.PredictFailure === true);
    const temp = count(d.Temperature);
    if (temp !== undefined && temp > 0 && temp < 200) h.temperatureC = temp;
    const hours = count(d.PowerOnHours);
    if (hours !== undefined) h.powerOnHours = hours;
    const wear = count(d.Wear);
    if (wear !== undefined) h.wearPct = Math.min(255, wear);
    const re = count(d.ReadErrorsUncorrected);
    const we = count(d.WriteErrorsUncorrected);
    if (re !== undefined || we !== undefined) h.mediaErrors = (re ?? 0) + (we ?? 0);
    h.errorEvents = perDisk.get(id) ?? 0;
    const health = String(d.HealthStatus ?? '');
    if (h.predictedFailure || health === 'Unhealthy') {
      h.state = 'failing';
      if (health === 'Unhealthy') h.reason = 'Windows reports the disk Unhealthy';
    } else if ((h.mediaErrors ?? 0) > 0 || h.errorEvents > 0 || health === 'Warning') {
      h.state = 'warning';
      if (health === 'Warning') h.reason = 'Windows reports the disk health Warning';
    }
    return h;
  });
  return { disks, unattributedErrorEvents: unattributed };
}
