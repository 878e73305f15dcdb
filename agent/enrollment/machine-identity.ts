import { readdir, readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { IDENTITY_LIMITS, type MachineIdentity } from '../../contract/enrollment.js';
import { runCommand } from '../platform/run-command.js';

/**
 * This PC's identity for site enrolment (contract/enrollment.ts): the OS installation id
 * plus whatever hardware ids are readable (edges fail softly: a missing one is left out).
 *
 *  - Linux: `/etc/machine-id` (systemd; `/var/lib/dbus/machine-id` on older systems),
 *    DMI `product_uuid`, `product_serial`, `board_serial` from /sys/class/dmi/id (root
 *    only: read by the installer, which enrolls as root), disk serials from
 *    `/dev/disk/by-id` names, MACs of physical interfaces;
 *  - Windows: `MachineGuid` (HKLM\SOFTWARE\Microsoft\Cryptography, `reg query`), BIOS /
 *    board / disk serials and the SMBIOS UUID (one PowerShell CIM query), MACs.
 *
 * `CANH_AGENT_IDENTITY_FILE` (a JSON {@link MachineIdentity}) replaces all of it: for tests
 * (several "PCs" on one machine, a cloned image) and nothing else.
 */
export interface IdentityDeps {
  platform: NodeJS.Platform;
  readText: (path: string) => Promise<string | null>;
  run: (cmd: string, args: readonly string[]) => Promise<string | null>;
  listDir: (path: string) => Promise<string[]>;
  macs: () => string[];
  env: NodeJS.ProcessEnv;
}

const realDeps = (): IdentityDeps => ({
  platform: process.platform,
  readText: async (p) => {
    try {
      return await readFile(p, 'utf8');
    } catch {
      return null;
    }
  },
  run: (cmd, args) => runCommand(cmd, args, 20_000),
  listDir: async (p) => {
    try {
      return await readdir(p);
    } catch {
      return [];
    }
  },
  macs: physicalMacs,
  env: process.env,
});

const clip = (s: string | undefined | null): string | undefined => {
  const v = s?.replace(/\p{Cc}/gu, '').trim();
  return v ? v.slice(0, IDENTITY_LIMITS.idChars) : undefined;
};

/** MACs of interfaces that look physical (not loopback, not virtual bridges or containers). */
export function physicalMacs(): string[] {
  const out = new Set<string>();
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (/^(lo|docker|veth|br-|virbr|vmnet|vboxnet|tun|tap|wg|zt|Loopback)/i.test(name)) continue;
    for (const a of addrs ?? []) if (!a.internal && a.mac && a.mac !== '00:00:00:00:00:00') out.add(a.mac.toLowerCase());
  }
  return [...out].sort().slice(0, IDENTITY_LIMITS.macs);
}

/** The value of `name` in `reg query … /v name` output (`    MachineGuid    REG_SZ    1b2c…`). */
export function parseRegQueryValue(output: string, name: string): string | undefined {
  for (const line of output.split(/\r?\n/)) {
    const m = /^\s+(\S+)\s+REG_\w+\s+(.*?)\s*$/.exec(line);
    if (m && m[1]!.toLowerCase() === name.toLowerCase()) return m[2] || undefined;
  }
  return undefined;
}

/** The PowerShell query of the Windows hardware ids; prints one JSON object. */
export const WINDOWS_HARDWARE_QUERY =
  '$ErrorActionPreference="SilentlyContinue";' +
  '[pscustomobject]@{' +
  'uuid=(Get-CimInstance Win32_ComputerSystemProduct).UUID;' +
  'bios=(Get-CimInstance Win32_BIOS).SerialNumber;' +
  'board=(Get-CimInstance Win32_BaseBoard).SerialNumber;' +
  'disks=@(Get-CimInstance Win32_DiskDrive | ForEach-Object { $_.SerialNumber })' +
  '} | ConvertTo-Json -Compress';

/** Parse {@link WINDOWS_HARDWARE_QUERY}'s output (ConvertTo-Json: one disk may come as a string, none as null). */
export function parseWindowsHardware(output: string): Pick<MachineIdentity, 'productUuid' | 'biosSerial' | 'boardSerial' | 'diskSerials'> {
  let j: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(output.trim());
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { diskSerials: [] };
    j = parsed as Record<string, unknown>;
  } catch {
    return { diskSerials: [] };
  }
  const str = (v: unknown) => (typeof v === 'string' ? clip(v) : undefined);
  const disks = (Array.isArray(j.disks) ? j.disks : [j.disks]).map(str).filter((d): d is string => d !== undefined);
  return { productUuid: str(j.uuid), biosSerial: str(j.bios), boardSerial: str(j.board), diskSerials: [...new Set(disks)].slice(0, IDENTITY_LIMITS.serials) };
}

/**
 * Disk serials from `/dev/disk/by-id` names (`ata-WDC_WD5000AAKX-00ERMA0_WD-WCC2EJ123456`,
 * `nvme-Samsung_SSD_970_EVO_S466NX0K123456`): readable without root. Partitions
 * (`-partN`) and the `wwn-`/`nvme-eui.` aliases are left out.
 */
export function diskIdsFromByIdNames(names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const n of names) {
    if (/-part\d+$/.test(n) || /^(wwn-|nvme-eui\.|nvme-nvme\.|dm-|lvm-|md-)/.test(n)) continue;
    if (/^(ata|scsi|nvme|usb|mmc)-/.test(n) && !n.startsWith('usb-')) out.add(n);
  }
  return [...out].sort().slice(0, IDENTITY_LIMITS.serials);
}

export async function readMachineIdentity(deps: IdentityDeps = realDeps()): Promise<MachineIdentity> {
  const override = deps.env.CANH_AGENT_IDENTITY_FILE;
  if (override) {
    const text = await deps.readText(override);
    const j = text === null ? null : (JSON.parse(text) as Partial<MachineIdentity>);
    if (!j || typeof j.machineId !== 'string') throw new Error(`CANH_AGENT_IDENTITY_FILE ${override}: not a JSON identity with machineId`);
    return { source: 'override', diskSerials: [], macs: [], ...j } as MachineIdentity;
  }
  const macs = deps.macs();
  if (deps.platform === 'win32') {
    const reg = await deps.run('reg', ['query', 'HKLM\\SOFTWARE\\Microsoft\\Cryptography', '/v', 'MachineGuid']);
    const guid = clip(reg === null ? undefined : parseRegQueryValue(reg, 'MachineGuid'));
    if (!guid) throw new Error('cannot read MachineGuid (reg query HKLM\\SOFTWARE\\Microsoft\\Cryptography)');
    const hw = await deps.run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', WINDOWS_HARDWARE_QUERY]);
    return { machineId: guid.toLowerCase(), source: 'windows-machine-guid', ...(hw === null ? { diskSerials: [] } : parseWindowsHardware(hw)), macs };
  }
  let machineId: string | undefined;
  for (const p of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    machineId = clip(await deps.readText(p));
    if (machineId) break;
  }
  if (!machineId) throw new Error('cannot read /etc/machine-id (systemd-machine-id-setup creates it)');
  const dmi = async (f: string) => clip(await deps.readText(`/sys/class/dmi/id/${f}`));
  return {
    machineId,
    source: 'linux-machine-id',
    productUuid: await dmi('product_uuid'),
    biosSerial: await dmi('product_serial'),
    boardSerial: await dmi('board_serial'),
    diskSerials: diskIdsFromByIdNames(await deps.listDir('/dev/disk/by-id')).map((d) => clip(d)!),
    macs,
  };
}
