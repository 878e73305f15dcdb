// Measuring aid only (not part of the product): preloaded into the spawned agent with
// `node --import ./bench/agent-mem-probe.mjs` when BENCH_AGENT_PROBE=1. Every second it
// writes process.memoryUsage() and V8 heap-space sizes, as one JSON line, to
// $CANH_BENCH_PROBE_FILE (overwritten, so the file holds the latest reading).
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const file = process.env.CANH_BENCH_PROBE_FILE;
if (file) {
  const t = setInterval(() => {
    const m = process.memoryUsage();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
    try {
      writeFileSync(file, JSON.stringify({ at: Date.now(), ...m, spaces }) + '\n');
    } catch {
      // the probe file is best effort; the next tick writes it again
    }
  }, 1000);
  t.unref();
}
