// zod/mini, as in the agent's own schema (agent/config.ts): this module is in the agent bundle,
// which must stay small; the collector validates remote parts with the very same validators.
import * as z from 'zod/mini';
// Only the English messages: `z.locales` would bundle all ~40 languages.
import en from 'zod/v4/locales/en.js';
import { MAX_PING_TARGETS } from './limits.js';

z.config(en());

/**
 * The part of an agent's settings an admin may set from the collector (issue 16), shared by
 * both sides of the collector → agent contract (contract/agent-config.ts carries it): the
 * collector checks a part with {@link remoteConfigProblem} before storing it, the agent lays
 * it over its local file (agent/config.ts `mergeRemoteConfig`), whose schema builds the same
 * keys from the validators below: one definition for both.
 */

export const num = (min: number, max: number) => z.number().check(z.gte(min), z.lte(max));
export const int = (min: number, max: number) => z.int().check(z.gte(min), z.lte(max));

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export const intervalSeconds = num(1, 3600);
export const pingTargets = z.array(z.string().check(z.minLength(1), z.maxLength(253), z.regex(/^[A-Za-z0-9.:_-]+$/, 'must be a hostname or IP'))).check(z.maxLength(30));
export const pingCount = int(1, 20);
export const pingTimeout = int(1, 10);
export const httpProbes = z
  .array(
    z.object({
      /** Short name (the `probe` tag in InfluxDB), e.g. `dichvucong`. */
      name: z.string().check(z.regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be a lowercase name [a-z0-9_.-], 1-63 chars')),
      url: z.string().check(z.maxLength(2048), z.regex(/^https?:\/\/[^\s/]+/i, 'must be an http:// or https:// URL')),
      /** GET by default: some portals answer HEAD with 405; the body is read only up to maxBodyBytes. */
      method: z._default(z.enum(['GET', 'HEAD']), 'GET'),
      timeoutSeconds: z._default(num(1, 60), 10),
      /** Only this status is ok; by default any status below 400 (a redirect is the portal answering). */
      expectStatus: z.optional(int(100, 599)),
    }),
  )
  .check(z.maxLength(MAX_PING_TARGETS));
export const httpInterval = num(1, 3600);
export const freezeThreshold = num(1, 3600);
export const freezeTop = int(0, 10);
export const inventoryHours = num(1, 24 * 30);

// A type, not an interface: zod's issue type wants an index signature.
export type ConfigIssue = {
  code: 'custom';
  path: PropertyKey[];
  message: string;
  input: unknown;
};

/** What the probe list's items cannot say alone: a URL that does not parse, a name used twice. */
export function probeIssues(probes: ReadonlyArray<{ name: string; url: string }>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Set<string>();
  probes.forEach((p, i) => {
    if (!URL.canParse(p.url)) issues.push({ code: 'custom', path: ['http', 'probes', i, 'url'], message: 'is not a valid URL', input: p.url });
    if (names.has(p.name)) issues.push({ code: 'custom', path: ['http', 'probes', i, 'name'], message: `duplicate probe name "${p.name}"`, input: p.name });
    names.add(p.name);
  });
  return issues;
}

/**
 * What makes sense for a whole site or a PC and can never cut the agent off. Never the MQTT
 * address or credentials, the state folder, the site/host ids or the self-update settings:
 * those stay in the local file, which is the floor the remote part is laid over. Unknown
 * keys are refused.
 */
export const RemoteConfigSchema = z
  .strictObject({
    intervalSeconds: z.optional(intervalSeconds),
    ping: z.optional(
      z.strictObject({
        enabled: z.optional(z.boolean()),
        gateway: z.optional(z.boolean()),
        targets: z.optional(pingTargets),
        count: z.optional(pingCount),
        timeoutSeconds: z.optional(pingTimeout),
      }),
    ),
    http: z.optional(
      z.strictObject({
        enabled: z.optional(z.boolean()),
        probes: z.optional(httpProbes),
        intervalSeconds: z.optional(httpInterval),
      }),
    ),
    freeze: z.optional(z.strictObject({ thresholdSeconds: z.optional(freezeThreshold), topProcesses: z.optional(freezeTop) })),
    inventory: z.optional(z.strictObject({ intervalHours: z.optional(inventoryHours) })),
    log: z.optional(z.strictObject({ level: z.optional(logLevel) })),
  })
  // Remote probes replace the file's list whole (arrays are not merged), so the list checks
  // of the merged configuration are these.
  .check(z.superRefine((c, ctx) => void ctx.issues.push(...probeIssues(c.http?.probes ?? []))));
export type RemoteConfig = z.output<typeof RemoteConfigSchema>;

/** Keys the agent applies while running (sampler and sources rebuilt); any other change restarts it. */
export const LIVE_REMOTE_KEYS: readonly string[] = ['intervalSeconds', 'ping', 'http'];

/** A refusal reason of at most 5 issues and 500 characters, each as `path: message`. */
export function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(config)'}: ${i.message}`)
    .join('; ')
    .slice(0, 500);
}

/** Validate a remote part on its own (the collector, before storing it): undefined when valid, else the reason. */
export function remoteConfigProblem(part: unknown): string | undefined {
  const r = RemoteConfigSchema.safeParse(part);
  return r.success ? undefined : describeIssues(r.error.issues);
}
