import { z } from 'zod';

/** The collector's watch over itself (config `health`, issue 12 item 5). */
export const HealthConfigSchema = z
  .object({
    /**
     * A tick of the stall watch (every 250 ms) this many seconds late means the collector
     * stood still: what it missed then is its own gap, never a host outage or site incident.
     */
    stallThresholdSeconds: z.number().min(0.5).max(600).default(2),
    /**
     * How much V8 lets the heap grow past what the last full GC kept, in percent (V8's
     * `--heap-growing-percent`, the analogue of Go's GOGC), for the main thread and the
     * workers. V8's own heuristic lets a busy collector's heap grow up to 4× its live data
     * before collecting: 10,000 hosts, 82 MB live, 400–550 MB RSS. 25 keeps it at 255–300 MB
     * for a few more (short, mostly concurrent) major GCs. 0 leaves V8's heuristic.
     */
    heapGrowingPercent: z.number().int().min(0).max(400).default(25),
  })
  .prefault({});

export type HealthConfig = z.output<typeof HealthConfigSchema>;
