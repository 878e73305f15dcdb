import { z } from 'zod';

/** The collector's watch over itself (config `health`, issue 12 item 5). */
export const HealthConfigSchema = z
  .object({
    /**
     * A tick of the stall watch (every 250 ms) this many seconds late means the collector
     * stood still: what it missed then is its own gap, never a host outage or site incident.
     */
    stallThresholdSeconds: z.number().min(0.5).max(600).default(2),
  })
  .prefault({});

export type HealthConfig = z.output<typeof HealthConfigSchema>;
