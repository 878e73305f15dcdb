import { readFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, deepMerge, findUnknownKeys, formatIssues, unknownKeyProblem } from '../../common/config-loader.js';
import type { CommonParams } from './rules/alert-rule.js';
import { BUILT_IN_RULES } from './rules/registry.js';

/**
 * The `alerting` section of the collector config (issue 4): engine timings, the built-in
 * rules' params (every one optional with good defaults), maintenance windows and the
 * language. Rules may also come from a separate JSON file (`rulesFile`, merged over the
 * section); a bad rule stops the collector with `path: message` lines (exit 2).
 */

const isoOrEpoch = z.union([
  z.number().int().min(0),
  z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time, e.g. 2026-11-24T12:00:00+07:00')
    .transform((s) => Date.parse(s)),
]);
const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a lowercase slug');

export const MaintenanceWindowSchema = z
  .object({
    rule: z.string().optional(),
    site: id.optional(),
    host: id.optional(),
    startsAt: isoOrEpoch,
    endsAt: isoOrEpoch,
    author: z.string().min(1).max(100).default('config'),
    comment: z.string().max(500).default(''),
  })
  .strict()
  .refine((w) => w.endsAt > w.startsAt, { message: 'endsAt must be after startsAt', path: ['endsAt'] })
  .refine((w) => w.rule !== undefined || w.site !== undefined || w.host !== undefined, { message: 'a maintenance window needs rule, site or host' });

const ruleNames = BUILT_IN_RULES.map((r) => r.name);

/**
 * The province digest (issue 12 item 6, collector/alerting/province-wave.ts): one extra
 * message per channel when many sites drop together, and one summary when they are back.
 * Which channels get it: each channel's `notify.channels[].provinceDigest` (default: the
 * channels that get alerts).
 */
export const ProvinceDigestConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** At least this many sites down together (never fewer than 2)… */
    minSites: z.number().int().min(2).max(100_000).default(5),
    /** …and (`require: both`) or (`require: either`) at least this share of the sites with agents; 0 = no share condition. */
    minShare: z.number().min(0).max(1).default(0.2),
    require: z.enum(['both', 'either']).default('both'),
    /** Sites whose drops lie within this span of the first one form one wave. */
    windowSeconds: z.number().min(10).max(3600).default(120),
    /** Wait after the threshold is reached, so the message lists the companions too. */
    waitSeconds: z.number().min(0).max(600).default(30),
    /** The summary goes when this share of the wave's sites is back… */
    backShare: z.number().gt(0).max(1).default(0.9),
    /** …or at the latest this long after the wave's first drop (it then says how many are still out). */
    summaryAfterMinutes: z
      .number()
      .min(1)
      .max(7 * 1440)
      .default(180),
    /** The board's address, quoted in the messages (e.g. `https://canh.tinh.gov.vn/`). */
    boardUrl: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL')
      .optional(),
  })
  .strict()
  .refine((p) => p.waitSeconds < p.summaryAfterMinutes * 60, { message: 'waitSeconds must be shorter than summaryAfterMinutes', path: ['waitSeconds'] })
  .prefault({});
export type ProvinceDigestConfig = z.output<typeof ProvinceDigestConfigSchema>;

/**
 * Config key of a rule: its name in camelCase (`peak_hour_congestion` → `peakHourCongestion`),
 * so that env overrides (`CANH_COLLECTOR__ALERTING__RULES__PEAK_HOUR_CONGESTION__FOR_SECONDS`)
 * reach it like every other setting.
 */
export function ruleConfigKey(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

const RulesSchema = z
  .object(
    Object.fromEntries(BUILT_IN_RULES.map((r) => [ruleConfigKey(r.name), (r.params as unknown as z.ZodObject).prefault({})])) as unknown as Record<string, z.ZodType<CommonParams>>,
  )
  .strict()
  .prefault({});

export const AlertingConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** How often rules are evaluated. */
    evaluateSeconds: z.number().min(0.5).max(600).default(2),
    /**
     * Most hosts one timed evaluation reads (whole sites; a site larger than this alone).
     * Beyond it each tick evaluates the sites where a status or event came in since, then
     * the next sites in turn: the rules' work on the collector's loop stays short at a
     * province's 10,000 PCs (all of them in one go took 1–3 s, every 2 s), and every site is
     * evaluated once per round (`hosts / maxHostsPerEvaluation × evaluateSeconds`: 40 s at
     * 10,000 PCs). A slice is evaluated in chunks of whole sites, one per turn of the loop,
     * each sized to hold the loop ~20 ms (alert-service.ts `EVALUATION_TURN_MS`).
     * Up to this many PCs, every tick evaluates all of them, as before.
     */
    maxHostsPerEvaluation: z.number().int().min(1).max(1_000_000).default(500),
    /** Wait after a site's first new alert, to send its companions in the same message. */
    groupWaitSeconds: z.number().min(0).max(3600).default(5),
    /** At least this long between two messages for one site. */
    groupIntervalSeconds: z.number().min(0).max(86_400).default(300),
    /**
     * At least this long between a site's previous message and one telling only resolutions
     * (issue 13: the cause of a power/network cut follows its classification within ~30 s).
     */
    resolvedIntervalSeconds: z.number().min(0).max(86_400).default(10),
    /** Remind of a still-firing site group this often (a rule may override). */
    repeatMinutes: z
      .number()
      .min(1)
      .max(30 * 1440)
      .default(240),
    flapWindowMinutes: z.number().min(1).max(1440).default(60),
    /** State changes within the window that make an alert "flapping" (no messages until it calms). */
    flapThreshold: z.number().int().min(2).max(100).default(4),
    /** An alert no rule reported on for this long is resolved. */
    staleMinutes: z
      .number()
      .min(1)
      .max(7 * 1440)
      .default(60),
    /** Language of the messages. */
    lang: z.enum(['vi', 'en']).default('vi'),
    /** JSON file with `{ "<ruleKey>": { params } }` (e.g. `peakHourCongestion`), merged over `rules`. */
    rulesFile: z.string().min(1).optional(),
    rules: RulesSchema,
    /** One extra message when many sites drop together (province-wide power or network cut). */
    provinceDigest: ProvinceDigestConfigSchema,
    /** Planned maintenance: alerts matching are recorded but not notified. */
    maintenance: z.array(MaintenanceWindowSchema).max(1000).default([]),
    /**
     * Testing/demonstration only: shift the clock the working-hours schedule is read with,
     * ms (e.g. an end-to-end test at night simulating 09:00 on a Monday). 0 in production.
     */
    scheduleOffsetMs: z
      .number()
      .int()
      .min(-366 * 86_400_000)
      .max(366 * 86_400_000)
      .default(0),
  })
  .strict()
  .prefault({});
export type AlertingConfig = z.output<typeof AlertingConfigSchema>;

/**
 * Merge `rulesFile` into the section and validate again; problems as `alerting.rules…`
 * paths (or `alerting.rulesFile`). Throws {@link ConfigError}.
 */
export function resolveRulesFile(config: AlertingConfig, readFile: (f: string) => string = (f) => readFileSync(f, 'utf8')): AlertingConfig {
  if (!config.rulesFile) return config;
  const f = config.rulesFile;
  if (!existsSync(f)) throw new ConfigError([`alerting.rulesFile: file not found: ${f}`]);
  let extra: unknown;
  try {
    extra = JSON.parse(readFile(f));
  } catch (err) {
    throw new ConfigError([`alerting.rulesFile: ${f} is not valid JSON: ${(err as Error).message}`]);
  }
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw new ConfigError([`alerting.rulesFile: ${f} must contain a JSON object of rules`]);
  const r = RulesSchema.safeParse(deepMerge(config.rules as Record<string, unknown>, extra as Record<string, unknown>));
  const problems = [
    ...(r.success ? [] : formatIssues(r.error.issues.filter((i) => i.code !== 'unrecognized_keys'))),
    ...findUnknownKeys(RulesSchema, extra).map((u) => unknownKeyProblem(u)),
  ];
  if (!r.success && !problems.length) problems.push(...formatIssues(r.error.issues));
  if (problems.length || !r.success) throw new ConfigError(problems.map((l) => `${f}: ${l}`));
  return { ...config, rules: r.data };
}

/** Names of the built-in rules (for CLI/API validation). */
export const RULE_NAMES: readonly string[] = ruleNames;
