import { describe, expect, it } from 'vitest';
import { CollectorConfigSchema } from '../../../../collector/config.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { applyHeapGrowth, COLLECTOR_MALLOC_ENV, COLLECTOR_NODE_FLAGS, mallocTuned, semiSpaceSized } from '../../../../collector/health/heap-growth.js';

// The effect on memory is measured by `npm run bench:collector-memory` (side by side), not here.
describe('health.heapGrowingPercent', () => {
  it('defaults to 25, can be turned off, and is bounded', () => {
    expect(CollectorConfigSchema.parse({}).health.heapGrowingPercent).toBe(25);
    expect(CollectorConfigSchema.parse({ health: { heapGrowingPercent: 0 } }).health.heapGrowingPercent).toBe(0);
    expect(() => CollectorConfigSchema.parse({ health: { heapGrowingPercent: -1 } })).toThrow();
    expect(() => CollectorConfigSchema.parse({ health: { heapGrowingPercent: 1000 } })).toThrow();
  });

  it("sets V8's heap growing factor once, and nothing for 0", () => {
    const flags: string[] = [];
    applyHeapGrowth(0, (f) => flags.push(f));
    applyHeapGrowth(40, (f) => flags.push(f));
    applyHeapGrowth(40, (f) => flags.push(f));
    expect(flags).toEqual(['--heap-growing-percent=40']);
  });
});

describe('the node flags of the collector process', () => {
  it('are passed by the shipped launchers (systemd unit, Dockerfile)', () => {
    expect(COLLECTOR_NODE_FLAGS).toContain('--max-semi-space-size=8');
    const unit = readFileSync(new URL('../../../../deploy/systemd/canh-collector.service', import.meta.url), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(/\s+/);
    const docker = readFileSync(new URL('../../../../Dockerfile', import.meta.url), 'utf8');
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(docker)![1]!) as string[];
    for (const argv of [execStart, cmd]) {
      // Node's own options: before the script.
      const script = argv.findIndex((a) => a.endsWith('canh.js'));
      expect(script).toBeGreaterThan(0);
      for (const f of COLLECTOR_NODE_FLAGS) expect(argv.slice(1, script)).toContain(f);
    }
  });

  it('are seen on the command line or in NODE_OPTIONS (the collector logs when they are missing)', () => {
    expect(semiSpaceSized(['--max-semi-space-size=8'], '')).toBe(true);
    expect(semiSpaceSized([], '--max-old-space-size=512 --max_semi_space_size=4')).toBe(true);
    expect(semiSpaceSized(['--max-old-space-size=512'], '')).toBe(false);
    expect(semiSpaceSized([], '')).toBe(false);
  });
});

describe("the collector's malloc environment (glibc)", () => {
  it('is set by the shipped launchers (systemd unit, Dockerfile, npm start)', () => {
    const pairs = Object.entries(COLLECTOR_MALLOC_ENV).map(([k, v]) => `${k}=${v}`);
    expect(pairs).toEqual(['MALLOC_MMAP_THRESHOLD_=131072', 'MALLOC_TRIM_THRESHOLD_=131072']);
    const unit = readFileSync(new URL('../../../../deploy/systemd/canh-collector.service', import.meta.url), 'utf8');
    const unitEnv = [...unit.matchAll(/^Environment=(\S+)$/gm)].map((m) => m[1]);
    const docker = readFileSync(new URL('../../../../Dockerfile', import.meta.url), 'utf8');
    const dockerEnv = [...docker.matchAll(/^ENV (.*)$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
    // Before `node`, in the shell command that starts it.
    const startEnv = /&& ((?:\S+=\S+ )*)node /.exec(pkg.scripts.start)![1]!.trim().split(' ');
    for (const set of [unitEnv, dockerEnv, startEnv]) for (const p of pairs) expect(set).toContain(p);
  });

  it('is seen in the variables or in GLIBC_TUNABLES (the collector logs when it is missing)', () => {
    expect(mallocTuned({ ...COLLECTOR_MALLOC_ENV })).toBe(true);
    expect(mallocTuned({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' })).toBe(true);
    expect(mallocTuned({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toBe(false);
    expect(mallocTuned({})).toBe(false);
  });

  // Why (issue 12): once a large block was freed, glibc keeps blocks up to its size in the
  // heap, where a few small live allocations between them keep their pages from being given
  // back. A real node process: 200 blocks of 256 KiB with a 1 KiB buffer kept after each, then
  // the blocks dropped. The fixed thresholds give ~50 MB back that the defaults keep.
  it("gives freed large buffers back to the system, which glibc's moving thresholds do not", () => {
    const script = `
      const { readFileSync } = require('node:fs');
      const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      (async () => {
        let first = Buffer.allocUnsafeSlow(4 << 20).fill(1);
        first = null; gc(); await sleep(50); gc();
        const kept = []; let blocks = [];
        for (let i = 0; i < 200; i++) { blocks.push(Buffer.allocUnsafeSlow(256 << 10).fill(1)); kept.push(Buffer.allocUnsafeSlow(1024).fill(2)); }
        const full = anon();
        blocks = null; gc(); await sleep(100); gc(); await sleep(100);
        process.stdout.write(JSON.stringify({ full, after: anon(), kept: kept.length }));
      })();`;
    const run = (env: Record<string, string>) => {
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'GLIBC_TUNABLES'));
      return JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { env: { ...clean, ...env }, encoding: 'utf8' })) as {
        full: number;
        after: number;
        kept: number;
      };
    };
    const moving = run({});
    const fixed = run({ ...COLLECTOR_MALLOC_ENV });
    for (const r of [moving, fixed]) expect(r.full).toBeGreaterThan(50); // the 50 MB of blocks were resident
    expect(fixed.after).toBeLessThan(fixed.full - 40);
    expect(moving.after - fixed.after).toBeGreaterThan(40);
  });
});
