/**
 * The pure parts of issue 14's broker hardening: the guessing throttle's delays and bans,
 * the open-files budget, and which client ids belong to which credential.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AuthThrottle } from '../../../../collector/broker/auth-throttle.js';
import { connectionBudget, normalizeAddress, openFilesLimit } from '../../../../collector/broker/connection-limits.js';
import type { Identity } from '../../../../collector/broker/acl.js';
import { CredentialStore } from '../../../../collector/broker/credentials.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const opts = { freeFailures: 2, maxDelayMs: 2000, banAfterFailures: 8, banMs: 60_000, windowMs: 300_000 };

describe('AuthThrottle', () => {
  it('free failures, then a doubling delay up to the cap, then a ban that ends; the count starts again after it', () => {
    const clock = new FakeClock();
    const t = new AuthThrottle({ ...opts, clock });
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const v = t.verdict('10.0.0.9', 'xa.pc-1');
      delays.push(v.action === 'check' ? v.delayMs : -1);
      expect(t.failure('10.0.0.9', 'xa.pc-1')).toEqual([]);
    }
    expect(delays).toEqual([0, 0, 0, 250, 500, 1000, 2000]);
    expect(t.failure('10.0.0.9', 'xa.pc-1')).toEqual(['address', 'username']);
    expect(t.verdict('10.0.0.9', 'xa.pc-1')).toMatchObject({ action: 'ban', scope: 'username', untilMs: 60_000 });
    // Another username from the banned address: the address ban.
    expect(t.verdict('10.0.0.9', 'xa.pc-2')).toMatchObject({ action: 'ban', scope: 'address' });
    // The guessed username from another address: the username ban.
    expect(t.verdict('10.0.0.7', 'xa.pc-1')).toMatchObject({ action: 'ban', scope: 'username' });
    // Another PC at another address: untouched.
    expect(t.verdict('10.0.0.7', 'xa.pc-2')).toEqual({ action: 'check', delayMs: 0, delayedBy: undefined });
    expect(t.banned()).toEqual({ address: 1, username: 1 });
    clock.advance(60_001);
    expect(t.verdict('10.0.0.9', 'xa.pc-1')).toEqual({ action: 'check', delayMs: 0, delayedBy: undefined });
    expect(t.banned()).toEqual({ address: 0, username: 0 });
  });

  it('failures are forgotten after the window; a success clears its username', () => {
    const clock = new FakeClock();
    const t = new AuthThrottle({ ...opts, clock });
    for (let i = 0; i < 4; i++) t.failure('10.0.0.9', 'u');
    expect(t.verdict('10.0.0.9', 'u')).toMatchObject({ action: 'check', delayMs: 500 });
    t.success('10.0.0.9', 'u');
    // The username is cleared; the address is not (an attacker with one good password cannot reset it) …
    expect(t.verdict('10.0.0.9', 'v')).toMatchObject({ action: 'check', delayMs: 500, delayedBy: 'address' });
    // … but a username that logged in from this address is spared the address's throttle (NAT).
    expect(t.verdict('10.0.0.9', 'u')).toEqual({ action: 'check', delayMs: 0, delayedBy: undefined });
    clock.advance(300_001);
    expect(t.verdict('10.0.0.9', 'v')).toEqual({ action: 'check', delayMs: 0, delayedBy: undefined });
  });

  it('keeps at most maxKeys records per kind', () => {
    const t = new AuthThrottle({ ...opts, clock: new FakeClock(), maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) t.failure(`10.1.${i >> 8}.${i & 255}`, `user-${i}`);
    const internals = t as unknown as { addresses: Map<string, unknown>; usernames: Map<string, unknown> };
    expect(internals.addresses.size).toBe(100);
    expect(internals.usernames.size).toBe(100);
  });
});

describe('connection budget', () => {
  it('caps the broker at the open-files limit less the reserve, and says why', () => {
    expect(connectionBudget(10_000, 512, 0, 1_048_576)).toEqual({ max: 10_000, fileLimit: 1_048_576, warning: undefined });
    const low = connectionBudget(10_000, 512, 300, 1024);
    expect(low.max).toBe(512);
    expect(low.warning).toMatch(/^the open-files limit \(1024\) caps the embedded broker at 512 connections/);
    const tooLow = connectionBudget(10_000, 512, 900, 1024);
    expect(tooLow.warning).toMatch(/^the open-files limit \(1024\) is too low for the 900 PCs known: .* accepts only 512 connections; raise it \(systemd LimitNOFILE=2436/);
    expect(connectionBudget(10_000, 512, 900, undefined)).toEqual({ max: 10_000, fileLimit: undefined, warning: undefined });
  });

  it('reads the soft open-files limit from /proc/self/limits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-limits-'));
    const f = join(dir, 'limits');
    writeFileSync(f, 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n');
    expect(openFilesLimit(f)).toBe(1024);
    writeFileSync(f, 'Max open files            unlimited            unlimited            files\n');
    expect(openFilesLimit(f)).toBe(Number.MAX_SAFE_INTEGER);
    expect(openFilesLimit(join(dir, 'missing'))).toBeUndefined();
    if (process.platform === 'linux') expect(openFilesLimit()).toBeGreaterThan(0);
    expect(normalizeAddress('::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(normalizeAddress(undefined)).toBe('unknown');
  });
});

describe('client ids belong to one credential', () => {
  const store = new CredentialStore(new Database(':memory:'));
  const host: Identity = { username: 'xa-a.pc-1', site: 'xa-a', host: 'pc-1', role: 'agent' };
  const site: Identity = { username: 'xa-a', site: 'xa-a', host: null, role: 'agent' };
  const col: Identity = { username: 'canh-collector', site: '*', host: null, role: 'collector' };

  it.each([
    [host, 'xa-a.pc-1', true],
    [host, 'xa-a.pc-2', false],
    [host, 'canh-xa-a-pc-1', false],
    [host, '', false],
    [site, 'xa-a.pc-7', true],
    [site, 'xa-a.PC 7', false],
    [site, 'xa-a', false],
    [site, 'xa-ab.pc-7', false],
    [site, 'xa-a.pc-1/x', false],
    [col, 'canh-collector', true],
    [col, 'xa-a.pc-1', false],
  ] as const)('%o may use %j: %s', (identity, clientId, ok) => {
    expect(store.mayUseClientId(identity, clientId)).toBe(ok);
  });
});
