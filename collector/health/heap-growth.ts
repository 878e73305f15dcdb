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

/**
 * Node flags the collector process starts with (deploy/systemd unit, Dockerfile, the
 * benchmarks that start one). V8 reads them only when the heap is created, so they cannot be
 * set from config at run time as `health.heapGrowingPercent` is.
 *
 * `--max-semi-space-size=8`: the young generation's semi-spaces at 8 MiB instead of 16. At
 * 10,000 hosts (bench:collector-memory, issue 12) the RSS was ~60 MB lower (young and old
 * generation both smaller: less survives into the old one between two batches) for ~9 % more
 * CPU per sample (more, shorter scavenges); 4 MiB saved ~15 MB more for ~45 % more CPU.
 */
export const COLLECTOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/** Whether this process was started with `--max-semi-space-size` (command line or NODE_OPTIONS). */
export function semiSpaceSized(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(a));
}

let workersFreed = false;

/**
 * Lets worker threads size their own young generation (their `resourceLimits`). V8 reads
 * `--max-semi-space-size` when each isolate's heap is created, and the flag overrides a
 * worker's `maxYoungGenerationSizeMb`: with the launchers' `--max-semi-space-size=8` every
 * worker had 16 MiB of new space committed whatever its limits, e.g. the store worker 21.5 MB
 * of heap for 4.4 MB live after a province's rollup (issue 12, /tmp probe of 2026-12-07:
 * 8 MiB of new space with its limit of 8, 2 MiB with a limit of 2). The main thread's heap was
 * created at start: resetting the flag to 0 (V8's "not set") leaves it as it is. Idempotent;
 * called before a worker is started (collector/jobs/worker-pool.ts).
 */
export function freeWorkerYoungGeneration(set: (flags: string) => void = setFlagsFromString): void {
  if (workersFreed) return;
  workersFreed = true;
  set('--max-semi-space-size=0');
}

/**
 * Environment the collector process starts with on Linux (glibc's malloc; deploy/systemd
 * unit, Dockerfile, `npm start`, the benchmarks that start one). Like the node flags, read
 * only when the process starts.
 *
 * glibc's defaults, kept fixed: allocations of 128 KiB and more get pages of their own
 * (`mmap`), given back when freed, and the heap's free top is given back past 128 KiB. By
 * default glibc raises both thresholds each time such a block is freed (up to 32 and 64 MiB),
 * so after the first large buffer a busy collector's socket reads, SQLite pages and JSON
 * stay in its arenas, which only grow. Setting either variable turns that off. At
 * 10,000 hosts with a power cut (bench:collector-memory, two collectors side by side, issue
 * 12) the peak RSS was 7 % lower for ~2 % more CPU per sample.
 */
export const COLLECTOR_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/** Whether this process's malloc was given fixed thresholds (the variables above, or GLIBC_TUNABLES). */
export function mallocTuned(env: NodeJS.ProcessEnv = process.env): boolean {
  if (/glibc\.malloc\.(mmap|trim)_threshold=/.test(env.GLIBC_TUNABLES ?? '')) return true;
  return Object.keys(COLLECTOR_MALLOC_ENV).some((k) => env[k] !== undefined);
}
