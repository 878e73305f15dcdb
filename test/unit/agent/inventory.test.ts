import { describe, expect, it } from 'vitest';
import { InventoryMessage } from '../../../contract/schemas.js';
import { collectInventory, diskKind } from '../../../agent/inventory.js';
import { linuxFixtureSystem, windowsFixtureSystem } from './fake-system-info.js';

const envelope = { v: 1, site: 'xa-an-binh', host: 'pc-01', boot: 'boot1234', seq: 0, t: Date.UTC(2025, 0, 1), sent: Date.UTC(2025, 0, 1) };

describe('inventory', () => {
  it('Windows: si.cpu / osInfo / diskLayout shapes mapped, and the message validates', async () => {
    const inv = await collectInventory(windowsFixtureSystem(), '0.1.0', 'MOTCUA-PC01');
    expect(inv.cpu).toEqual({ manufacturer: 'Intel', brand: 'Core™ i5-7500', cores: 4, physicalCores: 4, speedGHz: 3.4 });
    expect(inv.memTotal).toBe(8464842752);
    expect(inv.os).toEqual({ platform: 'Windows', distro: 'Microsoft Windows 10 Pro', release: '10.0.19045', arch: 'x64', kernel: '10.0.19045' });
    expect(inv.disks.map((d) => [d.device, d.type, d.size])).toEqual([
      ['\\\\.\\PHYSICALDRIVE0', 'NVMe', 256052966400],
      ['\\\\.\\PHYSICALDRIVE1', 'HDD', 1000202273280],
      ['\\\\.\\PHYSICALDRIVE2', 'SSD', 240054796800],
      ['\\\\.\\PHYSICALDRIVE3', 'unknown', 15376318464],
    ]);
    expect(InventoryMessage.safeParse({ ...envelope, ...inv }).success).toBe(true);
  });

  it('Linux: this machine (a VM: no CPU speed, no physical disks listed by si)', async () => {
    const inv = await collectInventory(linuxFixtureSystem(), '0.1.0', 'vm');
    expect(inv).toMatchObject({
      hostname: 'vm',
      cpu: { manufacturer: 'Intel', cores: 2, speedGHz: 0 },
      memTotal: 24684092 * 1024,
      disks: [],
      os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', arch: 'x64' },
      agentVersion: '0.1.0',
    });
    expect(InventoryMessage.safeParse({ ...envelope, ...inv }).success).toBe(true);
  });

  it('clips strings to 256 characters and lists to 64 entries', async () => {
    const sys = windowsFixtureSystem();
    sys.disks = Array.from({ length: 70 }, (_, i) => ({ device: `/dev/sd${i}`, name: 'x'.repeat(300), type: 'SSD', interfaceType: 'SATA', size: 1 }));
    const inv = await collectInventory(sys, '0.1.0', 'h'.repeat(400));
    expect(inv.hostname).toHaveLength(256);
    expect(inv.disks).toHaveLength(64);
    expect(inv.disks[0]!.name).toHaveLength(256);
    expect(InventoryMessage.safeParse({ ...envelope, ...inv }).success).toBe(true);
  });

  it('a failing disk listing still gives an inventory', async () => {
    const sys = windowsFixtureSystem();
    sys.diskLayout = async () => {
      throw new Error('lsblk: command not found');
    };
    expect((await collectInventory(sys, '0.1.0', 'pc')).disks).toEqual([]);
  });

  it('disk medium: NVMe by bus or type, Linux rotational flag over si type', () => {
    expect(diskKind({ type: 'NVMe', interfaceType: 'PCIe' })).toBe('NVMe');
    expect(diskKind({ type: 'HD', interfaceType: 'SATA', rotational: false })).toBe('SSD');
    expect(diskKind({ type: 'SSD', interfaceType: 'SATA', rotational: true })).toBe('HDD');
    expect(diskKind({ type: 'Virtual', interfaceType: 'SCSI' })).toBe('unknown');
  });
});
