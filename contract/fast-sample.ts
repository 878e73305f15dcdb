import { CONTRACT_VERSION, MAX_DISKS, MAX_INTERFACES, MAX_PING_TARGETS, MAX_STRING, MAX_TIME_MS, MIN_TIME_MS } from './limits.js';
import type { SampleMessage } from './schemas.js';
import { ID_PATTERN } from './topics.js';

/**
 * A hand-written check of the hot record shape, the sample (issue 12, group commit: zod
 * was ~10 % of the collector's CPU at load, plus the garbage of the copy it returns).
 *
 * It answers one question: is this parsed JSON object a sample that `SampleMessage`
 * (contract/schemas.ts) accepts, and would return unchanged? Only then the decoder takes
 * the object as it is; for anything else (an error, an unknown key zod would strip, a shape
 * this check does not know) the decoder runs zod as before, which accepts or gives its
 * clear error. So the check must never accept what zod refuses or changes; it may refuse
 * what zod accepts (that only costs the slow path). test/unit/contract/fast-sample.test.ts
 * compares both on a table of valid, invalid and hostile records.
 *
 * Keep it in step with SampleMessage: a field added there and not here sends every sample
 * that carries it down the zod path (correct, slower).
 */
export function isPlainSample(json: Record<string, unknown>): json is SampleMessage {
  return exact(json, SAMPLE);
}

type Check = (x: unknown) => boolean;
/** Keys of an object: each with its check, `true` when it may be absent. */
type Shape = Record<string, readonly [Check, boolean]>;

function shape(fields: Record<string, Check | readonly [Check, 'optional']>): Shape {
  const s: Shape = Object.create(null) as Shape;
  for (const [k, f] of Object.entries(fields)) s[k] = typeof f === 'function' ? [f, false] : [f[0], true];
  return s;
}

const requiredCount = new WeakMap<Shape, number>();

/** A plain object with only the shape's keys, each valid, every required one present. */
function exact(x: unknown, s: Shape): boolean {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || Object.getPrototypeOf(x) !== Object.prototype) return false;
  let required = requiredCount.get(s);
  if (required === undefined) requiredCount.set(s, (required = Object.values(s).filter(([, optional]) => !optional).length));
  let seen = 0;
  for (const k in x) {
    if (!Object.prototype.hasOwnProperty.call(x, k)) return false;
    const f = s[k];
    if (f === undefined) return false;
    const v = (x as Record<string, unknown>)[k];
    // An optional key that is there must hold a value (JSON never gives undefined).
    if (v === undefined || !f[0](v)) return false;
    if (!f[1]) seen++;
  }
  return seen === required;
}

const obj =
  (s: Shape): Check =>
  (x) =>
    exact(x, s);
const num =
  (min: number, max: number): Check =>
  (x) =>
    typeof x === 'number' && x >= min && x <= max;
const int =
  (min: number, max: number): Check =>
  (x) =>
    Number.isSafeInteger(x) && (x as number) >= min && (x as number) <= max;
const nullable =
  (c: Check): Check =>
  (x) =>
    x === null || c(x);
const str =
  (min: number, max: number): Check =>
  (x) =>
    typeof x === 'string' && x.length >= min && x.length <= max;
const oneOf =
  (...values: string[]): Check =>
  (x) =>
    typeof x === 'string' && values.includes(x);
const arrayOf =
  (c: Check, max: number): Check =>
  (x) => {
    if (!Array.isArray(x) || x.length > max) return false;
    for (let i = 0; i < x.length; i++) if (!c(x[i])) return false;
    return true;
  };
const optional = (c: Check) => [c, 'optional'] as const;

const epochMs = int(MIN_TIME_MS, MAX_TIME_MS);
const bytes = int(0, Number.MAX_SAFE_INTEGER);
const count = bytes;
const pct = num(0, 100);
const nonNeg = num(0, 1e12);
const text = str(0, MAX_STRING);
const text1 = str(1, MAX_STRING);
const id: Check = (x) => typeof x === 'string' && ID_PATTERN.test(x);
const BOOT = /^[A-Za-z0-9_-]+$/;
const boot: Check = (x) => typeof x === 'string' && x.length >= 8 && x.length <= 64 && BOOT.test(x);

const UNAVAILABLE = shape({ unavailable: text1 });
/** zod tries the metric's shape first, then `{ unavailable }`: whichever passes exactly is returned unchanged. */
const orUnavailable =
  (c: Check): Check =>
  (x) =>
    c(x) || exact(x, UNAVAILABLE);

const CPU = shape({ usage: pct, load1: nullable(nonNeg), load5: nullable(nonNeg), load15: nullable(nonNeg), cores: int(1, 4096) });
const MEM = shape({ total: bytes, used: bytes, available: bytes, swapTotal: bytes, swapUsed: bytes });
const DISK = shape({ mount: text1, fs: optional(text), total: bytes, used: bytes, free: bytes, usedPct: pct });
const NET = shape({ iface: text1, rxBps: nonNeg, txBps: nonNeg, rxErrors: count, txErrors: count, rxDropped: count, txDropped: count });
const UPTIME = shape({ seconds: nonNeg, bootTime: epochMs });
const PING = shape({
  target: text1,
  role: oneOf('gateway', 'configured'),
  sent: int(1, 1000),
  lossPct: pct,
  rttMedian: nullable(nonNeg),
  rttP95: nullable(nonNeg),
  rttMax: nullable(nonNeg),
});
const HTTP = shape({
  name: text1,
  url: text1,
  ok: (x) => typeof x === 'boolean',
  status: nullable(int(0, 999)),
  dnsMs: nullable(nonNeg),
  connectMs: nullable(nonNeg),
  tlsMs: nullable(nonNeg),
  firstByteMs: nullable(nonNeg),
  totalMs: nullable(nonNeg),
  error: optional(text),
});
const POWER = shape({ source: oneOf('ac', 'battery', 'unknown'), batteryPct: nullable(pct), minutesLeft: nullable(nonNeg) });
const DISKIO = shape({ disk: text1, busyPct: pct, queue: nonNeg });
const PRESSURE = shape({
  memSomePct: nullable(pct),
  memFullPct: nullable(pct),
  swapInPs: nullable(nonNeg),
  swapOutPs: nullable(nonNeg),
  hardFaultsPs: nullable(nonNeg),
});

const METRICS = shape({
  cpu: optional(orUnavailable(obj(CPU))),
  mem: optional(orUnavailable(obj(MEM))),
  disks: optional(orUnavailable(arrayOf(obj(DISK), MAX_DISKS))),
  net: optional(orUnavailable(arrayOf(obj(NET), MAX_INTERFACES))),
  uptime: optional(orUnavailable(obj(UPTIME))),
  ping: optional(orUnavailable(arrayOf(obj(PING), MAX_PING_TARGETS))),
  http: optional(orUnavailable(arrayOf(obj(HTTP), MAX_PING_TARGETS))),
  power: optional(orUnavailable(obj(POWER))),
  diskio: optional(orUnavailable(arrayOf(obj(DISKIO), MAX_DISKS))),
  pressure: optional(orUnavailable(obj(PRESSURE))),
});

const SAMPLE = shape({
  v: (x) => x === CONTRACT_VERSION,
  site: id,
  host: id,
  boot,
  seq: count,
  t: epochMs,
  sent: epochMs,
  interval: num(1, 86_400),
  metrics: obj(METRICS),
});
