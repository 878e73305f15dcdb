import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../../common/clock.js';

/**
 * Runs `body` in a fresh Node process with NODE_DEBUG=timer (Node's own trace of its timer
 * lists: "timeout callback <ms>" each time a list is processed, i.e. the event loop woke for
 * it) and the real common/clock.ts as `clock`; returns its stdout and stderr together.
 */
function execTrace(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'canh-clock-'));
  const src = transformSync(readFileSync(new URL('../../../common/clock.ts', import.meta.url), 'utf8'), { loader: 'ts', format: 'esm' }).code;
  writeFileSync(join(dir, 'clock.mjs'), src);
  writeFileSync(join(dir, 'main.mjs'), `import { systemClock as clock } from './clock.mjs';\n${body}\n`);
  return execFileSync('sh', ['-c', `"${process.execPath}" "${join(dir, 'main.mjs')}" 2>&1`], { env: { ...process.env, NODE_DEBUG: 'timer' }, encoding: 'utf8', timeout: 20_000 });
}

describe('SystemClock and event-loop wake-ups', () => {
  it('a timeout cleared before it is due does not wake the event loop at its expiry (an unref-ed one did)', () => {
    // Both armed inside a timer callback and cleared from I/O, as the sampler's per-source
    // timeout is; the process lives past both expiries on a ref-ed 900 ms timer.
    const out = execTrace(`
      import { readFile } from 'node:fs/promises';
      setTimeout(() => {}, 900);
      setTimeout(() => {
        const raw = setTimeout(() => console.log('raw fired'), 301);
        raw.unref();
        const mine = clock.setTimeout(() => console.log('clock fired'), 300);
        readFile('/dev/null').then(() => {
          clearTimeout(raw);
          clock.clear(mine);
        });
      }, 20);
    `);
    // The control: Node processes the empty list of a cleared unref-ed timer (the wake-up this removes).
    expect(out).toMatch(/timeout callback 301\b/);
    expect(out).not.toMatch(/timeout callback 300\b/);
    expect(out).not.toMatch(/fired/);
  });

  it('a cleared timeout that was armed ref-ed, and intervals, clear as before; the process still exits', () => {
    const out = execTrace(`
      const t = clock.setTimeout(() => console.log('timeout fired'), 5000);
      const i = clock.setInterval(() => console.log('interval fired'), 5000);
      clock.clear(t);
      clock.clear(i);
      clock.clear(t); // twice: harmless
      // Cleared in its own callback, and after it fired: neither keeps the process alive.
      const own = clock.setTimeout(() => { clock.clear(own); console.log('own cleared'); }, 10);
      const done = clock.setTimeout(() => console.log('done fired'), 10);
      setTimeout(() => { clock.clear(done); console.log('end'); }, 50);
    `);
    expect(out).toMatch(/own cleared/);
    expect(out).toMatch(/done fired/);
    expect(out).toMatch(/end/);
    expect(out).not.toMatch(/(timeout|interval) fired/);
  });

  it('soon(): runs without a timer (no 1 ms timer list), and clear() cancels it', async () => {
    const out = execTrace(`
      setTimeout(() => {}, 100);
      setTimeout(() => {
        clock.soon(() => console.log('soon ran'));
        const c = clock.soon(() => console.log('cancelled ran'));
        clock.clear(c);
      }, 20);
    `);
    expect(out).toMatch(/soon ran/);
    expect(out).not.toMatch(/cancelled ran/);
    // setTimeout(fn, 0) is a 1 ms timer: a list of its own, and the loop sleeps 1 ms for it.
    expect(out).not.toMatch(/timeout callback 1\b/);

    // In this process too (vitest): order and cancellation.
    const clock = new SystemClock();
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      clock.soon(() => seen.push('a'));
      const h = clock.soon(() => seen.push('never'));
      clock.clear(h);
      clock.soon(() => {
        seen.push('b');
        resolve();
      });
      // soon() handles are unref-ed like the clock's timeouts: a ref-ed timer keeps vitest's loop here.
      setTimeout(() => resolve(), 2000);
    });
    expect(seen).toEqual(['a', 'b']);
  });
});
