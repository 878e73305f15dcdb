import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlertingConfigSchema, resolveRulesFile } from '../../../../collector/alerting/alerting-config.js';
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

describe('alerting config', () => {
  it('has good defaults for every built-in rule', () => {
    const c = AlertingConfigSchema.parse({});
    expect(c.lang).toBe('vi');
    expect(c.rules.peakHourCongestion).toMatchObject({ enabled: true, forSeconds: 600, schedule: 'working_hours', lossPct: 5, windowSeconds: 120 });
    expect(c.rules.frequentPowerCuts).toMatchObject({ minCount: 3, windowDays: 7, longMinutes: 15 });
    expect(c.rules.siteOffline).toMatchObject({ schedule: 'always', severity: 'critical' });
    expect(c.rules.hostOffline).toMatchObject({ schedule: 'working_hours' });
    expect(c.rules.diskFailing).toMatchObject({ schedule: 'always', severity: 'warning', windowHours: 168, minSectorIncrease: 1, minErrorEvents: 3 });
    expect(c.rules.diskSaturated).toMatchObject({ schedule: 'working_hours', forSeconds: 300, windowSeconds: 300, busyPct: 90, recoveryPct: 70 });
    expect(c.rules.memoryPressure).toMatchObject({ schedule: 'working_hours', forSeconds: 300, psiSomePct: 10, swapInPs: 200, hardFaultsPs: 150, recoveryRatio: 0.5 });
    expect(Object.keys(c.rules).sort()).toEqual(
      [
        'cpuSaturation',
        'diskFailing',
        'diskNearlyFull',
        'diskSaturated',
        'memoryPressure',
        'freezesAndCrashes',
        'frequentPowerCuts',
        'hostOffline',
        'memorySaturation',
        'networkCut',
        'peakHourCongestion',
        'portalUnreachable',
        'siteOffline',
      ].sort(),
    );
  });

  it('a bad rule is a clear startup error: every problem as `path: message`', () => {
    const p = problems(() =>
      loadConfig(CollectorConfigSchema, {
        envPrefix: 'CANH_COLLECTOR',
        env: {
          CANH_COLLECTOR__ALERTING__RULES__NO_SUCH_RULE: '{}',
          CANH_COLLECTOR__ALERTING__RULES__DISK_NEARLY_FULL__USED_PCT: '80',
          CANH_COLLECTOR__ALERTING__RULES__PEAK_HOUR_CONGESTION__FOR_SECONDS: '"ten minutes"',
          CANH_COLLECTOR__ALERTING__RULES__CPU_SATURATION__SCHEDULE: '"sometimes"',
        },
      }),
    );
    // Named at its own path, from the variable that set it (common/config-loader.ts findUnknownKeys).
    expect(p.some((l) => l.startsWith('CANH_COLLECTOR__ALERTING__RULES__NO_SUCH_RULE (alerting.rules.noSuchRule): unknown key'))).toBe(true);
    expect(p).toContain('alerting.rules.diskNearlyFull.recoveryPct: recoveryPct must be below usedPct');
    expect(p.some((l) => l.startsWith('alerting.rules.peakHourCongestion.forSeconds: '))).toBe(true);
    expect(p.some((l) => l.startsWith('alerting.rules.cpuSaturation.schedule: '))).toBe(true);
  });

  it('a rules file is merged and validated, with the file named in each problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-rules-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ peakHourCongestion: { forSeconds: 300, lossPct: 8 }, cpuSaturation: { enabled: false } }));
    const c = resolveRulesFile(AlertingConfigSchema.parse({ rulesFile: good }));
    expect(c.rules.peakHourCongestion).toMatchObject({ forSeconds: 300, lossPct: 8, latencyFactor: 3 });
    expect(c.rules.cpuSaturation!.enabled).toBe(false);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ peakHourCongestion: { lossPct: -1, bogus: 1 } }));
    const p = problems(() => resolveRulesFile(AlertingConfigSchema.parse({ rulesFile: bad })));
    expect(p.some((l) => l.startsWith(`${bad}: peakHourCongestion.lossPct: `))).toBe(true);
    expect(p.some((l) => l.startsWith(`${bad}: peakHourCongestion.bogus: unknown key`))).toBe(true);
    expect(p.filter((l) => l.includes('bogus'))).toHaveLength(1);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ nope');
    expect(problems(() => resolveRulesFile(AlertingConfigSchema.parse({ rulesFile: broken })))[0]).toMatch(/^alerting\.rulesFile: .* is not valid JSON/);
    expect(problems(() => resolveRulesFile(AlertingConfigSchema.parse({ rulesFile: join(dir, 'missing.json') })))[0]).toMatch(/^alerting\.rulesFile: file not found/);
  });

  it('maintenance windows need a matcher and an end after the start', () => {
    const r = AlertingConfigSchema.safeParse({ maintenance: [{ startsAt: '2026-11-24T08:00:00+07:00', endsAt: '2026-11-24T07:00:00+07:00' }] });
    expect(r.success).toBe(false);
    const msgs = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(msgs).toContain('maintenance.0.endsAt: endsAt must be after startsAt');
    expect(msgs).toContain('maintenance.0: a maintenance window needs rule, site or host');
    const ok = AlertingConfigSchema.parse({ maintenance: [{ site: 'xa-a', startsAt: '2026-11-24T08:00:00+07:00', endsAt: '2026-11-24T10:00:00+07:00', author: 'Lan' }] });
    expect(ok.maintenance[0]!.startsAt).toBe(Date.UTC(2026, 10, 24, 1, 0));
  });
});
