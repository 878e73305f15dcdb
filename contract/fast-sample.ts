import { CONTRACT_VERSION, MAX_DISKS, MAX_INTERFACES, MAX_PING_TARGETS, MAX_STRING, MAX_TIME_MS, MIN_TIME_MS } from './limits.js';
import type { SampleMessage } from './schemas.js';
import { ID_PATTERN } from './topics.js';
import { arrayOf, bootId, exact, int, nullable, num, obj, oneOf, optional, shape, str, type Check } from './shape-check.js';

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

const epochMs = int(MIN_TIME_MS, MAX_TIME_MS);
const bytes = int(0, Number.MAX_SAFE_INTEGER);
const count = bytes;
const pct = num(0, 100);
const nonNeg = num(0, 1e12);
const text = str(0, MAX_STRING);
const text1 = str(1, MAX_STRING);
const id: Check = (x) => typeof x === 'string' && ID_PATTERN.test(x);

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
  boot: bootId,
  seq: count,
  t: epochMs,
  sent: epochMs,
  interval: num(1, 86_400),
  metrics: obj(METRICS),
});
