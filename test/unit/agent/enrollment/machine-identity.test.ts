import { describe, expect, it } from 'vitest';
import { diskIdsFromByIdNames, parseRegQueryValue, parseWindowsHardware, readMachineIdentity, type IdentityDeps } from '../../../../agent/enrollment/machine-identity.js';

// Recorded on Windows 10 22H2 (cmd.exe, `reg query HKLM\SOFTWARE\Microsoft\Cryptography /v MachineGuid`).
const REG_OUTPUT = '\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n    MachineGuid    REG_SZ    6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\r\n\r\n';
// WINDOWS_HARDWARE_QUERY's output shapes (ConvertTo-Json -Compress, Windows PowerShell 5.1):
// two disks come as an array, one disk as a plain string, a disk without serial as null.
const HW_TWO_DISKS = '{"uuid":"4C4C4544-0042-3510-8052-B4C04F4E3132","bios":"B5RN12","board":"/B5RN12/CN1296348H0123/","disks":["WD-WCC6Y1234567","  S3Z9NB0K123456A     "]}\r\n';
const HW_ONE_DISK = '{"uuid":"03000200-0400-0500-0006-000700080009","bios":"To be filled by O.E.M.","board":"Default string","disks":"Z9A1B2C3"}';
const HW_NO_DISK = '{"uuid":null,"bios":null,"board":null,"disks":[null]}';

function deps(over: Partial<IdentityDeps>): IdentityDeps {
  return { platform: 'linux', readText: async () => null, run: async () => null, listDir: async () => [], macs: () => ['3c:52:82:00:00:01'], env: {}, ...over };
}

describe('machine identity', () => {
  it('reads MachineGuid from reg query output', () => {
    expect(parseRegQueryValue(REG_OUTPUT, 'MachineGuid')).toBe('6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0');
    expect(parseRegQueryValue(REG_OUTPUT, 'Other')).toBeUndefined();
    expect(parseRegQueryValue('ERROR: The system was unable to find the specified registry key or value.\r\n', 'MachineGuid')).toBeUndefined();
  });

  it('parses the Windows hardware query in its recorded shapes', () => {
    expect(parseWindowsHardware(HW_TWO_DISKS)).toEqual({
      productUuid: '4C4C4544-0042-3510-8052-B4C04F4E3132',
      biosSerial: 'B5RN12',
      boardSerial: '/B5RN12/CN1296348H0123/',
      diskSerials: ['WD-WCC6Y1234567', 'S3Z9NB0K123456A'],
    });
    expect(parseWindowsHardware(HW_ONE_DISK).diskSerials).toEqual(['Z9A1B2C3']);
    expect(parseWindowsHardware(HW_NO_DISK)).toEqual({ productUuid: undefined, biosSerial: undefined, boardSerial: undefined, diskSerials: [] });
    expect(parseWindowsHardware('Get-CimInstance : Access denied')).toEqual({ diskSerials: [] });
  });

  it('on Windows: MachineGuid (lowercased) plus the hardware ids and MACs', async () => {
    const calls: string[] = [];
    const id = await readMachineIdentity(
      deps({
        platform: 'win32',
        run: async (cmd) => {
          calls.push(cmd);
          return cmd === 'reg' ? REG_OUTPUT.replace('6f1e', '6F1E') : HW_TWO_DISKS;
        },
      }),
    );
    expect(calls).toEqual(['reg', 'powershell.exe']);
    expect(id).toMatchObject({ machineId: '6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0', source: 'windows-machine-guid', biosSerial: 'B5RN12', macs: ['3c:52:82:00:00:01'] });
    await expect(readMachineIdentity(deps({ platform: 'win32' }))).rejects.toThrow(/MachineGuid/);
  });

  it('on Linux: /etc/machine-id, DMI when readable, disk ids from /dev/disk/by-id', async () => {
    const files: Record<string, string> = { '/etc/machine-id': '0123456789abcdef0123456789abcdef\n', '/sys/class/dmi/id/product_uuid': '4c4c4544-0042\n' };
    const id = await readMachineIdentity(
      deps({
        readText: async (p) => files[p] ?? null,
        listDir: async () => ['ata-WDC_WD5000AAKX_WD-WCC2E1', 'ata-WDC_WD5000AAKX_WD-WCC2E1-part1', 'wwn-0x50014ee', 'nvme-Samsung_SSD_970_S466NX0K'],
      }),
    );
    expect(id).toEqual({
      machineId: '0123456789abcdef0123456789abcdef',
      source: 'linux-machine-id',
      productUuid: '4c4c4544-0042',
      biosSerial: undefined,
      boardSerial: undefined,
      diskSerials: ['ata-WDC_WD5000AAKX_WD-WCC2E1', 'nvme-Samsung_SSD_970_S466NX0K'],
      macs: ['3c:52:82:00:00:01'],
    });
    expect(diskIdsFromByIdNames(['usb-SanDisk_Cruzer_123', 'dm-name-root'])).toEqual([]);
    await expect(readMachineIdentity(deps({}))).rejects.toThrow(/machine-id/);
  });

  it('CANH_AGENT_IDENTITY_FILE replaces the whole identity (tests only)', async () => {
    const id = await readMachineIdentity(
      deps({ env: { CANH_AGENT_IDENTITY_FILE: '/x.json' }, readText: async (p) => (p === '/x.json' ? '{"machineId":"fake-machine-0001","macs":["3c:52:82:00:00:09"]}' : null) }),
    );
    expect(id).toEqual({ machineId: 'fake-machine-0001', source: 'override', diskSerials: [], macs: ['3c:52:82:00:00:09'] });
  });
});
