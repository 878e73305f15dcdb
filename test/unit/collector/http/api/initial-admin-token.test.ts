import { describe, expect, it } from 'vitest';
import { TokenStore } from '../../../../../collector/http/api/auth/token-store.js';
import { openDatabase } from '../../../../../collector/store/sqlite-store.js';

/** The first-start admin token (issue 15): never left unseen by a start that failed before showing it. */
describe('first-start admin token', () => {
  const fresh = () => new TokenStore(openDatabase(':memory:'));

  it('is made once; shown (markShown), the next start makes none', () => {
    const t = fresh();
    const first = t.ensureInitialAdmin(1000);
    expect(first).toMatch(/^canh_/);
    t.markShown();
    expect(t.ensureInitialAdmin(2000)).toBeUndefined();
    expect(t.revokedUnseen).toBe(0);
    expect(t.verify(first!, 3000)?.role).toBe('admin');
  });

  it('a start that never showed it: the next start revokes it and makes a new one', () => {
    const t = fresh();
    const lost = t.ensureInitialAdmin(1000)!;
    // No markShown: the HTTP port was taken and the process exited.
    const next = t.ensureInitialAdmin(2000);
    expect(next).toMatch(/^canh_/);
    expect(next).not.toBe(lost);
    expect(t.revokedUnseen).toBe(1);
    expect(t.verify(lost, 3000)).toBeUndefined();
    expect(t.verify(next!, 3000)?.role).toBe('admin');
    expect(t.list().map((x) => [x.id, x.revokedAt])).toEqual([
      [1, 2000],
      [2, null],
    ]);
  });

  it('an unseen token that was used after all is kept; one revoked while another admin exists is not replaced', () => {
    const used = fresh();
    const tok = used.ensureInitialAdmin(1000)!;
    expect(used.verify(tok, 1500)).toBeDefined();
    expect(used.ensureInitialAdmin(2000)).toBeUndefined();
    expect(used.verify(tok, 2500)?.role).toBe('admin');

    const other = fresh();
    const lost = other.ensureInitialAdmin(1000)!;
    // The officer made an admin token with `canh tokens create` meanwhile.
    const own = other.create('Lan', 'admin', 1200);
    expect(other.ensureInitialAdmin(2000)).toBeUndefined();
    expect(other.revokedUnseen).toBe(1);
    expect(other.verify(lost, 2500)).toBeUndefined();
    expect(other.verify(own.token, 2500)?.name).toBe('Lan');
  });
});
