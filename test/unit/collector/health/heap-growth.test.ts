import { describe, expect, it } from 'vitest';
import { CollectorConfigSchema } from '../../../../collector/config.js';
import { applyHeapGrowth } from '../../../../collector/health/heap-growth.js';

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
