import { execFile } from 'node:child_process';
import { MAX_STRING } from '../../contract/limits.js';
import type { DiskHealth } from '../../contract/schemas.js';

/**
 * smartmontools' JSON output (`smartctl -j`, smartmontools ≥ 7.0) → {@link DiskHealth}. Pure
 * and fixture-tested; {@link runSmartctl} is the only I/O. Every device is read with
 * `-n standby` so a spun-down disk is never woken (smartctl then says so and exits 2).
 */

/** One entry of `smartctl -j --scan`. */
export interface SmartctlDevice {
  name: string;
  type: string;
}

export function parseSmartctlScan(json: string): SmartctlDevice[] {
  const raw = JSON.parse(json) as { devices?: Array<{ name?: unknown; type?: unknown }> };
  return (raw.devices ?? [])
    .filter((d): d is { name: string; type: string } => typeof d?.name === 'string' && typeof d.type === 'string' && /^[A-Za-z0-9/_.,+-]+$/.test(d.name + d.type))
    .map((d) => ({ name: d.name, type: d.type }));
}

interface SmartctlJson {
  smartctl?: { exit_status?: number; messages?: Array<{ string?: string; severity?: string }> };
  device?: { name?: string; protocol?: string };
  model_name?: string;
  smart_support?: { available?: boolean; enabled?: boolean };
  smart_status?: { passed?: boolean };
  ata_smart_attributes?: { table?: Array<{ id?: number; raw?: { value?: number } }> };
  nvme_smart_health_information_log?: { critical_warning?: number; temperature?: number; percentage_used?: number; power_on_hours?: number; media_errors?: number };
  power_on_time?: { hours?: number };
  temperature?: { current?: number };
}

/** smartctl exit status bit 3: "SMART status check returned DISK FAILING". */
const EXIT_DISK_FAILING = 1 << 3;

const nonNegInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);

/**
 * One device's `smartctl -j -a -n standby` output. `exitStatus` is the process exit code
 * (the JSON carries it too, as `smartctl.exit_status`). Raw ATA values are taken as counts
 * only for the attributes whose raw value is a plain counter (5, 197, 198, 9).
 */
export function parseSmartctlJson(json: string, fallbackDevice: string): DiskHealth {
  const j = JSON.parse(json) as SmartctlJson;
  const device = (j.device?.name ?? fallbackDevice).slice(0, MAX_STRING) || fallbackDevice;
  const model = typeof j.model_name === 'string' && j.model_name.trim() !== '' ? j.model_name.trim().slice(0, MAX_STRING) : undefined;
  const base: DiskHealth = { device, state: 'ok', ...(model ? { model } : {}) };
  const messages = (j.smartctl?.messages ?? []).map((m) => m.string ?? '').filter((s) => s !== '');
  const exit = j.smartctl?.exit_status ?? 0;

  if (messages.some((m) => /\b(STANDBY|SLEEP|IDLE(_[AB])?) mode\b/i.test(m))) {
    return { ...base, state: 'standby', reason: 'in standby, not woken' };
  }
  if (j.smart_support?.available === false) {
    return { ...base, state: 'unavailable', reason: 'device has no SMART (virtual disk or USB bridge)' };
  }
  const hasData = j.smart_status !== undefined || j.ata_smart_attributes !== undefined || j.nvme_smart_health_information_log !== undefined;
  if (!hasData) {
    const why = messages.find((m) => m.length > 0) ?? `smartctl exit status ${exit}`;
    return { ...base, state: 'unavailable', reason: why.slice(0, MAX_STRING) };
  }

  const h: DiskHealth = { ...base };
  const failed = j.smart_status?.passed === false || (exit & EXIT_DISK_FAILING) !== 0;
  if (j.smart_status?.passed !== undefined || failed) h.predictedFailure = failed;
  const temp = j.temperature?.current ?? j.nvme_smart_health_information_log?.temperature;
  if (typeof temp === 'number' && temp > -60 && temp < 200) h.temperatureC = temp;
  const hours = nonNegInt(j.power_on_time?.hours ?? j.nvme_smart_health_information_log?.power_on_hours);
  if (hours !== undefined) h.powerOnHours = hours;

  const attr = new Map<number, number>();
  for (const a of j.ata_smart_attributes?.table ?? []) {
    const raw = nonNegInt(a.raw?.value);
    if (typeof a.id === 'number' && raw !== undefined) attr.set(a.id, raw);
  }
  // Raw values above 2^32 on these attributes are vendor-packed, not counts: leave them out.
  const counter = (id: number) => {
    const v = attr.get(id);
    return v !== undefined && v < 2 ** 32 ? v : undefined;
  };
  const realloc = counter(5);
  const pending = counter(197);
  const uncorrectable = counter(198);
  if (realloc !== undefined) h.reallocatedSectors = realloc;
  if (pending !== undefined) h.pendingSectors = pending;
  const nvme = j.nvme_smart_health_information_log;
  const media = nonNegInt(nvme?.media_errors) ?? uncorrectable;
  if (media !== undefined) h.mediaErrors = media;
  const used = nonNegInt(nvme?.percentage_used);
  if (used !== undefined) h.wearPct = Math.min(255, used);

  const critical = (nvme?.critical_warning ?? 0) !== 0;
  if (failed) {
    h.state = 'failing';
  } else if (critical || (realloc ?? 0) > 0 || (pending ?? 0) > 0 || (media ?? 0) > 0) {
    h.state = 'warning';
    if (critical) h.reason = `NVMe critical warning 0x${(nvme?.critical_warning ?? 0).toString(16)}`;
  }
  return h;
}

/** A finished smartctl run: its stdout and exit code, or `missing` when the binary is not there. */
export type SmartctlRun = { stdout: string; code: number } | { missing: true } | { error: string };

/** Runs smartctl (its exit code is a bit mask, so a non-zero exit still carries JSON). */
export function runSmartctl(args: readonly string[], timeoutMs: number, binary = 'smartctl', signal?: AbortSignal): Promise<SmartctlRun> {
  return new Promise((resolve) => {
    try {
      execFile(binary, args as string[], { timeout: timeoutMs, maxBuffer: 2 * 1024 * 1024, windowsHide: true, encoding: 'utf8', ...(signal ? { signal } : {}) }, (err, stdout) => {
        if (!err) return resolve({ stdout, code: 0 });
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
        if (e.code === 'ENOENT') return resolve({ missing: true });
        if (signal?.aborted) return resolve({ error: 'smartctl stopped (agent stopping)' });
        if (e.killed) return resolve({ error: `smartctl timed out after ${timeoutMs} ms` });
        if (typeof e.code === 'number' && stdout.trim() !== '') return resolve({ stdout, code: e.code });
        resolve({ error: (e.message ?? String(err)).slice(0, 200) });
      });
    } catch (err) {
      resolve({ error: String(err).slice(0, 200) });
    }
  });
}
