import { describe, expect, it } from 'vitest';
import { decideLaunch, MAX_TRIAL_STARTS, rollbackOnTimeout, type VersionPointer } from '../../../../agent/update/version-pointer.js';

const NOW = 1_750_000_000_000;

describe('launch decision (what runs at a start)', () => {
  it('runs the installed code without a pointer or when it names the installed version', () => {
    expect(decideLaunch({ version: null, previous: null }, '1.0.0', NOW)).toEqual({ run: null });
    expect(decideLaunch({ version: '1.0.0', previous: null }, '1.0.0', NOW)).toEqual({ run: null });
  });

  it('runs a confirmed staged version with nothing to write', () => {
    expect(decideLaunch({ version: '1.1.0', previous: null }, '1.0.0', NOW)).toEqual({ run: '1.1.0', trial: false });
  });

  it('counts the starts of a version on trial', () => {
    const p: VersionPointer = { version: '1.1.0', previous: null, lastSeq: 4, trial: { version: '1.1.0', seq: 4, starts: 0, at: NOW - 1000 } };
    const d = decideLaunch(p, '1.0.0', NOW);
    expect(d).toEqual({ run: '1.1.0', trial: true, pointer: { ...p, trial: { ...p.trial!, starts: 1 } } });
  });

  it(`rolls back at the start after ${MAX_TRIAL_STARTS} unconfirmed starts, with a report for the previous version`, () => {
    const p: VersionPointer = { version: '1.1.0', previous: null, lastSeq: 4, trial: { version: '1.1.0', seq: 4, starts: MAX_TRIAL_STARTS, at: NOW - 1000 } };
    const d = decideLaunch(p, '1.0.0', NOW);
    expect(d.run).toBeNull();
    expect(d.pointer).toEqual({
      version: null,
      previous: null,
      lastSeq: 4,
      report: { state: 'rolled_back', version: '1.0.0', from: '1.1.0', seq: 4, reason: expect.stringMatching(/did not connect .* 2 starts/), at: NOW },
    });
  });

  it('rolls back to a previous staged version, not only to the installed one', () => {
    const p: VersionPointer = { version: '1.2.0', previous: '1.1.0', trial: { version: '1.2.0', seq: 7, starts: MAX_TRIAL_STARTS, at: NOW } };
    const d = decideLaunch(p, '1.0.0', NOW);
    expect(d).toMatchObject({ run: '1.1.0', trial: false, pointer: { version: '1.1.0', report: { state: 'rolled_back', version: '1.1.0', from: '1.2.0' } } });
  });

  it('goes back when the staged files are gone, and to the installed code when the previous one is gone too', () => {
    const p: VersionPointer = { version: '1.2.0', previous: '1.1.0' };
    const d = decideLaunch(p, '1.0.0', NOW, () => false);
    expect(d.run).toBeNull();
    expect(d.pointer).toMatchObject({ version: null, report: { state: 'rolled_back', reason: expect.stringMatching(/missing/) } });
  });

  it('a trial timeout rolls back only a version still on trial', () => {
    const p: VersionPointer = { version: '1.1.0', previous: null, trial: { version: '1.1.0', seq: 2, starts: 1, at: NOW } };
    expect(rollbackOnTimeout(p, '1.0.0', 300, NOW)).toMatchObject({
      version: null,
      report: { state: 'rolled_back', from: '1.1.0', version: '1.0.0', reason: expect.stringMatching(/300 s/) },
    });
    expect(rollbackOnTimeout({ version: '1.1.0', previous: null }, '1.0.0', 300, NOW)).toBeUndefined();
  });
});
