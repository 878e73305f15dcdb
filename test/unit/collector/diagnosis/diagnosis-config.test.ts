/** `diagnosis.freeze.*` in the collector config (issue 17): defaults, env override, errors as `path: message`. */
import { describe, expect, it } from 'vitest';
import { CollectorConfigSchema } from '../../../../collector/config.js';
import { ConfigError, loadConfig } from '../../../../common/config-loader.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('diagnosis.freeze config', () => {
  it('has the documented defaults', () => {
    expect(CollectorConfigSchema.parse({}).diagnosis.freeze).toEqual({
      windowSeconds: 120,
      diskBusyPct: 90,
      diskQueue: 4,
      psiSomePct: 10,
      swapInPs: 200,
      hardFaultsPs: 150,
      cpuPct: 90,
      processSharePct: 50,
      diskHealthBeforeHours: 24,
      diskHealthAfterHours: 8,
    });
  });

  it('is overridden by CANH_COLLECTOR__DIAGNOSIS__FREEZE__*, and a bad or unknown key is a clear error', () => {
    const c = loadConfig(CollectorConfigSchema, { envPrefix: 'CANH_COLLECTOR', env: { CANH_COLLECTOR__DIAGNOSIS__FREEZE__WINDOW_SECONDS: '300' } });
    expect(c.diagnosis.freeze.windowSeconds).toBe(300);
    const p = problems(() =>
      loadConfig(CollectorConfigSchema, {
        envPrefix: 'CANH_COLLECTOR',
        env: { CANH_COLLECTOR__DIAGNOSIS__FREEZE__CPU_PCT: '0', CANH_COLLECTOR__DIAGNOSIS__FREEZE__WINDOWSECONDS: '60' },
      }),
    );
    expect(p.some((l) => l.startsWith('diagnosis.freeze.cpuPct: '))).toBe(true);
    expect(p).toContain(
      'CANH_COLLECTOR__DIAGNOSIS__FREEZE__WINDOWSECONDS (diagnosis.freeze.windowseconds): unknown key — did you mean CANH_COLLECTOR__DIAGNOSIS__FREEZE__WINDOW_SECONDS (diagnosis.freeze.windowSeconds)?',
    );
  });
});
