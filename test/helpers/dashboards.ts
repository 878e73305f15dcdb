/**
 * Reading the Grafana dashboards under dashboards/ and extracting every (measurement,
 * field) their queries name, so tests can check them against INFLUX_SCHEMA.
 *
 * The dashboards keep one regular query style (see dashboards/generate.mjs) so that the
 * extraction is exact rather than heuristic:
 *   Flux:   every `from(...)` pipeline names one measurement, `r._measurement == "m"`,
 *           and its fields as `r._field == "f"` or `contains(value: r._field, set: [...])`;
 *   PromQL: metric names `<measurement>_<field>` always followed by `{`, plus the first
 *           argument of `label_values(...)`; the measurement is the schema's longest
 *           measurement that prefixes the name.
 * Anything that does not fit (a field without a measurement, a metric with no known
 * measurement prefix) is reported as a problem, never silently skipped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INFLUX_SCHEMA, hasField } from '../../collector/influx/schema.js';

export const DASHBOARDS_DIR = fileURLToPath(new URL('../../dashboards/', import.meta.url));

export type QueryLanguage = 'flux' | 'promql';

/** One place a dashboard names a measurement (field undefined: a measurement-only reference). */
export interface SchemaRef {
  measurement: string;
  field?: string;
  /** Where: "panel 3 «CPU theo máy (%)» target A" or "variable site". */
  where: string;
}

export interface ExtractedQuery {
  language: QueryLanguage;
  text: string;
  where: string;
  refs: SchemaRef[];
  /** Structural problems of the query text itself (unparseable for the checker). */
  problems: string[];
}

/* Minimal dashboard shape, checked by validateShape(). */
export interface DashboardTarget {
  refId?: string;
  datasource?: { type?: string; uid?: string } | string | null;
  query?: unknown;
  expr?: unknown;
  [k: string]: unknown;
}
export interface DashboardPanel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string } | string | null;
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
  [k: string]: unknown;
}
export interface Dashboard {
  uid?: string;
  title?: string;
  panels?: DashboardPanel[];
  templating?: { list?: Array<Record<string, unknown>> };
  annotations?: { list?: Array<Record<string, unknown>> };
  [k: string]: unknown;
}

export interface DashboardFile {
  /** Path relative to dashboards/, e.g. "influx/diem.json". */
  file: string;
  dashboard: Dashboard;
}

/** Every *.json under dashboards/ (recursively), parsed. Throws with the file name on bad JSON. */
export function loadDashboards(dir = DASHBOARDS_DIR): DashboardFile[] {
  const out: DashboardFile[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.json')) {
        const text = readFileSync(p, 'utf8');
        let dashboard: Dashboard;
        try {
          dashboard = JSON.parse(text) as Dashboard;
        } catch (err) {
          throw new Error(`${relative(dir, p)}: invalid JSON: ${(err as Error).message}`, { cause: err });
        }
        out.push({ file: relative(dir, p), dashboard });
      }
    }
  };
  walk(dir);
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** All panels, including those nested in collapsed rows. */
export function allPanels(d: Dashboard): DashboardPanel[] {
  const out: DashboardPanel[] = [];
  const walk = (ps: DashboardPanel[] | undefined): void => {
    for (const p of ps ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(d.panels);
  return out;
}

const dsOf = (x: unknown): { type?: string; uid?: string } | undefined => {
  if (x && typeof x === 'object') return x as { type?: string; uid?: string };
  return undefined;
};

/** The query language of a target: from its datasource type, else from its keys. */
function languageOf(target: DashboardTarget, panel?: DashboardPanel): QueryLanguage | undefined {
  const ds = dsOf(target.datasource) ?? dsOf(panel?.datasource);
  if (ds?.type === 'influxdb' || ds?.uid === 'canh-influx') return 'flux';
  if (ds?.type === 'prometheus' || ds?.uid === 'canh-vm') return 'promql';
  if (typeof target.query === 'string') return 'flux';
  if (typeof target.expr === 'string') return 'promql';
  return undefined;
}

const panelWhere = (p: DashboardPanel): string => `panel ${p.id ?? '?'} «${p.title ?? ''}»`;

/** Every query of a dashboard: panel targets and query variables. */
export function dashboardQueries(d: Dashboard): ExtractedQuery[] {
  const out: ExtractedQuery[] = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) {
      const lang = languageOf(t, p);
      const where = `${panelWhere(p)} target ${t.refId ?? '?'}`;
      if (lang === 'flux' && typeof t.query === 'string') out.push(extractFlux(t.query, where));
      else if (lang === 'promql' && typeof t.expr === 'string') out.push(extractPromql(t.expr, where));
      else out.push({ language: lang ?? 'flux', text: '', where, refs: [], problems: ['target has no recognisable query (flux `query` or promql `expr`)'] });
    }
  }
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const where = `variable ${String(v.name)}`;
    const ds = dsOf(v.datasource);
    const q = v.query;
    const text = typeof q === 'string' ? q : q && typeof q === 'object' ? String((q as { query?: unknown }).query ?? '') : '';
    if (ds?.type === 'prometheus' || ds?.uid === 'canh-vm') out.push(extractPromql(text, where));
    else out.push(extractFlux(text, where));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Flux
// ---------------------------------------------------------------------------------------

const FLUX_MEASUREMENT = /\b_measurement\s*==\s*"([^"]*)"/g;
const FLUX_FIELD = /\b_field\s*==\s*"([^"]*)"/g;
const FLUX_FIELD_SET = /contains\(\s*value\s*:\s*r\._field\s*,\s*set\s*:\s*\[([^\]]*)\]\s*\)/g;
const FLUX_SOURCE = /\bfrom\s*\(\s*bucket\s*:|schema\.(?:tagValues|measurementTagValues|fieldKeys|tagKeys)\s*\(/g;

/**
 * Splits a Flux script at each data source (`from(bucket: …)`, `schema.tagValues(…)`):
 * within one segment, every field belongs to the segment's single measurement.
 */
export function extractFlux(text: string, where = ''): ExtractedQuery {
  const refs: SchemaRef[] = [];
  const problems: string[] = [];
  const starts = [...text.matchAll(FLUX_SOURCE)].map((m) => m.index ?? 0);
  if (starts.length === 0) problems.push('no from(bucket: …) or schema.* source');
  const prelude = text.slice(0, starts[0] ?? text.length);
  if (FLUX_MEASUREMENT.test(prelude) || /\b_field\b/.test(prelude)) problems.push('_measurement/_field used before the first data source');
  FLUX_MEASUREMENT.lastIndex = 0;
  for (const [i, start] of starts.entries()) {
    const seg = text.slice(start, starts[i + 1] ?? text.length);
    const measurements = [...new Set([...seg.matchAll(FLUX_MEASUREMENT)].map((m) => m[1] ?? ''))];
    const fields = [
      ...[...seg.matchAll(FLUX_FIELD)].map((m) => m[1] ?? ''),
      ...[...seg.matchAll(FLUX_FIELD_SET)].flatMap((m) => [...(m[1] ?? '').matchAll(/"([^"]*)"/g)].map((x) => x[1] ?? '')),
    ];
    if (measurements.length !== 1) {
      problems.push(`data source #${i + 1} names ${measurements.length} measurements (${measurements.join(', ') || 'none'}); exactly one is required`);
      continue;
    }
    const measurement = measurements[0] ?? '';
    if (fields.length === 0) refs.push({ measurement, where });
    for (const field of new Set(fields)) refs.push({ measurement, field, where });
  }
  // A `_field` comparison with a variable or another operator would escape the check.
  for (const m of text.matchAll(/\b_field\s*(!=|=~|!~)/g)) problems.push(`unsupported _field comparison "${m[0]}"`);
  for (const m of text.matchAll(/\b_measurement\s*(!=|=~|!~)/g)) problems.push(`unsupported _measurement comparison "${m[0]}"`);
  return { language: 'flux', text, where, refs, problems };
}

// ---------------------------------------------------------------------------------------
// PromQL
// ---------------------------------------------------------------------------------------

/** Schema measurements, longest first, for prefix splitting (host_status before host…). */
const MEASUREMENTS_LONGEST_FIRST = Object.keys(INFLUX_SCHEMA).sort((a, b) => b.length - a.length);

/** `<measurement>_<field>` → its parts by the longest schema measurement prefix, else undefined. */
export function splitMetricName(name: string): { measurement: string; field: string } | undefined {
  for (const m of MEASUREMENTS_LONGEST_FIRST) {
    if (name.startsWith(`${m}_`) && name.length > m.length + 1) return { measurement: m, field: name.slice(m.length + 1) };
  }
  return undefined;
}

const PROM_METRIC = /(?<![A-Za-z0-9_:$.])([A-Za-z_:][A-Za-z0-9_:]*)\s*\{/g;
const PROM_LABEL_VALUES = /\blabel_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*[,)]/g;

export function extractPromql(text: string, where = ''): ExtractedQuery {
  const refs: SchemaRef[] = [];
  const problems: string[] = [];
  // Legend-style templates and string literals are not metric names.
  const code = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = [...code.matchAll(PROM_METRIC), ...code.matchAll(PROM_LABEL_VALUES)].map((m) => m[1] ?? '');
  for (const name of names) {
    const split = splitMetricName(name);
    if (!split) problems.push(`metric "${name}" does not start with a schema measurement`);
    else refs.push({ ...split, where });
  }
  // `{__name__=…}` selectors would escape the check.
  if (/__name__/.test(code)) problems.push('__name__ selectors are not allowed (metric names must be literal)');
  return { language: 'promql', text, where, refs, problems };
}

// ---------------------------------------------------------------------------------------
// The schema check
// ---------------------------------------------------------------------------------------

/** Every schema problem of a dashboard: unknown measurement/field, unextractable query. */
export function checkDashboardSchema(d: Dashboard): string[] {
  const problems: string[] = [];
  for (const q of dashboardQueries(d)) {
    for (const p of q.problems) problems.push(`${q.where}: ${p}`);
    for (const r of q.refs) {
      if (!Object.prototype.hasOwnProperty.call(INFLUX_SCHEMA, r.measurement)) problems.push(`${r.where}: unknown measurement "${r.measurement}"`);
      else if (r.field !== undefined && !hasField(r.measurement, r.field)) problems.push(`${r.where}: unknown field "${r.field}" of measurement "${r.measurement}"`);
    }
  }
  return problems;
}

/** The distinct (measurement, field) pairs a dashboard's queries use. */
export function schemaPairs(d: Dashboard): Array<{ measurement: string; field: string }> {
  const seen = new Map<string, { measurement: string; field: string }>();
  for (const q of dashboardQueries(d)) for (const r of q.refs) if (r.field !== undefined) seen.set(`${r.measurement}.${r.field}`, { measurement: r.measurement, field: r.field });
  return [...seen.values()].sort((a, b) => `${a.measurement}.${a.field}`.localeCompare(`${b.measurement}.${b.field}`));
}

// ---------------------------------------------------------------------------------------
// Shape, datasources, titles
// ---------------------------------------------------------------------------------------

export const ALLOWED_DATASOURCE_UIDS = new Set(['canh-influx', 'canh-vm']);

/** Minimal Grafana shape: uid, title, panels[] with id, type, title, gridPos and targets[]. */
export function validateShape(d: Dashboard): string[] {
  const problems: string[] = [];
  if (typeof d.uid !== 'string' || !/^[a-z0-9-]{1,40}$/.test(d.uid)) problems.push(`uid ${JSON.stringify(d.uid)} must be [a-z0-9-], ≤ 40 chars`);
  if (typeof d.title !== 'string' || d.title.trim() === '') problems.push('title missing');
  if (typeof d.schemaVersion !== 'number' || d.schemaVersion < 36) problems.push(`schemaVersion ${String(d.schemaVersion)} < 36 (Grafana 10+)`);
  if (!Array.isArray(d.panels) || d.panels.length === 0) problems.push('panels[] missing or empty');
  for (const p of allPanels(d)) {
    const w = panelWhere(p);
    if (typeof p.id !== 'number') problems.push(`${w}: id missing`);
    if (typeof p.type !== 'string' || !p.type) problems.push(`${w}: type missing`);
    if (typeof p.title !== 'string' || !p.title.trim()) problems.push(`${w}: title missing`);
    const g = p.gridPos;
    if (!g || ![g.x, g.y, g.w, g.h].every((n) => Number.isInteger(n) && n >= 0) || g.w < 1 || g.h < 1 || g.x + g.w > 24)
      problems.push(`${w}: gridPos must be integers {x,y,w,h} within 24 columns`);
    if (p.type === 'row') continue;
    if (!Array.isArray(p.targets) || p.targets.length === 0) problems.push(`${w}: targets[] missing or empty`);
    const refIds = (p.targets ?? []).map((t) => t.refId);
    if (new Set(refIds).size !== refIds.length || refIds.some((r) => typeof r !== 'string')) problems.push(`${w}: refIds must be present and unique`);
  }
  if (!Array.isArray(d.templating?.list)) problems.push('templating.list missing');
  return problems;
}

/**
 * Every datasource reference (panels, targets, variables, annotations). Allowed: the two
 * provisioned uids, a template variable (`${ds}` / `$ds`), and, for annotations only,
 * Grafana's built-in datasource (time regions, dashboard annotations).
 */
export function checkDatasources(d: Dashboard): string[] {
  const problems: string[] = [];
  const check = (ds: unknown, where: string, builtinOk: boolean): void => {
    if (ds === undefined || ds === null) return; // inherits the panel's / default
    const uid = typeof ds === 'string' ? ds : dsOf(ds)?.uid;
    if (typeof uid !== 'string') return (problems.push(`${where}: datasource without uid`), undefined);
    if (ALLOWED_DATASOURCE_UIDS.has(uid) || /^\$\{?\w+\}?$/.test(uid)) return;
    if (builtinOk && (uid === 'grafana' || uid === '-- Grafana --')) return;
    problems.push(`${where}: datasource "${uid}" is not canh-influx, canh-vm or a variable`);
  };
  for (const p of allPanels(d)) {
    check(p.datasource, panelWhere(p), false);
    for (const t of p.targets ?? []) check(t.datasource, `${panelWhere(p)} target ${t.refId ?? '?'}`, false);
  }
  for (const v of d.templating?.list ?? []) check(v.datasource, `variable ${String(v.name)}`, false);
  for (const a of d.annotations?.list ?? []) check(a.datasource, `annotation ${String(a.name)}`, true);
  return problems;
}

/** Vietnamese letters with diacritics (and đ), lower and upper case. */
const VIETNAMESE_DIACRITIC = /[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]/iu;
/** Technical words a panel title may consist of without being "not Vietnamese". */
export const TITLE_ALLOW_LIST = new Set(['CPU', 'RAM', 'Ping', 'Uptime', 'IP', 'LAN', 'WAN', 'Swap']);

export function isVietnameseTitle(title: string): boolean {
  if (VIETNAMESE_DIACRITIC.test(title.normalize('NFC'))) return true;
  const words = title.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  return words.length > 0 && words.every((w) => TITLE_ALLOW_LIST.has(w) || /^\d+$/.test(w));
}
