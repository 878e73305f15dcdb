import { describe, expect, it } from 'vitest';
import { CollectorConfigSchema } from '../../../../collector/config.js';
import { readFileSync } from 'node:fs';
import { applyHeapGrowth, COLLECTOR_NODE_FLAGS, semiSpaceSized } from '../../../../collector/health/heap-growth.js';

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
