import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HttpProbeResult, PowerMetrics, SampleMessage } from '../../../../contract/schemas.js';
import { escapeKey, formatLine } from '../../../../collector/influx/line-protocol.js';
import { eventLines, incidentPoint, linesForStored, sampleLines, statusLines } from '../../../../collector/influx/point-builder.js';
import { INFLUX_SCHEMA, type MeasurementSchema } from '../../../../collector/influx/schema.js';
import type { EventRow, SampleRow, StatusRow } from '../../../../collector/store/store.js';

function fixture(name: string): SampleMessage {
  return JSON.parse(readFileSync(new URL(`../../../fixtures/contract/${name}`, import.meta.url), 'utf8')) as SampleMessage;
}

function row(m: SampleMessage, over: Partial<SampleRow> = {}): SampleRow {
  return {
    site: m.site,
    host: m.host,
    boot: m.boot,
    seq: m.seq,
    t: m.t,
    tAgent: m.t,
    sent: m.sent,
    received: m.sent,
    skewMs: 0,
    interval: m.interval,
    metrics: m.metrics,
    ...over,
  };
}

/** Splits a line into measurement, tags, fields and time, honouring backslash escapes. */
function parseLine(line: string): { measurement: string; tags: Record<string, string>; fields: Record<string, string>; time: string } {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\') {
      cur += c + (line[i + 1] ?? '');
      i++;
    } else if (c === ' ') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  const split = (s: string, sep: string): string[] => {
    const out: string[] = [];
    let c2 = '';
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '\\') {
        c2 += s[i]! + (s[i + 1] ?? '');
        i++;
      } else if (s[i] === sep) {
        out.push(c2);
        c2 = '';
      } else c2 += s[i];
    }
    out.push(c2);
    return out;
  };
  const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');
  const [series, fieldSet, time] = parts as [string, string, string];
  const [measurement, ...tagKv] = split(series, ',');
  const tags: Record<string, string> = {};
  for (const kv of tagKv) {
    const [k, v] = split(kv, '=');
    tags[unescape(k!)] = unescape(v!);
  }
  const fields: Record<string, string> = {};
  for (const kv of split(fieldSet, ',')) {
    const [k, v] = split(kv, '=');
    fields[unescape(k!)] = v!;
  }
  return { measurement: unescape(measurement!), tags, fields, time };
}

describe('point builder: samples', () => {
  it('turns the golden sample into exact line protocol (tags and fields sorted, integers with i, ms)', () => {
    const lines = sampleLines(row(fixture('sample-valid.json')));
    const id = 'host=pc-motcua-01,site=xa-an-binh';
    expect(lines).toEqual([
      `cpu,${id} cores=4i,load1=0.8,load15=0.4,load5=0.6,usage_pct=37.5 1795500000000`,
      `mem,${id} available=1116143616i,swap_total=2147479552i,swap_used=524288000i,total=4126703616i,used=3010560000i,used_pct=72.9531432382858 1795500000000`,
      `disk,host=pc-motcua-01,mount=C:,site=xa-an-binh free=15953203200i,total=255953203200i,used=240000000000i,used_pct=93.77 1795500000000`,
      `net,host=pc-motcua-01,iface=Ethernet,site=xa-an-binh rx_bps=125000.5,rx_dropped=12i,rx_errors=0i,tx_bps=20000,tx_dropped=0i,tx_errors=0i 1795500000000`,
      `ping,host=pc-motcua-01,role=gateway,site=xa-an-binh,target=192.168.1.1 loss_pct=0,probes=4i,rtt_max_ms=3.4,rtt_median_ms=1.2,rtt_p95_ms=3.4 1795500000000`,
      // Every probe lost: RTTs are null and omitted.
      `ping,host=pc-motcua-01,role=configured,site=xa-an-binh,target=dichvucong.gov.vn loss_pct=100,probes=4i 1795500000000`,
      `uptime,${id} seconds=86400 1795500000000`,
    ]);
  });

  it('uses the skew-corrected time, not the agent time', () => {
    const m = fixture('sample-valid.json');
    const lines = sampleLines(row(m, { t: m.t + 3_600_000 }));
    for (const l of lines) expect(l.endsWith(` ${m.t + 3_600_000}`)).toBe(true);
  });

  it('skips sources reported unavailable and omits null load averages (Windows)', () => {
    const lines = sampleLines(row(fixture('sample-unavailable.json')));
    expect(lines).toEqual(['cpu,host=pc-02,site=phuong-1 cores=2i,usage_pct=5 1795500000000']);
  });

  it('escapes a Windows mount C:\\ so the next tag survives, and spaces, commas and = in tags', () => {
    const m = fixture('sample-valid.json');
    const metrics = {
      disks: [{ mount: 'C:\\', total: 10, used: 5, free: 5, usedPct: 50 }],
      net: [{ iface: 'Wi-Fi 2,a=b', rxBps: 1, txBps: 2, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 }],
    };
    const [disk, net] = sampleLines(row(m, { metrics }));
    expect(disk).toBe('disk,host=pc-motcua-01,mount=C:\\\\,site=xa-an-binh free=5i,total=10i,used=5i,used_pct=50 1795500000000');
    expect(net).toBe('net,host=pc-motcua-01,iface=Wi-Fi\\ 2\\,a\\=b,site=xa-an-binh rx_bps=1,rx_dropped=0i,rx_errors=0i,tx_bps=2,tx_dropped=0i,tx_errors=0i 1795500000000');
    expect(parseLine(disk!).tags).toEqual({ host: 'pc-motcua-01', mount: 'C:\\', site: 'xa-an-binh' });
    expect(parseLine(net!).tags.iface).toBe('Wi-Fi 2,a=b');
  });

  it('escapeKey: backslash first, then comma, equals, space; empty tags are omitted', () => {
    expect(escapeKey('a\\b, c=d')).toBe('a\\\\b\\,\\ c\\=d');
    expect(formatLine('disk', { site: 's', host: '', mount: 'x' }, { total: 1 }, 5)).toBe('disk,mount=x,site=s total=1i 5');
    expect(formatLine('cpu', { site: 's', host: 'h' }, { load1: null, usage_pct: Number.NaN }, 5)).toBeUndefined();
  });

  it('every line follows INFLUX_SCHEMA: known measurement, exactly its tags, its fields with their types', () => {
    const m = fixture('sample-valid.json');
    const all = [
      ...sampleLines(row(m)),
      ...sampleLines(row(m, { metrics: { http: [HTTP_OK], power: { source: 'battery', batteryPct: 80, minutesLeft: 12 } } })),
      // Disk activity and memory pressure (issue 17), with every pressure field present (Linux with PSI).
      ...sampleLines(row(fixture('sample-disk-pressure.json'))),
      ...sampleLines(row(m, { metrics: { pressure: { memSomePct: 12.5, memFullPct: 3.25, swapInPs: 10, swapOutPs: 0, hardFaultsPs: 4.5 } } })),
      ...eventLines({ site: 's', host: 'h', boot: 'b', seq: 1, t: 1, received: 1, type: 'agent_stop', severity: 'info', message: '', start: 1, end: 2001 }),
      ...statusLines({ site: 's', host: 'h', boot: 'b', t: 1, received: 1, state: 'online', hostname: 'H', agentVersion: '1' }),
      ...incidentPoint({ site: 's', scope: 'site', cause: 'power_cut', start: 0, end: 60_000, hosts: 3 }),
    ];
    const seen = new Set<string>();
    for (const line of all) {
      const p = parseLine(line);
      const schema = (INFLUX_SCHEMA as Record<string, MeasurementSchema>)[p.measurement];
      expect(schema, p.measurement).toBeDefined();
      seen.add(p.measurement);
      expect(Object.keys(p.tags).sort()).toEqual([...schema!.tags].sort());
      for (const [k, v] of Object.entries(p.fields)) {
        const type = schema!.fields[k];
        expect(type, `${p.measurement}.${k}`).toBeDefined();
        if (type === 'integer') expect(v).toMatch(/^-?\d+i$/);
        if (type === 'float') expect(v).toMatch(/^-?[\d.e+-]+$/);
      }
      expect(p.time).toMatch(/^\d+$/);
    }
    expect([...seen].sort()).toEqual(Object.keys(INFLUX_SCHEMA).sort());
  });
});

const HTTP_OK: HttpProbeResult = {
  name: 'dichvucong',
  url: 'https://dichvucong.gov.vn/',
  ok: true,
  status: 302,
  dnsMs: 12.5,
  connectMs: 40,
  tlsMs: 95.2,
  firstByteMs: 180,
  totalMs: 181.3,
};

describe('point builder: HTTP probes and power', () => {
  const m = fixture('sample-valid.json');

  it('http_probe: one point per probe, tagged by probe name; ok as 1/0, status and phases', () => {
    const down: HttpProbeResult = {
      name: 'motcua',
      url: 'https://motcua.angiang.gov.vn/',
      ok: false,
      status: 503,
      dnsMs: 3,
      connectMs: 10,
      tlsMs: 30,
      firstByteMs: 400,
      totalMs: 401,
      error: 'HTTP 503',
    };
    expect(sampleLines(row(m, { metrics: { http: [HTTP_OK, down] } }))).toEqual([
      'http_probe,host=pc-motcua-01,probe=dichvucong,site=xa-an-binh connect_ms=40,dns_ms=12.5,first_byte_ms=180,ok=1i,status=302i,tls_ms=95.2,total_ms=181.3 1795500000000',
      'http_probe,host=pc-motcua-01,probe=motcua,site=xa-an-binh connect_ms=10,dns_ms=3,first_byte_ms=400,ok=0i,status=503i,tls_ms=30,total_ms=401 1795500000000',
    ]);
  });

  it('http_probe: a probe that failed before any phase is still a point (ok=0): an unreachable portal is data', () => {
    const timedOut: HttpProbeResult = {
      name: 'dichvucong',
      url: 'https://dichvucong.gov.vn/',
      ok: false,
      status: null,
      dnsMs: 20,
      connectMs: null,
      tlsMs: null,
      firstByteMs: null,
      totalMs: null,
      error: 'ETIMEDOUT',
    };
    const notFound: HttpProbeResult = { ...timedOut, dnsMs: null, error: 'ENOTFOUND' };
    expect(sampleLines(row(m, { metrics: { http: [timedOut, notFound] } }))).toEqual([
      'http_probe,host=pc-motcua-01,probe=dichvucong,site=xa-an-binh dns_ms=20,ok=0i 1795500000000',
      'http_probe,host=pc-motcua-01,probe=dichvucong,site=xa-an-binh ok=0i 1795500000000',
    ]);
  });

  it('http and power reported unavailable give no point', () => {
    expect(sampleLines(row(m, { metrics: { http: { unavailable: 'x' }, power: { unavailable: 'no battery' } } }))).toEqual([]);
  });

  it('power: on_battery 1 / 0, absent when the source is unknown; charge and minutes when known', () => {
    const at = (power: PowerMetrics) => sampleLines(row(m, { metrics: { power } }));
    expect(at({ source: 'battery', batteryPct: 64.5, minutesLeft: 23 })).toEqual([
      'power,host=pc-motcua-01,site=xa-an-binh battery_pct=64.5,minutes_left=23,on_battery=1i 1795500000000',
    ]);
    expect(at({ source: 'ac', batteryPct: 100, minutesLeft: null })).toEqual(['power,host=pc-motcua-01,site=xa-an-binh battery_pct=100,on_battery=0i 1795500000000']);
    expect(at({ source: 'unknown', batteryPct: 50, minutesLeft: null })).toEqual(['power,host=pc-motcua-01,site=xa-an-binh battery_pct=50 1795500000000']);
    expect(at({ source: 'unknown', batteryPct: null, minutesLeft: null })).toEqual([]);
  });
});

describe('point builder: events, status, incidents', () => {
  const ev: EventRow = { site: 'xa-an-binh', host: 'pc-1', boot: 'b', seq: 3, t: 1795500001000, received: 0, type: 'source_unavailable', severity: 'warning', message: 'x' };

  it('event: count=1, duration_s only when start and end are known', () => {
    expect(eventLines(ev)).toEqual(['event,host=pc-1,severity=warning,site=xa-an-binh,type=source_unavailable count=1i 1795500001000']);
    expect(eventLines({ ...ev, start: 1795500000000, end: 1795500090500 })).toEqual([
      'event,host=pc-1,severity=warning,site=xa-an-binh,type=source_unavailable count=1i,duration_s=90.5 1795500001000',
    ]);
  });

  it('status: online 1 / offline 0', () => {
    const st: StatusRow = { site: 's', host: 'h', boot: 'b', t: 1795500000000, received: 0, state: 'offline', hostname: 'H', agentVersion: '0.1.0' };
    expect(statusLines(st)).toEqual(['host_status,host=h,site=s online=0i 1795500000000']);
    expect(statusLines({ ...st, state: 'online' })).toEqual(['host_status,host=h,site=s online=1i 1795500000000']);
  });

  it('incident: at its end, with duration and hosts', () => {
    expect(incidentPoint({ site: 's', scope: 'site', cause: 'power_cut', start: 1795500000000, end: 1795500600000, hosts: 7 })).toEqual([
      'incident,cause=power_cut,scope=site,site=s count=1i,duration_s=600,hosts=7i 1795500600000',
    ]);
  });

  it('linesForStored: inventory is not exported', () => {
    expect(linesForStored({ kind: 'inventory', row: { site: 's', host: 'h', boot: 'b', seq: 1, t: 1, received: 1, hostname: 'h', data: {} } })).toEqual([]);
    expect(linesForStored({ kind: 'events', row: ev })).toHaveLength(1);
  });
});
