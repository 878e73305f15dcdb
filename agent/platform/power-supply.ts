import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { PowerMetrics } from '../../contract/schemas.js';

/**
 * Battery/UPS state as the OS exposes it (issue 3): Linux /sys/class/power_supply, Windows
 * systeminformation battery() (WMI Win32_Battery, which also lists USB/HID UPS units).
 * Pure adapters here, fixture-tested; "unknown" when the machine reports no supply at all.
 */

/** One /sys/class/power_supply/<name> entry: its attribute files as read (missing = absent). */
export interface SysPowerSupply {
  name: string;
  /** `Mains`, `Battery`, `UPS`, `USB`, `Wireless`. */
  type?: string;
  online?: string;
  /** `Charging`, `Discharging`, `Full`, `Not charging`, `Unknown`. */
  status?: string;
  capacity?: string;
  /** `Device` for a peripheral's battery (mouse, keyboard): not the PC's power. */
  scope?: string;
  time_to_empty_now?: string;
  energy_now?: string;
  power_now?: string;
  charge_now?: string;
  current_now?: string;
}

const ATTRS = ['type', 'online', 'status', 'capacity', 'scope', 'time_to_empty_now', 'energy_now', 'power_now', 'charge_now', 'current_now'] as const;

export async function readSysPowerSupplies(root = '/sys/class/power_supply'): Promise<SysPowerSupply[]> {
  let names: string[];
  try {
    // The directory listing is kernel memory (sysfs), synchronous like the /proc reads
    // (linux-system-info.ts): no thread-pool round trip per sample on a PC without battery or
    // UPS. The attributes below may ask the hardware (ACPI) and stay asynchronous.
    names = readdirSync(root);
  } catch {
    return [];
  }
  return Promise.all(
    names.map(async (name) => {
      const e: SysPowerSupply = { name };
      await Promise.all(
        ATTRS.map(async (a) => {
          try {
            e[a] = (await readFile(`${root}/${name}/${a}`, 'utf8')).trim();
          } catch {
            /* attribute absent on this supply */
          }
        }),
      );
      return e;
    }),
  );
}

const UNKNOWN: PowerMetrics = { source: 'unknown', batteryPct: null, minutesLeft: null };

function n(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const x = Number(v);
  return Number.isFinite(x) ? x : undefined;
}

/** Minutes left on a discharging supply: time_to_empty_now (s), else energy/power or charge/current (µWh/µW, µAh/µA). */
function minutesLeft(s: SysPowerSupply): number | null {
  const tte = n(s.time_to_empty_now);
  if (tte !== undefined && tte > 0) return Math.round(tte / 60);
  const e = n(s.energy_now);
  const p = n(s.power_now);
  if (e !== undefined && p !== undefined && p > 0) return Math.round((e / p) * 60);
  const c = n(s.charge_now);
  const i = n(s.current_now);
  if (c !== undefined && i !== undefined && i > 0) return Math.round((c / i) * 60);
  return null;
}

/**
 * sysfs supplies → the `power` metric. Mains/USB online → ac; a PC battery or UPS discharging
 * with no mains online → battery (mains lost). Peripheral batteries (scope=Device) are ignored.
 */
export function powerFromSysfs(supplies: readonly SysPowerSupply[]): PowerMetrics {
  const own = supplies.filter((s) => (s.scope ?? '').toLowerCase() !== 'device');
  const mains = own.filter((s) => s.type === 'Mains' || s.type === 'USB');
  const cells = own.filter((s) => s.type === 'Battery' || s.type === 'UPS');
  if (mains.length === 0 && cells.length === 0) return UNKNOWN;
  const mainsOnline = mains.some((s) => s.online === '1');
  const discharging = cells.filter((s) => s.status === 'Discharging' || (s.type === 'UPS' && s.online === '0'));
  const caps = cells.map((s) => n(s.capacity)).filter((c): c is number => c !== undefined);
  const batteryPct = caps.length ? Math.max(0, Math.min(100, Math.min(...caps))) : null;
  let source: PowerMetrics['source'];
  if (mainsOnline) source = 'ac';
  else if (discharging.length > 0) source = 'battery';
  else if (mains.length > 0)
    source = 'battery'; // a mains supply exists and is offline
  else source = cells.some((s) => s.status === 'Charging' || s.status === 'Full' || s.status === 'Not charging') ? 'ac' : 'unknown';
  const left = source === 'battery' ? (discharging.map(minutesLeft).find((m) => m !== null) ?? null) : null;
  return { source, batteryPct, minutesLeft: left };
}

/** The fields of si.battery() used. */
export interface SiBattery {
  hasBattery: boolean;
  isCharging?: boolean;
  acConnected?: boolean;
  percent?: number;
  /** Minutes; null/negative when unknown. */
  timeRemaining?: number | null;
}

/** si.battery() → the `power` metric (Windows, macOS). */
export function powerFromSiBattery(b: SiBattery): PowerMetrics {
  if (!b.hasBattery) return UNKNOWN;
  const source = b.acConnected === false ? 'battery' : b.acConnected === true || b.isCharging ? 'ac' : 'unknown';
  const pct = typeof b.percent === 'number' && Number.isFinite(b.percent) ? Math.max(0, Math.min(100, b.percent)) : null;
  const left = source === 'battery' && typeof b.timeRemaining === 'number' && b.timeRemaining > 0 ? Math.round(b.timeRemaining) : null;
  return { source, batteryPct: pct, minutesLeft: left };
}
