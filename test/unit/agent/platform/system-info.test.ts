import { describe, expect, it } from 'vitest';
import { SourceUnavailableError } from '../../../../agent/sampling/sources/source.js';
import { parseProcMounts, parseProcNetDev, parseProcStat, procLine } from '../../../../agent/platform/linux-proc-parsers.js';
import { statfsPath } from '../../../../agent/platform/node-os-system-info.js';
import { cpuTimesFromOsCpus } from '../../../../agent/platform/si-system-info.js';
import { isMissingError } from '../../../../agent/platform/system-info.js';
import { readOrUnavailable } from '../../../../agent/sampling/sources/source.js';
import { fixtureJson, fixtureText } from '../fake-system-info.js';

describe('OS output adapters', () => {
  it('/proc/stat: guest time is not counted twice, iowait is idle', () => {
    expect(parseProcStat('cpu  100 10 50 800 40 5 5 0 30 0\ncpu0 1 2 3 4\n')).toEqual({ busy: 170, total: 1010 });
    expect(parseProcStat(fixtureText('linux/proc-stat.1.txt'))).toEqual({ busy: 14790, total: 98590 });
  });

  it('/proc line lookup: first, middle and last line, whole key only, absent', () => {
    const text = 'cpu  1 2\ncpu0 3 4\nintr 5 6\npswpin 7';
    expect(procLine(text, 'cpu ')).toBe('cpu  1 2');
    expect(procLine(text, 'cpu0 ')).toBe('cpu0 3 4');
    expect(procLine(text, 'pswpin ')).toBe('pswpin 7');
    expect(procLine(text, 'pswp ')).toBeUndefined();
    expect(procLine(text, 'ntr ')).toBeUndefined();
    expect(procLine('', 'cpu ')).toBeUndefined();
    expect(() => parseProcStat('cpu0 1 2 3 4\n')).toThrow(/no aggregate cpu line/);
  });

  it('os.cpus(): irq added on Linux, already inside sys on Windows', () => {
    const cpus = [{ times: { user: 100, nice: 0, sys: 50, idle: 800, irq: 10 } }];
    expect(cpuTimesFromOsCpus(cpus, 'linux')).toEqual({ busy: 160, total: 960 });
    expect(cpuTimesFromOsCpus(cpus, 'win32')).toEqual({ busy: 150, total: 950 });
    expect(cpuTimesFromOsCpus(fixtureJson('windows/os-cpus.1.json'), 'win32').total).toBe(4_300_000 + 2_500_000 + 37_000_000);
  });

  it('/proc/self/mounts: octal escapes in paths are decoded', () => {
    expect(parseProcMounts('/dev/sdb1 /media/USB\\040DISK exfat rw 0 0\n')).toEqual([{ device: '/dev/sdb1', mount: '/media/USB DISK', fsType: 'exfat' }]);
    expect(parseProcMounts(fixtureText('linux/proc-self-mounts.txt')).find((m) => m.mount === '/')).toEqual({ device: '/dev/vda', mount: '/', fsType: 'ext4' });
  });

  it('/proc/net/dev: counters glued to the name by old kernels still parse', () => {
    const text = 'Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n  eth0:4294967295 10 1 2 0 0 0 0 123 9 3 4 0 0 0 0\n';
    expect(parseProcNetDev(text)).toEqual([{ iface: 'eth0', rxBytes: 4294967295, rxErrors: 1, rxDropped: 2, txBytes: 123, txErrors: 3, txDropped: 4 }]);
  });

  it('statfs path: a bare drive letter becomes its root', () => {
    expect(statfsPath('C:')).toBe('C:\\');
    expect(statfsPath('/home')).toBe('/home');
  });

  it('missing-thing errors are recognised by code', async () => {
    expect(isMissingError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(true);
    expect(isMissingError(new Error('ENOENT in the message only'))).toBe(false);
    expect(isMissingError(null)).toBe(false);
    const own = new SourceUnavailableError('already explained');
    await expect(readOrUnavailable('x', () => Promise.reject(own))).rejects.toBe(own);
  });
});
