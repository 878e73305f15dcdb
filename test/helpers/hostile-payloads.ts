/**
 * Deterministic generator of hostile MQTT payloads for the collector's ingest path.
 *
 * Every payload carries the rejection reason it MUST get, decided here from the category
 * alone (not by running the product's decoder), so a test can both cross-check the
 * decoder and hold the running collector's counters to an independent expectation.
 */
import type { RejectReason } from '../../contract/decode.js';
import { MAX_INVENTORY_BYTES, MAX_PACKET_BYTES, MAX_PAYLOAD_BYTES, MAX_SAMPLE_AGE_MS, MAX_TIME_MS, MIN_TIME_MS } from '../../contract/limits.js';
import { topicFor, type MessageKind } from '../../contract/topics.js';

export const KINDS: readonly MessageKind[] = ['samples', 'events', 'inventory', 'status'];

/**
 * - `main`: published on the long-lived connection with QoS 1; must be PUBACKed and
 *   counted under `expected`.
 * - `oversize`: a 1 MB+ body on a disposable connection; the packet guard must cut it.
 * - `foreign`: a topic the credential may not publish on, on a disposable connection;
 *   the broker must cut it and count `identity_mismatch`.
 */
export type Transport = 'main' | 'oversize' | 'foreign';

export interface Hostile {
  category: string;
  /** Short human label (which field / variant), for failure messages. */
  label: string;
  kind: MessageKind;
  topic: string;
  payload: Buffer;
  transport: Transport;
  /** The rejection reason it must be counted under (`null` for oversize: no ingest). */
  expected: RejectReason | null;
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], rnd: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** A valid message of each kind (the same shapes as test/fixtures/contract). */
export function validMessage(kind: MessageKind, site: string, host: string, seq: number, t: number, sent: number, boot = 'hostileBoot01'): Obj {
  const env: Obj = { v: 1, site, host, boot, seq, t, sent };
  switch (kind) {
    case 'samples':
      return {
        ...env,
        interval: 15,
        metrics: {
          cpu: { usage: 37.5, load1: 0.8, load5: 0.6, load15: 0.4, cores: 4 },
          mem: { total: 4126703616, used: 3010560000, available: 1116143616, swapTotal: 2147479552, swapUsed: 524288000 },
          disks: [{ mount: 'C:', fs: 'NTFS', total: 255953203200, used: 240000000000, free: 15953203200, usedPct: 93.77 }],
          net: [{ iface: 'Ethernet', rxBps: 125000.5, txBps: 20000, rxErrors: 0, txErrors: 0, rxDropped: 12, txDropped: 0 }],
          uptime: { seconds: 86400, bootTime: t - 86_400_000 },
          ping: [
            { target: '192.168.1.1', role: 'gateway', sent: 4, lossPct: 0, rttMedian: 1.2, rttP95: 3.4, rttMax: 3.4 },
            { target: 'dichvucong.gov.vn', role: 'configured', sent: 4, lossPct: 100, rttMedian: null, rttP95: null, rttMax: null },
          ],
        },
      };
    case 'events':
      return {
        ...env,
        type: 'source_unavailable',
        severity: 'warning',
        message: 'ping unavailable: ping binary not found',
        start: t - 60_000,
        end: t,
        details: { source: 'ping', attempts: 3, ok: false, note: null },
      };
    case 'inventory':
      return {
        ...env,
        hostname: 'PC-MOT-CUA-01',
        cpu: { manufacturer: 'Intel', brand: 'Core i3-4160', cores: 4, physicalCores: 2, speedGHz: 3.6 },
        memTotal: 4126703616,
        disks: [{ device: '\\\\.\\PHYSICALDRIVE0', name: 'ST500DM002-1BD142', type: 'HDD', size: 500107862016 }],
        os: { platform: 'Windows', distro: 'Microsoft Windows 10 Pro', release: '10.0.19045', arch: 'x64', kernel: '10.0.19045' },
        agentVersion: '0.1.0',
      };
    case 'status':
      return { ...env, state: 'online', hostname: 'PC-MOT-CUA-01', agentVersion: '0.1.0', osBoot: t - 86_400_000, keepalive: 10 };
  }
}

function clone(o: Obj): Obj {
  return JSON.parse(JSON.stringify(o)) as Obj;
}

function setPath(o: Obj, path: string, value: Json): Obj {
  const c = clone(o);
  const parts = path.split('.');
  let cur: Json = c;
  for (const p of parts.slice(0, -1)) cur = (cur as Record<string, Json>)[p]!;
  (cur as Record<string, Json>)[parts.at(-1)!] = value;
  return c;
}

function deletePath(o: Obj, path: string): Obj {
  const c = clone(o);
  const parts = path.split('.');
  let cur: Json = c;
  for (const p of parts.slice(0, -1)) cur = (cur as Record<string, Json>)[p]!;
  delete (cur as Record<string, Json>)[parts.at(-1)!];
  return c;
}

const RAW = '"__RAW_TOKEN__"';
/** JSON text of `o` with `path` set to the raw token text (NaN, 1e400, a deep nest…). */
function withRaw(o: Obj, path: string, raw: string): string {
  const text = JSON.stringify(setPath(o, path, '__RAW_TOKEN__'));
  if (!text.includes(RAW)) throw new Error(`no raw slot at ${path}`);
  return text.replace(RAW, () => raw);
}

/** Field types of the contract, to pick values that are surely of the wrong type. */
type Tag = 'num' | 'numNullable' | 'str' | 'enum' | 'obj' | 'arr' | 'record';

const ENVELOPE_FIELDS: Array<[string, Tag]> = [
  ['site', 'str'],
  ['host', 'str'],
  ['boot', 'str'],
  ['seq', 'num'],
  ['t', 'num'],
  ['sent', 'num'],
];

const KIND_FIELDS: Record<MessageKind, Array<[string, Tag]>> = {
  samples: [
    ['interval', 'num'],
    ['metrics', 'obj'],
    ['metrics.cpu', 'obj'],
    ['metrics.cpu.usage', 'num'],
    ['metrics.cpu.load1', 'numNullable'],
    ['metrics.cpu.cores', 'num'],
    ['metrics.mem', 'obj'],
    ['metrics.mem.total', 'num'],
    ['metrics.mem.swapUsed', 'num'],
    ['metrics.disks', 'arr'],
    ['metrics.disks.0.mount', 'str'],
    ['metrics.disks.0.fs', 'str'],
    ['metrics.disks.0.usedPct', 'num'],
    ['metrics.net', 'arr'],
    ['metrics.net.0.iface', 'str'],
    ['metrics.net.0.rxBps', 'num'],
    ['metrics.net.0.rxErrors', 'num'],
    ['metrics.uptime', 'obj'],
    ['metrics.uptime.bootTime', 'num'],
    ['metrics.ping', 'arr'],
    ['metrics.ping.0.role', 'enum'],
    ['metrics.ping.0.sent', 'num'],
    ['metrics.ping.1.rttMedian', 'numNullable'],
  ],
  events: [
    ['type', 'enum'],
    ['severity', 'enum'],
    ['message', 'str'],
    ['start', 'num'],
    ['end', 'num'],
    ['details', 'record'],
  ],
  inventory: [
    ['hostname', 'str'],
    ['cpu', 'obj'],
    ['cpu.brand', 'str'],
    ['cpu.cores', 'num'],
    ['cpu.speedGHz', 'num'],
    ['memTotal', 'num'],
    ['disks', 'arr'],
    ['disks.0.type', 'enum'],
    ['disks.0.size', 'num'],
    ['os', 'obj'],
    ['os.kernel', 'str'],
    ['agentVersion', 'str'],
  ],
  status: [
    ['state', 'enum'],
    ['hostname', 'str'],
    ['agentVersion', 'str'],
    ['osBoot', 'num'],
    ['keepalive', 'num'],
  ],
};

const WRONG: Record<Tag, Json[]> = {
  num: ['12', '', true, null, [], [1], {}, { n: 1 }],
  numNullable: ['12', true, false, [], [0], {}],
  str: [123, 0, true, null, [], ['a'], {}, { s: 'a' }],
  enum: ['bogus', '', 'ONLINE', 1, true, null, ['online'], {}],
  obj: ['x', 1, true, null, [], [{}]],
  arr: ['x', 1, true, null, {}, { '0': {} }],
  record: ['x', 1, true, null, [], [{ a: 1 }]],
};

/** Required fields whose removal must be a schema error. */
const REQUIRED: Record<MessageKind, string[]> = {
  samples: ['interval', 'metrics', 'metrics.cpu.usage', 'metrics.cpu.load1', 'metrics.disks.0.mount', 'metrics.net.0.rxBps', 'metrics.ping.0.role', 'metrics.uptime.bootTime'],
  events: ['type', 'severity', 'message'],
  inventory: ['hostname', 'cpu', 'cpu.brand', 'memTotal', 'disks', 'disks.0.size', 'os', 'os.kernel', 'agentVersion'],
  status: ['state', 'hostname', 'agentVersion'],
};

const NUMERIC_PATHS: Record<MessageKind, string[]> = {
  samples: ['seq', 't', 'interval', 'metrics.cpu.usage', 'metrics.mem.total', 'metrics.net.0.rxBps'],
  events: ['seq', 't', 'sent', 'start', 'end'],
  inventory: ['seq', 'sent', 'memTotal', 'cpu.cores', 'cpu.speedGHz', 'disks.0.size'],
  status: ['seq', 't', 'osBoot', 'keepalive'],
};

const COUNTER_PATHS: Record<MessageKind, string[]> = {
  samples: ['seq', 'metrics.net.0.rxErrors', 'metrics.net.0.txDropped', 'metrics.mem.used', 'metrics.disks.0.free'],
  events: ['seq'],
  inventory: ['seq', 'memTotal', 'disks.0.size'],
  status: ['seq'],
};

const TIME_PATHS: Record<MessageKind, string[]> = {
  samples: ['t', 'sent', 'metrics.uptime.bootTime'],
  events: ['t', 'sent', 'start', 'end'],
  inventory: ['t', 'sent'],
  status: ['t', 'sent', 'osBoot'],
};

const LONG_STRING_PATHS: Record<MessageKind, Array<[string, number]>> = {
  samples: [
    ['metrics.disks.0.mount', 257],
    ['metrics.net.0.iface', 257],
    ['metrics.ping.0.target', 257],
    ['metrics.disks.0.fs', 60_000],
  ],
  events: [
    ['message', 1025],
    ['message', 60_000],
    ['details.source', 1025],
  ],
  inventory: [
    ['hostname', 257],
    ['hostname', 200_000],
    ['cpu.brand', 257],
    ['os.distro', 257],
    ['disks.0.name', 257],
    ['agentVersion', 257],
  ],
  status: [
    ['hostname', 257],
    ['hostname', 60_000],
    ['agentVersion', 257],
  ],
};

const INVALID_UTF8: Array<[string, number[]]> = [
  ['lone continuation', [0x80]],
  ['overlong slash', [0xc0, 0xaf]],
  ['truncated 2-byte', [0xc3]],
  ['truncated 3-byte', [0xe2, 0x82]],
  ['UTF-16 surrogate', [0xed, 0xa0, 0x80]],
  ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['0xFE', [0xfe]],
  ['0xFF', [0xff]],
  ['5-byte form', [0xf8, 0x88, 0x80, 0x80, 0x80]],
  ['overlong 3-byte NUL', [0xe0, 0x80, 0x80]],
];

/** True when `b` is well-formed UTF-8 (Node's decoder replaces bad sequences, so a round trip differs). */
export function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

export const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
export const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '0' + '}'.repeat(depth);

export interface GenerateOptions {
  site: string;
  host: string;
  /** Other identities for payload-identity mismatches and foreign topics. */
  otherSite: string;
  otherHost: string;
  now: number;
  seed: number;
}

/** All hostile payloads, in generation order (shuffle before sending). */
export function generateHostile(o: GenerateOptions): Hostile[] {
  const rnd = prng(o.seed);
  const out: Hostile[] = [];
  const t = o.now - 5_000;
  const sent = o.now - 4_000;
  const topic = (k: MessageKind) => topicFor(o.site, o.host, k);
  const base = (k: MessageKind, seq = 1000 + out.length) => validMessage(k, o.site, o.host, seq, t, sent);
  const add = (category: string, label: string, kind: MessageKind, payload: Buffer | string, expected: RejectReason | null, transport: Transport = 'main', tp = topic(kind)) =>
    out.push({ category, label, kind, topic: tp, payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload, transport, expected });

  for (const kind of KINDS) {
    const good = JSON.stringify(base(kind));

    // --- bad JSON: truncated, syntax errors, empty.
    for (let i = 0; i < 14; i++) {
      const cut = 1 + Math.floor(rnd() * (good.length - 1));
      add('bad-json-truncated', `cut at ${cut}/${good.length}`, kind, good.slice(0, cut), 'bad_json');
    }
    const syntax: Array<[string, string]> = [
      ['empty', ''],
      ['whitespace only', ' \n\t '],
      ['BOM only', '\ufeff'],
      ['trailing comma', good.replace(/}$/, ',}')],
      ['single quotes', good.replace(/"/g, "'")],
      ['comment', `/* hi */${good}`],
      ['unquoted keys', good.replace(/"(\w+)":/g, '$1:')],
      ['two objects', good + good],
      ['hex number', good.replace(/"seq":\d+/, '"seq":0x10')],
      ['leading zero', good.replace(/"seq":\d+/, '"seq":0012')],
      ['plus sign', good.replace(/"seq":\d+/, '"seq":+1')],
      ['raw newline in string', good.replace('"site":"', '"site":"\n')],
      ['undefined token', good.replace(/"seq":\d+/, '"seq":undefined')],
      ['unterminated string', good.replace(/}$/, ',"x":"abc}')],
    ];
    for (const [label, text] of syntax) add('bad-json-syntax', label, kind, text, 'bad_json');

    // --- NaN / Infinity tokens: not JSON at all.
    for (const path of NUMERIC_PATHS[kind].slice(0, 4)) {
      for (const tok of ['NaN', 'Infinity', '-Infinity']) add('nan-infinity-token', `${path}=${tok}`, kind, withRaw(base(kind), path, tok), 'bad_json');
    }

    // --- invalid UTF-8 inside an otherwise valid message, plus UTF-16 and Latin-1 bodies.
    const strField = kind === 'samples' ? 'metrics.disks.0.mount' : kind === 'events' ? 'message' : 'hostname';
    for (const [label, bytes] of INVALID_UTF8) {
      const text = JSON.stringify(setPath(base(kind), strField, 'AB__BYTES__CD'));
      const [pre, post] = text.split('__BYTES__') as [string, string];
      add('invalid-utf8', `${label} in ${strField}`, kind, Buffer.concat([Buffer.from(pre), Buffer.from(bytes), Buffer.from(post)]), 'bad_encoding');
    }
    add('invalid-utf8', 'UTF-16LE body with BOM', kind, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(good, 'utf16le')]), 'bad_encoding');
    add('invalid-utf8', 'Latin-1 Vietnamese hostname', kind, Buffer.from(good.replace(/"site":"/, '"x":"M\u00d4T C\u00dbA","site":"'), 'latin1'), 'bad_encoding');

    // --- random bytes (binary and printable garbage).
    for (let i = 0; i < 8; i++) {
      const len = 3 + Math.floor(rnd() * 3000);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(rnd() * 256);
      add('random-bytes', `${len} binary bytes`, kind, b, isUtf8(b) ? 'bad_json' : 'bad_encoding');
    }
    for (let i = 0; i < 4; i++) {
      const len = 3 + Math.floor(rnd() * 500);
      let s = '';
      for (let j = 0; j < len; j++) s += String.fromCharCode(0x20 + Math.floor(rnd() * 95));
      add('random-bytes', `${len} printable chars`, kind, s, 'bad_json');
    }

    // --- valid JSON that is not an object.
    for (const text of ['null', 'true', '0', '1', '-1', '1e400', '"samples"', '[]', `[${good}]`, '"{\\"v\\":1}"', ' 42 ', '[1,2,3]']) {
      add('json-non-object', text.slice(0, 30), kind, text, 'bad_json');
    }

    // --- unknown contract versions (and wrong types for `v`).
    for (const v of ['0', '2', '99', '-1', '1.5', '"1"', 'true', 'null', '[1]', '{"major":1}', '1e400', '""']) {
      add('unknown-version', `v=${v}`, kind, withRaw(base(kind), 'v', v), 'unknown_version');
    }
    add('unknown-version', 'v missing', kind, JSON.stringify(deletePath(base(kind), 'v')), 'unknown_version');
    add('unknown-version', 'empty object', kind, '{}', 'unknown_version');

    // --- wrong type for every field.
    for (const [path, tag] of [...ENVELOPE_FIELDS, ...KIND_FIELDS[kind]]) {
      for (const w of WRONG[tag]) add('wrong-type', `${path}=${JSON.stringify(w)}`, kind, JSON.stringify(setPath(base(kind), path, w)), 'schema');
    }

    // --- missing required fields.
    for (const path of ['site', 'host', 'boot', 'seq', 't', 'sent', ...REQUIRED[kind]]) {
      add('missing-field', path, kind, JSON.stringify(deletePath(base(kind), path)), 'schema');
    }

    // --- huge numbers: 1e400 parses to Infinity; 2^64 and 2^53+2 lose integer precision.
    for (const path of NUMERIC_PATHS[kind]) {
      for (const tok of ['1e400', '-1e400', '1.8e308']) add('huge-1e400', `${path}=${tok}`, kind, withRaw(base(kind), path, tok), 'schema');
      for (const tok of ['18446744073709551616', '9007199254740993']) add('huge-2^64', `${path}=${tok}`, kind, withRaw(base(kind), path, tok), 'schema');
    }

    // --- negative counters and byte sizes.
    for (const path of COUNTER_PATHS[kind]) {
      for (const n of [-1, -0.5, -1e15]) add('negative-counter', `${path}=${n}`, kind, JSON.stringify(setPath(base(kind), path, n)), 'schema');
    }
    add('negative-counter', 'seq=1.5 (not integer)', kind, JSON.stringify(setPath(base(kind), 'seq', 1.5)), 'schema');

    // --- far-future / far-past / non-integer times.
    for (const path of TIME_PATHS[kind]) {
      for (const v of [MAX_TIME_MS + 1, Date.UTC(3000, 0, 1), 8.64e15, MIN_TIME_MS - 1, 0, -1, t + 0.5]) {
        add('time-out-of-range', `${path}=${v}`, kind, JSON.stringify(setPath(base(kind), path, v)), 'schema');
      }
    }

    // --- sent before t, and samples older than the outbox bound: consistent types, inconsistent times.
    for (const [label, tt, ss] of [
      ['sent 60.001 s before t', t, t - 60_001],
      ['sent 1 h before t', t, t - 3_600_000],
      ['sent 30 days before t', t, t - 30 * 86_400_000],
      ['sent at year 2000, t now', t, MIN_TIME_MS],
      ['t 35 days + 1 ms before sent', sent - MAX_SAMPLE_AGE_MS - 1, sent],
      ['t at year 2000, sent now', MIN_TIME_MS, sent],
    ] as Array<[string, number, number]>) {
      add('sent-before-t', label, kind, JSON.stringify({ ...base(kind), t: tt, sent: ss }), 'time_inconsistent');
    }

    // --- payload identity differs from the (own) topic.
    add('identity-in-payload', 'other host', kind, JSON.stringify({ ...base(kind), host: o.otherHost }), 'identity_mismatch');
    add('identity-in-payload', 'other site', kind, JSON.stringify({ ...base(kind), site: o.otherSite }), 'identity_mismatch');
    add('identity-in-payload', 'both other', kind, JSON.stringify({ ...base(kind), site: o.otherSite, host: o.otherHost }), 'identity_mismatch');

    // --- extra-deep nesting where the schema expects something else (never in `v`: see the separate test).
    const deepSlot = kind === 'samples' ? 'metrics.cpu' : kind === 'events' ? 'details' : 'hostname';
    for (const depth of [1_000, 4_000, 9_000]) {
      add('deep-nesting', `${deepSlot}=array depth ${depth}`, kind, withRaw(base(kind), deepSlot, deepArray(depth)), 'schema');
      add('deep-nesting', `${deepSlot}=object depth ${depth}`, kind, withRaw(base(kind), deepSlot, deepObject(depth)), 'schema');
      add('deep-nesting', `seq=array depth ${depth}`, kind, withRaw(base(kind), 'seq', deepArray(depth)), 'schema');
    }
    // An unknown deep key is stripped, so pair it with one real error.
    add('deep-nesting', 'unknown deep key + seq=-1', kind, withRaw(setPath(base(kind), 'seq', -1), 'zzz', deepObject(8_000)), 'schema');

    // --- very long strings.
    for (const [path, len] of [['site', 64], ['site', 10_000], ['host', 64], ['boot', 65], ['boot', 7], ...LONG_STRING_PATHS[kind]] as Array<[string, number]>) {
      add('long-string', `${path} x${len}`, kind, JSON.stringify(setPath(base(kind), path, 'a'.repeat(len))), 'schema');
    }

    // --- payloads just over the size limit (valid JSON padded with whitespace).
    const limit = kind === 'inventory' ? MAX_INVENTORY_BYTES : MAX_PAYLOAD_BYTES;
    for (const over of [1, 2, 3, 1000]) {
      const body = JSON.stringify(base(kind));
      add('too-large', `${limit}+${over} bytes`, kind, body + ' '.repeat(limit + over - Buffer.byteLength(body)), 'too_large');
    }
    if (kind !== 'inventory') {
      const body = JSON.stringify(base(kind));
      add('too-large', '200 KiB (under the packet limit)', kind, body + ' '.repeat(200 * 1024 - body.length), 'too_large');
    }

    // --- 1 MB+ bodies: over MAX_PACKET_BYTES, the broker cuts the connection before ingest.
    const mb = 1024 * 1024 + Math.floor(rnd() * 4096);
    add('oversize-1mb', `${mb} bytes`, kind, Buffer.concat([Buffer.from(good), Buffer.alloc(mb - good.length, 0x20)]), null, 'oversize');

    // --- topics this credential may not publish on: the broker cuts and counts identity_mismatch.
    const foreignTopics: Array<[string, string]> = [
      ['other host', topicFor(o.site, o.otherHost, kind)],
      ['other site', topicFor(o.otherSite, o.host, kind)],
    ];
    for (const [label, tp] of foreignTopics) add('foreign-topic', label, kind, good, 'identity_mismatch', 'foreign', tp);
  }

  // --- topics that are not Canh topics of this host at all (refused like a foreign host).
  add('foreign-topic', 'unknown kind', 'samples', JSON.stringify(base('samples')), 'identity_mismatch', 'foreign', `canh/v1/${o.site}/${o.host}/bogus`);
  add('foreign-topic', 'contract v2 prefix', 'samples', JSON.stringify(base('samples')), 'identity_mismatch', 'foreign', `canh/v2/${o.site}/${o.host}/samples`);

  // --- arrays over their maximum length.
  const disk = { mount: 'D:', total: 1, used: 0, free: 1, usedPct: 0 };
  const nic = { iface: 'eth', rxBps: 0, txBps: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 };
  const ping = { target: 'x', role: 'configured', sent: 1, lossPct: 0, rttMedian: 1, rttP95: 1, rttMax: 1 };
  const over = (n: number, item: Json): Json[] => Array.from({ length: n }, () => item);
  for (const [label, path, items] of [
    ['65 disks', 'metrics.disks', over(65, disk)],
    ['1000 disks', 'metrics.disks', over(1000, disk)],
    ['65 interfaces', 'metrics.net', over(65, nic)],
    ['33 ping targets', 'metrics.ping', over(33, ping)],
    ['500 ping targets', 'metrics.ping', over(500, ping)],
  ] as Array<[string, string, Json[]]>) {
    add('array-too-long', label, 'samples', JSON.stringify(setPath(base('samples'), path, items)), 'schema');
  }
  const invDisk = { device: '/dev/sda', name: 'disk', type: 'SSD', size: 1 };
  add('array-too-long', '65 inventory disks', 'inventory', JSON.stringify(setPath(base('inventory'), 'disks', over(65, invDisk))), 'schema');
  add('array-too-long', '3000 inventory disks', 'inventory', JSON.stringify(setPath(base('inventory'), 'disks', over(3000, invDisk))), 'schema');
  const details = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
  add('array-too-long', '33 detail keys', 'events', JSON.stringify(setPath(base('events'), 'details', details(33))), 'schema');
  add('array-too-long', '2000 detail keys', 'events', JSON.stringify(setPath(base('events'), 'details', details(2000))), 'schema');
  add('long-string', 'detail key x65', 'events', JSON.stringify(setPath(base('events'), 'details', { ['k'.repeat(65)]: 1 })), 'schema');

  // --- out-of-range percentages and other bounded numbers.
  for (const [kind, path] of [
    ['samples', 'metrics.cpu.usage'],
    ['samples', 'metrics.disks.0.usedPct'],
    ['samples', 'metrics.ping.0.lossPct'],
  ] as Array<[MessageKind, string]>) {
    for (const v of [100.0001, 101, 1000, -0.001, -100]) add('pct-out-of-range', `${path}=${v}`, kind, JSON.stringify(setPath(base(kind), path, v)), 'schema');
  }
  for (const [kind, path, v] of [
    ['samples', 'interval', 0],
    ['samples', 'interval', 86_401],
    ['samples', 'metrics.cpu.cores', 0],
    ['samples', 'metrics.cpu.cores', 4097],
    ['samples', 'metrics.net.0.rxBps', 1e12 + 1],
    ['samples', 'metrics.ping.0.sent', 1001],
    ['inventory', 'cpu.speedGHz', 100.5],
    ['status', 'keepalive', 0],
    ['status', 'keepalive', 3601],
  ] as Array<[MessageKind, string, number]>) {
    add('pct-out-of-range', `${path}=${v}`, kind, JSON.stringify(setPath(base(kind), path, v)), 'schema');
  }

  if (out.some((h) => h.transport === 'oversize' && h.payload.length <= MAX_PACKET_BYTES)) throw new Error('an oversize body is not over MAX_PACKET_BYTES');
  return out;
}
