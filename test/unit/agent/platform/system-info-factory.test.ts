import { describe, expect, it } from 'vitest';
import { LinuxSystemInfo } from '../../../../agent/platform/linux-system-info.js';
import { SiSystemInfo } from '../../../../agent/platform/si-system-info.js';
import { createSystemInfo } from '../../../../agent/platform/system-info-factory.js';

describe('createSystemInfo', () => {
  it('reads /proc on Linux and goes through systeminformation elsewhere', () => {
    expect(createSystemInfo('linux')).toBeInstanceOf(LinuxSystemInfo);
    for (const platform of ['win32', 'darwin'] as const) {
      const sys = createSystemInfo(platform);
      expect(sys).toBeInstanceOf(SiSystemInfo);
      expect(sys.platform).toBe(platform);
    }
  });

  it('only the Windows implementation reads sleep from the event log; Linux has the boot clock for that', () => {
    expect(createSystemInfo('linux').sleptMsBetween).toBeUndefined();
    expect(typeof createSystemInfo('win32').sleptMsBetween).toBe('function');
  });
});
