import { z } from 'zod';

/**
 * Outage intelligence settings (collector config `outage`, issue 3). Defaults follow the
 * issue: a site incident opens when at least 60 % (and at least 2) of a site's online hosts
 * drop within a short window; the agents' 10 s keepalive makes a drop known within ~15 s
 * from the Last Will, with a silence timeout as the backup when no Last Will comes.
 */
export const OutageConfigSchema = z
  .object({
    /** Share of the site's online hosts that must drop within the window to open a site incident. */
    siteShare: z.number().gt(0).max(1).default(0.6),
    /** Fewest hosts that make a site incident (a single host crashing is a host outage only). */
    minHosts: z.number().int().min(2).max(10_000).default(2),
    /** Drops whose start lies within this many seconds of each other belong to one incident. */
    windowSeconds: z.number().min(1).max(3600).default(60),
    /**
     * Backup for a Last Will that never comes: a host that sent nothing for
     * max(silenceSeconds, silenceIntervals × its sampling interval) is taken as dropped.
     */
    silenceSeconds: z.number().min(5).max(86_400).default(60),
    silenceIntervals: z.number().min(2).max(1000).default(4),
    /**
     * After a host returns, wait at most this long for its evidence (outage event from the
     * new boot, buffered samples of the gap, freeze event) before deciding with what came.
     */
    settleSeconds: z.number().min(1).max(3600).default(60),
    /** Hosts of an incident still out after this long are given up on (recorded) and the incident is resolved. */
    giveUpHours: z
      .number()
      .min(0.01)
      .max(24 * 90)
      .default(24),
    /** A reported OS boot this much later than the drop (or the previous boot) counts as a new OS boot. */
    bootToleranceSeconds: z.number().min(1).max(3600).default(30),
    /** Bound on hosts tracked (memory); more are counted and logged, not tracked. */
    maxHosts: z.number().int().min(1).max(10_000_000).default(200_000),
    /** Tick of the silence / settle / give-up checks. */
    tickMs: z.number().int().min(50).max(60_000).default(1000),
  })
  .prefault({});

export type OutageConfig = z.output<typeof OutageConfigSchema>;
