import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../cli/alerts-command.js';
import { runCanhSync } from '../helpers/processes.js';

/** The real `canh` binary: silences and alerts on a collector store, and a bad rule at startup. */
describe('canh alerts / canh silence / bad rule config (real CLI)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'canh-alert-cli-'));

  it('durations for --for', () => {
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('90min')).toBe(90 * 60_000);
    expect(parseDuration('1h 30m')).toBe(90 * 60_000);
    expect(parseDuration('2d')).toBe(2 * 86_400_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('2h!')).toBeUndefined();
  });

  it('silence add / list / expire with author and comment; bad input is exit 2 with every problem', () => {
    const add = runCanhSync([
      'silence',
      'add',
      '--data-dir',
      dataDir,
      '--site',
      'xa-a',
      '--rule',
      'host_offline',
      '--for',
      '2h',
      '--comment',
      'Thay switch tầng 2',
      '--author',
      'Lan',
      '--json',
    ]);
    expect(add.stderr).toBe('');
    expect(add.status).toBe(0);
    const { id } = JSON.parse(add.stdout) as { id: number };
    const list = runCanhSync(['silence', 'list', '--data-dir', dataDir, '--json']);
    const items = JSON.parse(list.stdout) as Array<{
      id: number;
      matchers: Record<string, string>;
      author: string;
      comment: string;
      state: string;
      endsAt: number;
      startsAt: number;
    }>;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id, matchers: { site: 'xa-a', rule: 'host_offline' }, author: 'Lan', comment: 'Thay switch tầng 2', state: 'active' });
    expect(items[0]!.endsAt - items[0]!.startsAt).toBe(2 * 3600_000);
    const human = runCanhSync(['silence', 'list', '--data-dir', dataDir]);
    expect(human.stdout).toMatch(new RegExp(`#${id}\\tactive\\trule=host_offline site=xa-a\\t.*\\tLan\\tThay switch tầng 2`));
    expect(runCanhSync(['silence', 'expire', String(id), '--data-dir', dataDir]).status).toBe(0);
    expect(JSON.parse(runCanhSync(['silence', 'list', '--data-dir', dataDir, '--json']).stdout)).toEqual([]);
    expect(JSON.parse(runCanhSync(['silence', 'list', '--all', '--data-dir', dataDir, '--json']).stdout)[0].state).toBe('expired');
    expect(runCanhSync(['silence', 'expire', '999', '--data-dir', dataDir]).status).toBe(1);
    const bad = runCanhSync(['silence', 'add', '--data-dir', dataDir, '--rule', 'nope', '--for', 'soon']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--rule: unknown rule "nope"');
    expect(bad.stderr).toContain('--for: not a duration');
    expect(bad.stderr).toContain('--comment: say why');
  });

  it('alerts list shows what the store holds', () => {
    const db = new Database(join(dataDir, 'canh.db'));
    db.prepare(
      `INSERT INTO alerts (id, fingerprint, rule, site, host, key, severity, state, active_since, pending_since, starts_at, value, summary, hint, last_seen, active)
       VALUES (7, 'f', 'disk_nearly_full', 'xa-a', 'pc1', '', 'warning', 'firing', ?, ?, ?, 95, ?, ?, ?, 1)`,
    ).run(Date.UTC(2026, 10, 24, 1, 5), 0, 0, JSON.stringify({ vi: 'Ổ C: đầy 95%', en: 'Disk C: 95% full' }), JSON.stringify({ vi: '', en: '' }), 0);
    db.close();
    const out = runCanhSync(['alerts', 'list', '--data-dir', dataDir]);
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('#7\tfiring\twarning\txa-a/pc1\tdisk_nearly_full\t08:05 24/11');
    expect(out.stdout).toContain('Ổ C: đầy 95%');
    expect(runCanhSync(['alerts', 'list', '--data-dir', dataDir, '--lang', 'en']).stdout).toContain('Disk C: 95% full');
    expect(JSON.parse(runCanhSync(['alerts', 'list', '--state', 'resolved', '--data-dir', dataDir, '--json']).stdout)).toEqual([]);
  });

  it('a bad rule stops the collector at startup: `path: message` lines, exit 2', () => {
    const rules = join(dataDir, 'rules.json');
    writeFileSync(rules, JSON.stringify({ peakHourCongestion: { lossPct: 1, lossRecoveryPct: 3 }, diskNearlyFull: { usedPct: 'lots' } }));
    const r = runCanhSync(['collector'], {
      CANH_COLLECTOR__DATA_DIR: dataDir,
      CANH_COLLECTOR__ALERTING__RULES_FILE: rules,
      CANH_COLLECTOR__ALERTING__RULES__SITE_OFFLINE__FOR_SECONDS: '-5',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('canh collector: invalid configuration');
    expect(r.stderr).toContain('alerting.rules.siteOffline.forSeconds: ');
    const r2 = runCanhSync(['collector'], { CANH_COLLECTOR__DATA_DIR: dataDir, CANH_COLLECTOR__ALERTING__RULES_FILE: rules });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain(`${rules}: peakHourCongestion.lossRecoveryPct: lossRecoveryPct must be below lossPct`);
    expect(r2.stderr).toContain(`${rules}: diskNearlyFull.usedPct: `);
    // `canh up` (the quick start) reads the same configuration, rules file included.
    const r3 = runCanhSync(['up'], { CANH_COLLECTOR__DATA_DIR: dataDir, CANH_COLLECTOR__ALERTING__RULES_FILE: rules });
    expect(r3.status).toBe(2);
    expect(r3.stderr).toContain('canh up: invalid configuration');
    expect(r3.stderr).toContain(`${rules}: peakHourCongestion.lossRecoveryPct: lossRecoveryPct must be below lossPct`);
  });
});
