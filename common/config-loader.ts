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

/** Optimal string alignment distance (Levenshtein with adjacent transpositions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key closest to `key`, when it is close enough to be a typo. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(key, k);
    if (dist < bestD) {
      best = k;
      bestD = dist;
    }
  }
  // A third of the key's length, at least 1 and at most 3 edits ("prot" → "port", "alertng" → "alerting").
  return best !== undefined && bestD <= Math.min(3, Math.max(1, Math.floor(key.length / 3))) ? best : undefined;
}

export interface UnknownKey {
  /** Path of the unknown key, e.g. `['http', 'prot']`. */
  path: Array<string | number>;
  /** The known keys at that level. */
  known: string[];
  /** The closest known key, when close enough to be a typo. */
  suggestion: string | undefined;
}

interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  catchall?: { _zod: { def: Def } };
  innerType?: { _zod: { def: Def } };
  in?: { _zod: { def: Def } };
  valueType?: { _zod: { def: Def } };
  element?: { _zod: { def: Def } };
  options?: Array<{ _zod: { def: Def } }>;
  left?: { _zod: { def: Def } };
  right?: { _zod: { def: Def } };
  getter?: () => { _zod: { def: Def } };
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch', 'success']);

/**
 * Keys of `value` that `schema` does not know, at every depth (objects, records, arrays,
 * unions: the option that fits best). Zod strips unknown keys silently; a typo such as
 * `http.prot` or `intervalSecond` would otherwise run with the default. Works on classic
 * zod and zod/mini alike (both are core schemas); an object with a catch-all (loose)
 * accepts any key.
 */
export function findUnknownKeys(schema: $ZodType, value: unknown, path: Array<string | number> = []): UnknownKey[] {
  return walk((schema as unknown as { _zod: { def: Def } })._zod.def, value, path, 0);
}

function walk(def: Def, value: unknown, path: Array<string | number>, depth: number): UnknownKey[] {
  if (depth > 64 || value === null || typeof value !== 'object') return [];
  while (WRAPPERS.has(def.type) && def.innerType) def = def.innerType._zod.def;
  switch (def.type) {
    case 'pipe':
      return def.in ? walk(def.in._zod.def, value, path, depth + 1) : [];
    case 'lazy':
      return def.getter ? walk(def.getter()._zod.def, value, path, depth + 1) : [];
    case 'object': {
      if (Array.isArray(value)) return [];
      const shape = def.shape ?? {};
      const known = Object.keys(shape);
      const loose = def.catchall !== undefined && def.catchall._zod.def.type !== 'never';
      const out: UnknownKey[] = [];
      for (const [k, v] of Object.entries(value)) {
        const child = Object.hasOwn(shape, k) ? shape[k] : undefined;
        if (child) out.push(...walk(child._zod.def, v, [...path, k], depth + 1));
        else if (loose && def.catchall) out.push(...walk(def.catchall._zod.def, v, [...path, k], depth + 1));
        else out.push({ path: [...path, k], known, suggestion: closestKey(k, known) });
      }
      return out;
    }
    case 'record':
      if (Array.isArray(value) || !def.valueType) return [];
      return Object.entries(value).flatMap(([k, v]) => walk(def.valueType!._zod.def, v, [...path, k], depth + 1));
    case 'array':
      if (!Array.isArray(value) || !def.element) return [];
      return value.flatMap((v, i) => walk(def.element!._zod.def, v, [...path, i], depth + 1));
    case 'intersection': {
      // A key is unknown only when neither side knows it.
      const l = def.left ? walk(def.left._zod.def, value, path, depth + 1) : [];
      const r = def.right ? walk(def.right._zod.def, value, path, depth + 1) : [];
      const key = (u: UnknownKey) => u.path.join('\u0000');
      const inRight = new Set(r.map(key));
      return l.filter((u) => inRight.has(key(u)));
    }
    case 'union': {
      // The option that fits best (a discriminated union's matching option has no stray key).
      let best: UnknownKey[] | undefined;
      for (const o of def.options ?? []) {
        const found = walk(o._zod.def, value, path, depth + 1);
        if (!best || found.length < best.length) best = found;
        if (!found.length) break;
      }
      return best ?? [];
    }
    default:
      return [];
  }
}

/** Format zod issues as `path: message` lines. */
export function formatIssues(issues: readonly $ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

/** `CANH_COLLECTOR__HTTP__PORT` for `['http', 'port']`. */
export function envName(prefix: string, path: ReadonlyArray<string | number>): string {
  return [
    prefix,
    ...path.map((p) =>
      String(p)
        .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
        .toUpperCase(),
    ),
  ].join('__');
}

/**
 * `http.prot: unknown key — did you mean http.port?`; from the environment it names the
 * variable: `CANH_COLLECTOR__HTTP__PROT (http.prot): unknown key — did you mean
 * CANH_COLLECTOR__HTTP__PORT (http.port)?`
 */
export function unknownKeyProblem(u: UnknownKey, envPrefix?: string, envNames?: ReadonlyMap<string, string>): string {
  const dotted = u.path.join('.');
  const var_ = envNames?.get(dotted) ?? [...(envNames ?? new Map<string, string>()).entries()].find(([p]) => p.startsWith(`${dotted}.`))?.[1];
  const near = u.suggestion !== undefined ? [...u.path.slice(0, -1), u.suggestion] : undefined;
  if (var_ !== undefined && envPrefix) {
    const hint = near ? ` — did you mean ${envName(envPrefix, near)} (${near.join('.')})?` : knownList(u);
    return `${var_} (${dotted}): unknown key${hint}`;
  }
  return `${dotted}: unknown key${near ? ` — did you mean ${near.join('.')}?` : knownList(u)}`;
}

function knownList(u: UnknownKey): string {
  if (!u.known.length) return '';
  return u.known.length <= 16 ? ` (known keys: ${u.known.join(', ')})` : '';
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
  /** Env variable by the config path it sets, to name it in an unknown-key problem. */
  const envNames = new Map<string, string>();
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
    envNames.set(path.join('.'), key);
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
  // Unknown keys are reported once, with the closest known key, by findUnknownKeys (a
  // `.strict()` section would also give zod's own `unrecognized_keys` issue).
  if (!result.success) problems.push(...formatIssues(result.error.issues.filter((i) => i.code !== 'unrecognized_keys')));
  for (const u of findUnknownKeys(schema, merged)) problems.push(unknownKeyProblem(u, opts.envPrefix, envNames));
  if (!result.success && !problems.length) problems.push(...formatIssues(result.error.issues));
  if (problems.length) throw new ConfigError(problems);
  return (result as { data: output<S> }).data;
}
