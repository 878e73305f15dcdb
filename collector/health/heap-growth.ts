import { setFlagsFromString } from 'node:v8';

let applied: number | undefined;

/**
 * Sets V8's heap growing factor for the whole process (config `health.heapGrowingPercent`):
 * after each full GC the heap may grow by this share of what it kept before the next one.
 * Read by V8 at every GC, so it applies from here on, to the main thread and to workers.
 * 0 leaves V8's own heuristic (up to 4× the live data on a busy heap). Idempotent.
 */
export function applyHeapGrowth(percent: number, set: (flags: string) => void = setFlagsFromString): void {
  if (percent <= 0 || applied === percent) return;
  set(`--heap-growing-percent=${percent}`);
  applied = percent;
}
