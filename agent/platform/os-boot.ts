import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Which OS boot this is, and a clock that counts through suspend (platform edge, issue 3).
 */

/**
 * Test/platform override (documented in the README): the OS boot time as epoch ms. Where
 * RealSystemInfo reads the boot time (uptime, the outage check) it uses this instead, so an
 * end-to-end test can "reboot" a PC by restarting its agent with a later boot time. It also
 * hides the Linux boot id, which would otherwise say "same boot".
 */
export const BOOT_TIME_OVERRIDE_ENV = 'CANH_AGENT_PLATFORM_BOOT_TIME';

/** The override from the environment, or undefined when unset or not a plausible epoch ms. */
export function bootTimeOverride(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[BOOT_TIME_OVERRIDE_ENV];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 946_684_800_000 || n > 4_102_444_800_000) {
    throw new Error(`${BOOT_TIME_OVERRIDE_ENV} must be an epoch-ms time between 2000 and 2100, got ${JSON.stringify(raw)}`);
  }
  return Math.round(n);
}

/** Linux: the kernel's random id of this boot (changes on every boot, unlike the derived boot time after a clock step). */
export async function readLinuxBootId(): Promise<string | null> {
  try {
    // procfs: generated from memory, read synchronously (linux-system-info.ts readProcFile).
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return /^[0-9a-f-]{32,36}$/i.test(id) ? id.toLowerCase() : null;
  } catch {
    return null;
  }
}

/** First field of /proc/uptime (seconds, 10 ms resolution; CLOCK_BOOTTIME: counts suspend). */
export function parseProcUptime(text: string): number {
  const first = text.trim().split(/\s+/)[0] ?? '';
  if (!/^\d+(\.\d+)?$/.test(first)) throw new Error('/proc/uptime not understood');
  return Number(first);
}

/**
 * Milliseconds since boot, counting time suspended: Linux CLOCK_BOOTTIME (/proc/uptime),
 * Windows GetTickCount64 (os.uptime(), fractional there). Compared with the monotonic clock,
 * which stops during suspend, it tells sleep from a freeze. Null where unknown.
 */
export async function readBootClockMs(platform: NodeJS.Platform): Promise<number | null> {
  try {
    if (platform === 'linux') return parseProcUptime(readFileSync('/proc/uptime', 'utf8')) * 1000;
    if (platform === 'win32') return os.uptime() * 1000;
  } catch {
    /* fall through: unknown */
  }
  return null;
}
