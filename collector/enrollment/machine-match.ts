import type { MachineIdentity } from '../../contract/enrollment.js';

/**
 * Is an enrolling PC the one already enrolled with the same machine id, or a second PC
 * made from the same disk image (issue 15: "cloned disk images")? The machine id alone
 * cannot tell: an image copies it. Hardware ids can: a clone has other DMI serials, other
 * disks and other network cards. So:
 *
 *  - `same`: at least one hardware id in common (a reinstalled or retried PC; a new disk
 *    or network card alone does not make it another PC);
 *  - `different`: both sides have hardware ids and none is shared (a clone);
 *  - without strong ids on one side, all MACs are compared the same way (locally
 *    administered ones too: virtual machines);
 *  - `unknown`: no hardware id nor MAC on one side: treated as the same PC, since nothing
 *    says otherwise.
 */
export type MachineMatch = 'same' | 'different' | 'unknown';

/**
 * Placeholder serials that firmware vendors leave in DMI (the same on every board of a
 * model): never evidence of anything. Compared case-insensitively without spaces.
 */
const JUNK = new Set([
  '',
  '0',
  '00000000',
  '0000000000',
  '123456789',
  '1234567890',
  'none',
  'na',
  'n/a',
  'null',
  'default',
  'defaultstring',
  'tobefilledbyo.e.m.',
  'tobefilledbyoem',
  'systemserialnumber',
  'basebaseboardserialnumber',
  'chassisserialnumber',
  'notapplicable',
  'notspecified',
  'invalid',
  'oem',
  'o.e.m.',
  '03000200-0400-0500-0006-000700080009',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '00000000-0000-0000-0000-000000000000',
]);

/** A serial worth comparing, normalised; undefined for placeholders. */
export function usableSerial(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (JUNK.has(v.replace(/\s+/g, '')) || /^0+$/.test(v.replace(/[-:\s]/g, '')) || /^f+$/.test(v.replace(/[-:\s]/g, ''))) return undefined;
  return v;
}

/** MAC addresses worth comparing: unicast, globally administered (not random or virtual), normalised. */
export function usableMac(mac: string): string | undefined {
  const m = mac.trim().toLowerCase().replace(/-/g, ':');
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m)) return undefined;
  const first = parseInt(m.slice(0, 2), 16);
  // Bit 0: multicast; bit 1: locally administered (random Wi-Fi MACs, bridges, VMs' own).
  if (first & 0b11 || /^0{2}(:0{2}){5}$/.test(m)) return undefined;
  return m;
}

/** All the hardware ids of an identity, each tagged with its kind. */
export function hardwareIds(id: MachineIdentity): Set<string> {
  const out = new Set<string>();
  const add = (kind: string, v: string | undefined) => {
    if (v !== undefined) out.add(`${kind}:${v}`);
  };
  add('uuid', usableSerial(id.productUuid));
  add('bios', usableSerial(id.biosSerial));
  add('board', usableSerial(id.boardSerial));
  for (const d of id.diskSerials) add('disk', usableSerial(d));
  for (const m of id.macs) add('mac', usableMac(m));
  return out;
}

/** Every unicast MAC, locally administered ones too (a weaker signal: see {@link compareMachines}). */
function anyMacs(id: MachineIdentity): Set<string> {
  const out = new Set<string>();
  for (const mac of id.macs) {
    const m = mac.trim().toLowerCase().replace(/-/g, ':');
    if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m) && !(parseInt(m.slice(0, 2), 16) & 1) && !/^0{2}(:0{2}){5}$/.test(m)) out.add(m);
  }
  return out;
}

export function compareMachines(a: MachineIdentity, b: MachineIdentity): MachineMatch {
  const ha = hardwareIds(a);
  const hb = hardwareIds(b);
  if (ha.size > 0 && hb.size > 0) {
    for (const x of ha) if (hb.has(x)) return 'same';
    return 'different';
  }
  // No strong ids on one side (a KVM guest: no readable DMI serial, a 52:54:00 MAC that is
  // locally administered): compare every MAC. Two clones of one VM image have different
  // MACs; treating them as one PC would hand the second one the first one's host. A PC
  // with a random Wi-Fi MAC may then be flagged as a clone: an admin confirms it, which is
  // the safe way to be wrong.
  const ma = anyMacs(a);
  const mb = anyMacs(b);
  if (ma.size === 0 || mb.size === 0) return 'unknown';
  for (const m of ma) if (mb.has(m)) return 'same';
  return 'different';
}
