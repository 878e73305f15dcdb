import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { SourceUnavailableError } from '../../../../agent/sampling/sources/source.js';
import { diskKind } from '../../../../agent/inventory.js';
import { diskLayoutFromSysBlock, parseCpuinfo, parseOsRelease, parseProcNetRoute, type SysBlockEntry } from '../../../../agent/platform/linux-proc-parsers.js';
import { readSysBlock } from '../../../../agent/platform/linux-system-info.js';
import { readOrUnavailable } from '../../../../agent/sampling/sources/source.js';
import { fixtureJson, fixtureText } from '../fake-system-info.js';

const HOST = { platform: 'linux', arch: 'x64', kernel: '6.18.44-fc-v657' };

describe('/proc/net/route → default gateway', () => {
  it('recorded: the G-flagged default row, little-endian hex → dotted quad', () => {
    expect(parseProcNetRoute(fixtureText('linux/proc-net-route.txt'), 'LE')).toBe('192.0.2.1');
  });

  it('two default routes: the lowest metric wins; a default row without the G flag is ignored', () => {
    const text = fixtureText('linux/proc-net-route-two-defaults.txt');
    // ppp0 (metric 0, no G flag) is skipped; eth0 (metric 100) beats wlan0 (metric 600).
    expect(parseProcNetRoute(text, 'LE')).toBe('10.0.0.1');
    // Rows in the other order give the same answer.
    const [header, ...rows] = text.split('\n');
    expect(parseProcNetRoute([header, ...rows.reverse()].join('\n'), 'LE')).toBe('10.0.0.1');
  });

  it('no G-flagged default row → null (gateway-less default, gatewayed non-default routes)', () => {
    expect(parseProcNetRoute(fixtureText('linux/proc-net-route-no-gateway-flag.txt'), 'LE')).toBeNull();
    expect(parseProcNetRoute('', 'LE')).toBeNull();
    expect(parseProcNetRoute(fixtureText('linux/proc-net-route.txt').split('\n')[0]!, 'LE')).toBeNull();
  });

  it('big-endian hosts print the address in network order', () => {
    const text = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\tC0000201\t0003\t0\t0\t0\t00000000\t0\t0\t0\n';
    expect(parseProcNetRoute(text, 'BE')).toBe('192.0.2.1');
  });
});

describe('/proc/cpuinfo → CpuInfo', () => {
  it('recorded (2-vCPU Xeon VM, no cpufreq): Intel, cores from (physical id, core id), GHz from cpu MHz', () => {
    expect(parseCpuinfo(fixtureText('linux/proc-cpuinfo.txt'))).toEqual({
      manufacturer: 'Intel',
      brand: 'Xeon® Processor',
      cores: 2,
      physicalCores: 2,
      speed: 2.3,
    });
  });

  it('cpuinfo_max_freq (kHz) wins over cpu MHz', () => {
    expect(parseCpuinfo(fixtureText('linux/proc-cpuinfo.txt'), { maxFreqKHz: 3_600_000 }).speed).toBe(3.6);
  });

  it('hyper-threading: 4 logical on 2 (physical id, core id) pairs; AMD; brand cleaned like systeminformation', () => {
    const block = (p: number, core: number) =>
      `processor\t: ${p}\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD Ryzen 5 3400G with Radeon Vega Graphics\nphysical id\t: 0\ncore id\t\t: ${core}\ncpu cores\t: 2\ncpu MHz\t\t: ${p === 1 ? 3700.5 : 1400}\n\n`;
    expect(parseCpuinfo(block(0, 0) + block(1, 1) + block(2, 0) + block(3, 1))).toEqual({
      manufacturer: 'AMD',
      brand: 'Ryzen 5 3400G with Radeon Vega Graphics',
      cores: 4,
      physicalCores: 2,
      speed: 3.7,
    });
    const intel = 'processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) i5-4570 CPU @ 3.20GHz\ncpu cores\t: 4\n';
    // No core id: `cpu cores` (capped by the logical count); no cpu MHz: the nominal @ speed.
    expect(parseCpuinfo(intel)).toEqual({ manufacturer: 'Intel', brand: 'Core™ i5-4570', cores: 1, physicalCores: 1, speed: 3.2 });
  });

  it('ARM64 (Raspberry Pi 4): no model name or vendor_id → CPU part/implementer; no crash', () => {
    expect(parseCpuinfo(fixtureText('linux/proc-cpuinfo-arm64-rpi4.txt'), { fallbackModel: 'unknown' })).toEqual({
      manufacturer: 'ARM',
      brand: 'Cortex-A72',
      cores: 4,
      physicalCores: 4,
      speed: 0,
    });
    expect(parseCpuinfo(fixtureText('linux/proc-cpuinfo-arm64-rpi4.txt'), { maxFreqKHz: 1_800_000 }).speed).toBe(1.8);
  });

  it('old ARMv7 (Qualcomm, empty Hardware): the `Processor` line is the brand', () => {
    expect(parseCpuinfo(fixtureText('linux/proc-cpuinfo-armv7-old.txt'))).toEqual({
      manufacturer: 'Qualcomm',
      brand: 'ARMv7 Processor rev 5 (v7l)',
      cores: 2,
      physicalCores: 2,
      speed: 0,
    });
  });

  it('nearly empty cpuinfo falls back to os.cpus() facts', () => {
    expect(parseCpuinfo('', { fallbackModel: 'Some CPU', fallbackCount: 3 })).toEqual({
      manufacturer: '',
      brand: 'Some CPU',
      cores: 3,
      physicalCores: 3,
      speed: 0,
    });
  });
});

describe('/etc/os-release → OsInfo', () => {
  it('recorded Debian 12: PRETTY_NAME and VERSION_ID', () => {
    expect(parseOsRelease(fixtureText('linux/etc-os-release.txt'), HOST)).toEqual({
      platform: 'linux',
      distro: 'Debian GNU/Linux 12 (bookworm)',
      release: '12',
      arch: 'x64',
      kernel: '6.18.44-fc-v657',
    });
  });

  it('quoting and missing keys', () => {
    const text = "NAME='Alpine Linux'\nID=alpine\n# comment\nVERSION_ID=3.19.1\n";
    expect(parseOsRelease(text, HOST)).toMatchObject({ distro: 'Alpine Linux', release: '3.19.1' });
    expect(parseOsRelease('PRETTY_NAME="Say \\"hi\\""\n', HOST)).toMatchObject({ distro: 'Say "hi"', release: '' });
    expect(parseOsRelease('', HOST)).toMatchObject({ distro: 'Linux', release: '' });
  });
});

describe('/sys/block → DiskLayoutEntry', () => {
  it('recorded VM: loop and zram dropped; virtio disk flagged rotational by the kernel', () => {
    const disks = diskLayoutFromSysBlock(fixtureJson<SysBlockEntry[]>('linux/sys-block.json'));
    expect(disks).toEqual([{ device: '/dev/vda', name: '', type: 'HD', interfaceType: '', size: 536870912 * 512, rotational: true }]);
    expect(disks.map(diskKind)).toEqual(['HDD']);
  });

  it('HDD + NVMe + USB stick + SD card; loop/ram/zram/dm/md/sr, NVMe paths, MMC boot areas and empty readers dropped', () => {
    const disks = diskLayoutFromSysBlock(fixtureJson<SysBlockEntry[]>('linux/sys-block-hdd-nvme-loop.json'));
    expect(disks).toEqual([
      { device: '/dev/mmcblk0', name: 'SD64G', type: 'SSD', interfaceType: '', size: 62333952 * 512, rotational: false },
      { device: '/dev/nvme0n1', name: 'Samsung SSD 970 EVO Plus 500GB', type: 'NVMe', interfaceType: 'NVMe', size: 500107862016, rotational: false },
      { device: '/dev/sda', name: 'WDC WD10EZEX-08W', type: 'HD', interfaceType: 'SATA', size: 1000204886016, rotational: true },
      { device: '/dev/sdb', name: 'Cruzer Blade', type: 'SSD', interfaceType: 'USB', size: 60437492 * 512, rotational: false },
    ]);
    // agent/inventory.ts maps them unchanged.
    expect(disks.map(diskKind)).toEqual(['SSD', 'NVMe', 'HDD', 'SSD']);
  });

  it('unreadable rotational flag → no flag, type left to the inventory as unknown', () => {
    const [d] = diskLayoutFromSysBlock([{ name: 'sda', size: '2048', rotational: null, model: null, devicePath: null }]);
    expect(d).toEqual({ device: '/dev/sda', name: '', type: '', interfaceType: '', size: 1048576 });
    expect(diskKind(d!)).toBe('unknown');
  });
});

describe('missing files follow the unavailable convention', () => {
  it('no /sys/block → ENOENT → SourceUnavailableError', async () => {
    const dir = mkdtempSync(`${tmpdir()}/canh-sysblock-`);
    try {
      await expect(readSysBlock(`${dir}/nope`)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(readOrUnavailable('disk layout', () => readSysBlock(`${dir}/nope`))).rejects.toBeInstanceOf(SourceUnavailableError);
      // An empty sysfs is no disks, not an error.
      await expect(readSysBlock(dir)).resolves.toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const COMPILED = `${ROOT}dist/agent/platform/linux-system-info.js`;
const SOURCE = `${ROOT}agent/platform/linux-system-info.ts`;

describe.runIf(process.platform === 'linux')('compiled agent/platform/linux-system-info.js', () => {
  beforeAll(async () => {
    // The test runs the build output; rebuild it when missing or older than the source.
    if (!existsSync(COMPILED) || statSync(COMPILED).mtimeMs < statSync(SOURCE).mtimeMs) {
      await promisify(execFile)(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}tsconfig.json`], { cwd: ROOT }).catch(
        () => undefined, // tsc emits despite type errors elsewhere in the tree; the existence check below decides.
      );
    }
    expect(existsSync(COMPILED), `${COMPILED} missing: run npm run build`).toBe(true);
  }, 120_000);

  it('never loads systeminformation nor spawns a child process for the inventory and gateway readings', async () => {
    const script = `
      import { createRequire } from 'node:module';
      import cp from 'node:child_process';
      import { syncBuiltinESMExports } from 'node:module';
      const spawned = [];
      for (const fn of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
        const orig = cp[fn];
        cp[fn] = function (...args) { spawned.push(fn + ' ' + String(args[0])); return orig.apply(this, args); };
      }
      syncBuiltinESMExports();
      const { LinuxSystemInfo } = await import(${JSON.stringify(COMPILED)});
      const sys = new LinuxSystemInfo();
      await sys.start?.();
      const results = {
        cpuInfo: await sys.cpuInfo(),
        osInfo: await sys.osInfo(),
        diskLayout: await sys.diskLayout(),
        defaultGateway: await sys.defaultGateway(),
        memory: await sys.memory(),
        mounts: (await sys.mounts()).length,
      };
      await sys.stop();
      const loaded = Object.keys(createRequire(${JSON.stringify(COMPILED)}).cache).filter((p) => p.includes('/systeminformation/'));
      process.stdout.write(JSON.stringify({ loaded, spawned, results }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
    const out = JSON.parse(stdout) as { loaded: string[]; spawned: string[]; results: Record<string, unknown> };
    expect(out.loaded).toEqual([]);
    expect(out.spawned).toEqual([]);
    expect(out.results.cpuInfo).toMatchObject({ cores: expect.any(Number) });
    expect(out.results.osInfo).toMatchObject({ platform: 'linux' });
    expect(Array.isArray(out.results.diskLayout)).toBe(true);
  }, 30_000);
});
