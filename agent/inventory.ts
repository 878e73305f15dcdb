import { MAX_DISKS, MAX_STRING } from '../contract/limits.js';
import type { Envelope, InventoryMessage } from '../contract/schemas.js';
import type { DiskLayoutEntry, InventoryReadings } from './platform/system-info.js';

/** An inventory message without its envelope; the agent adds v/site/host/boot/seq/t/sent. */
export type InventoryBody = Omit<InventoryMessage, keyof Envelope>;
export type DiskKind = InventoryBody['disks'][number]['type'];

/**
 * Static hardware and OS facts, taken at start and then rarely (hours): these calls are
 * expensive (lsblk, PowerShell/CIM queries) and must stay off the sampling path.
 * A failed disk listing gives an empty list rather than no inventory at all.
 */
export async function collectInventory(sys: InventoryReadings, agentVersion: string, hostname: string): Promise<InventoryBody> {
  const [cpu, mem, os, disks] = await Promise.all([sys.cpuInfo(), sys.memory(), sys.osInfo(), sys.diskLayout().catch((): DiskLayoutEntry[] => [])]);
  return {
    hostname: clip(hostname),
    cpu: {
      manufacturer: clip(cpu.manufacturer),
      brand: clip(cpu.brand),
      cores: count(cpu.cores),
      physicalCores: count(cpu.physicalCores),
      speedGHz: Math.min(100, nonNegative(cpu.speed)),
    },
    memTotal: Math.round(nonNegative(mem.total)),
    disks: disks.slice(0, MAX_DISKS).map((d) => ({
      device: clip(d.device),
      name: clip(d.name),
      type: diskKind(d),
      size: Math.round(nonNegative(d.size)),
    })),
    os: {
      platform: clip(os.platform),
      distro: clip(os.distro),
      release: clip(os.release),
      arch: clip(os.arch),
      kernel: clip(os.kernel),
    },
    agentVersion: clip(agentVersion),
  };
}

/**
 * Medium of a disk. NVMe first (si reports it as the bus on Windows and as the type on
 * Linux); then the Linux rotational flag; then si's medium type (`HD`/`SSD`). Anything
 * else (`Unspecified`, `Virtual`, USB sticks) is `unknown` rather than a guess.
 */
export function diskKind(d: Pick<DiskLayoutEntry, 'type' | 'interfaceType' | 'rotational'>): DiskKind {
  if (/nvme/i.test(d.interfaceType ?? '') || d.type === 'NVMe') return 'NVMe';
  if (d.rotational !== undefined) return d.rotational ? 'HDD' : 'SSD';
  if (d.type === 'HD') return 'HDD';
  if (d.type === 'SSD') return 'SSD';
  return 'unknown';
}

function clip(s: string | undefined | null): string {
  return (s ?? '').trim().slice(0, MAX_STRING);
}

function nonNegative(n: number | undefined | null): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

function count(n: number | undefined | null): number {
  return Math.min(4096, Math.round(nonNegative(n)));
}
