import { readFileSync, existsSync } from 'node:fs';
import { safeParse, type $ZodIssue, type $ZodType, type output } from 'zod/v4/core';

/**
 * Config loading shared by every program (house style §5, after Zigbee2MQTT settings.ts):
 * a JSON file, then environment overrides under one prefix, validated by one zod schema.
 * All problems are reported at once as `path: message` lines.
 *
 * Env overrides: `<PREFIX>__A__B_C=value` sets `a.bC` (double underscore = one level,
 * single underscore = camelCase boundary). Values are parsed as JSON when they parse
 * (numbers, booleans, arrays), otherwise taken as strings.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  file?: string | undefined;
  /** e.g. `CANH_AGENT` */
  envPrefix: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last (command-line flags). */
  overrides?: Record<string, unknown>;
}

function envKeyToPath(rest: string): string[] {
  return rest
    .split('__')
    .filter((s) => s.length > 0)
    .map((seg) => seg.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()));
}

function parseEnvValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let cur: Record<string, unknown> = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return;
    const next = cur[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      cur[key] = {};
    }
    cur = cur[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (last === '__proto__' || last === 'constructor' || last === 'prototype') return;
  cur[last] = value;
}

export function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    const prev = out[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)) {
      out[k] = deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>);
    } else if (v !== undefined) {
      out[k] = v;
    }
  }
  return out;
}

/** Format zod issues as `path: message` lines. */
export function formatIssues(issues: readonly $ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

/**
 * Works with classic `zod` and `zod/mini` schemas alike (both are core schemas): the
 * agent uses zod/mini to stay small on old PCs.
 */
export function loadConfig<S extends $ZodType>(schema: S, opts: LoadConfigOptions): output<S> {
  const problems: string[] = [];
  let fromFile: Record<string, unknown> = {};
  if (opts.file) {
    if (!existsSync(opts.file)) {
      problems.push(`(file): config file not found: ${opts.file}`);
    } else {
      try {
        const parsed: unknown = JSON.parse(readFileSync(opts.file, 'utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          problems.push(`(file): ${opts.file} must contain a JSON object`);
        } else {
          fromFile = parsed as Record<string, unknown>;
        }
      } catch (err) {
        problems.push(`(file): ${opts.file} is not valid JSON: ${(err as Error).message}`);
      }
    }
  }
  const fromEnv: Record<string, unknown> = {};
  const env = opts.env ?? process.env;
  const prefix = `${opts.envPrefix}__`;
  // Env values that parsed as JSON to a non-string, with their raw text: if the schema
  // wants a string there (a site named "2024", an all-digit password), the raw text is used.
  const reparsed: Array<{ path: string[]; raw: string }> = [];
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith(prefix) || raw === undefined) continue;
    const path = envKeyToPath(key.slice(prefix.length));
    if (!path.length) continue;
    const value = parseEnvValue(raw);
    setPath(fromEnv, path, value);
    if (typeof value !== 'string') reparsed.push({ path, raw });
  }
  const merged = deepMerge(deepMerge(fromFile, fromEnv), opts.overrides ?? {});
  let result = safeParse(schema, merged);
  if (!result.success && reparsed.length) {
    const failing = new Set(result.error.issues.map((i) => i.path.join('.')));
    const retry = reparsed.filter((r) => failing.has(r.path.join('.')));
    if (retry.length) {
      for (const r of retry) setPath(fromEnv, r.path, r.raw);
      const second = safeParse(schema, deepMerge(deepMerge(fromFile, fromEnv), opts.overrides ?? {}));
      // Keep whichever reading has fewer problems (the raw text helps only string fields).
      if (second.success || second.error.issues.length < result.error.issues.length) {
        result = second;
      }
    }
  }
  if (!result.success) problems.push(...formatIssues(result.error.issues));
  if (problems.length) throw new ConfigError(problems);
  return (result as { data: output<S> }).data;
}
