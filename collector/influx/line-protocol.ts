/**
 * InfluxDB line protocol for the measurements of {@link INFLUX_SCHEMA}: one function that
 * turns (measurement, tags, fields, time) into one line, typed against the schema so a
 * field the schema does not list cannot be written.
 *
 * Escaping follows the line-protocol reference
 * (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/#special-characters):
 * tag keys/values and field keys escape comma, equals sign and space (we use the client
 * library's `escape.tag` for those), and a backslash is written as `\\`. The client's
 * `Point` class does NOT escape backslashes, so a Windows mount `C:\` followed by the next
 * tag came out as `mount=C:\,site=…`, which InfluxDB and VictoriaMetrics both parse as an
 * escaped comma (the tag value swallows the rest: VictoriaMetrics stored mount="C:,site=a"
 * and lost the site tag). `\\` is read back as one backslash by both.
 * Newlines (never valid in a tag) are escaped by `escape.tag` as `\n`.
 */
import { escape } from '@influxdata/influxdb-client';
import { INFLUX_SCHEMA, type MeasurementName } from './schema.js';

type Schema = typeof INFLUX_SCHEMA;
/** Tag values of measurement `M`; empty or missing values are omitted (line protocol has no empty tags). */
export type TagsOf<M extends MeasurementName> = { [K in Schema[M]['tags'][number]]?: string | undefined };
/** Field values of measurement `M`; `null`/`undefined` and non-finite numbers are omitted. */
export type FieldsOf<M extends MeasurementName> = { [K in keyof Schema[M]['fields']]?: number | boolean | null | undefined };

/** Escapes a tag key, tag value or field key (see the file header for the backslash rule). */
export function escapeKey(value: string): string {
  return escape.tag(value.replace(/\\/g, '\\\\'));
}

/**
 * One line of line protocol, tags and fields sorted by key (the order InfluxDB stores
 * series keys in, and what makes the output deterministic), integers with the `i` suffix,
 * time in milliseconds (write with `precision=ms`). Returns `undefined` when no field is
 * left (a point without fields is invalid line protocol).
 */
export function formatLine<M extends MeasurementName>(measurement: M, tags: TagsOf<M>, fields: FieldsOf<M>, timeMs: number): string | undefined {
  const types = INFLUX_SCHEMA[measurement].fields as Readonly<Record<string, 'float' | 'integer' | 'boolean'>>;
  const fieldParts: string[] = [];
  for (const key of Object.keys(fields).sort()) {
    const value = (fields as Record<string, number | boolean | null | undefined>)[key];
    const type = types[key];
    if (value === null || value === undefined || type === undefined) continue;
    if (type === 'boolean') {
      fieldParts.push(`${escapeKey(key)}=${value ? 'true' : 'false'}`);
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    fieldParts.push(type === 'integer' ? `${escapeKey(key)}=${Math.trunc(value)}i` : `${escapeKey(key)}=${String(value)}`);
  }
  if (fieldParts.length === 0) return undefined;
  let tagPart = '';
  for (const key of Object.keys(tags).sort()) {
    const value = (tags as Record<string, string | undefined>)[key];
    if (value === undefined || value === '') continue;
    tagPart += `,${escapeKey(key)}=${escapeKey(value)}`;
  }
  return `${escape.measurement(measurement)}${tagPart} ${fieldParts.join(',')} ${Math.trunc(timeMs)}`;
}
