/**
 * The Grafana dashboards under dashboards/: valid JSON and shape, unique uids and panel
 * ids, only the provisioned datasources, Vietnamese titles, and every (measurement, field)
 * a query names exists in the InfluxDB export schema (imported, not copied).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INFLUX_SCHEMA } from '../../../collector/influx/schema.js';
import {
  DASHBOARDS_DIR,
  allPanels,
  checkDashboardSchema,
  checkDatasources,
  dashboardQueries,
  extractFlux,
  extractPromql,
  isVietnameseTitle,
  loadDashboards,
  schemaPairs,
  splitMetricName,
  validateShape,
  type Dashboard,
} from '../../helpers/dashboards.js';

const files = loadDashboards();
const EXPECTED = ['influx/diem.json', 'influx/may.json', 'influx/su-co.json', 'influx/tong-quan.json', 'promql/diem.json', 'promql/su-co.json'];

describe('dashboards/', () => {
  it('holds the expected dashboards, each valid JSON', () => {
    for (const f of EXPECTED) expect(files.map((x) => x.file)).toContain(f);
  });

  it('dashboard uids are unique across all files', () => {
    const uids = files.map((f) => f.dashboard.uid);
    expect(new Set(uids).size, `uids: ${uids.join(', ')}`).toBe(uids.length);
  });

  describe.each(files.map((f) => [f.file, f.dashboard] as const))('%s', (_file, d) => {
    it('has the minimal Grafana shape', () => {
      expect(validateShape(d)).toEqual([]);
    });

    it('is in Asia/Ho_Chi_Minh time with site and host variables', () => {
      expect(d.timezone).toBe('Asia/Ho_Chi_Minh');
      const names = (d.templating?.list ?? []).map((v) => v.name);
      expect(names).toContain('site');
      expect(names).toContain('host');
    });

    it('panel ids are unique', () => {
      const ids = allPanels(d).map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('uses only the canh-influx / canh-vm datasources (or a variable)', () => {
      expect(checkDatasources(d)).toEqual([]);
    });

    it('every (measurement, field) its queries name exists in INFLUX_SCHEMA', () => {
      expect(checkDashboardSchema(d)).toEqual([]);
      const queries = dashboardQueries(d);
      expect(queries.length).toBeGreaterThan(0);
      // Every panel query names at least one schema field, except PromQL constants (vector(...)).
      for (const q of queries.filter((x) => x.where.startsWith('panel'))) {
        if (q.language === 'promql' && /^vector\(/.test(q.text.trim())) continue;
        expect(q.refs.filter((r) => r.field !== undefined).length, `${q.where}: ${q.text}`).toBeGreaterThan(0);
      }
    });

    it('titles are Vietnamese', () => {
      expect(isVietnameseTitle(String(d.title))).toBe(true);
      const bad = allPanels(d).filter((p) => !isVietnameseTitle(String(p.title)));
      expect(bad.map((p) => p.title)).toEqual([]);
    });

    it('Flux queries read v.defaultBucket and filter on the selected site', () => {
      for (const q of dashboardQueries(d).filter((x) => x.language === 'flux' && x.where.startsWith('panel'))) {
        expect(q.text, q.where).toMatch(/from\(bucket: (v\.defaultBucket|"\$\{bucket\}")\)/);
        expect(q.text, q.where).toContain('r.site =~ /^${site:regex}$/');
      }
    });

    it('PromQL selectors filter on the selected site', () => {
      for (const q of dashboardQueries(d).filter((x) => x.language === 'promql' && x.where.startsWith('panel'))) {
        for (const sel of q.text.matchAll(/[a-z_0-9]+\{([^}]*)\}/g)) expect(sel[1], `${q.where}: ${q.text}`).toMatch(/site=~"\$site"/);
      }
    });
  });

  it('the site dashboards shade working hours (Mon–Fri 07:30–11:30, 13:30–17:00, Asia/Ho_Chi_Minh)', () => {
    for (const f of files.filter((x) => x.file.endsWith('diem.json'))) {
      const regions = (f.dashboard.annotations?.list ?? [])
        .map((a) => (a.target as { timeRegion?: Record<string, unknown> } | undefined)?.timeRegion)
        .filter((r): r is Record<string, unknown> => !!r);
      expect(
        regions.map((r) => [r.cronExpr, r.duration, r.timezone]),
        f.file,
      ).toEqual([
        ['30 7 * * 1-5', '4h', 'Asia/Ho_Chi_Minh'],
        ['30 13 * * 1-5', '3h30m', 'Asia/Ho_Chi_Minh'],
      ]);
      const line = (f.dashboard.templating?.list ?? []).find((v) => v.name === 'line_mbps');
      expect(line?.type, f.file).toBe('constant');
    }
  });

  it('the PromQL dashboards cover the same kinds of data as their Flux twins', () => {
    const pairs = (file: string) => new Set(schemaPairs(files.find((f) => f.file === file)!.dashboard).map((p) => p.measurement));
    expect([...pairs('promql/diem.json')].sort()).toEqual(expect.arrayContaining(['cpu', 'disk', 'host_status', 'mem', 'net', 'ping', 'uptime']));
    expect([...pairs('promql/su-co.json')].sort()).toEqual(expect.arrayContaining(['event', 'incident']));
  });

  it('provisioning points at the two datasources and the JSON folders', () => {
    const ds = readFileSync(join(DASHBOARDS_DIR, 'provisioning/datasources/canh.yaml'), 'utf8');
    for (const s of ['uid: canh-influx', 'uid: canh-vm', '${INFLUX_ORG}', '${INFLUX_BUCKET}', '${INFLUX_TOKEN}', '${VM_URL}', 'version: Flux', 'http://influxdb:8086'])
      expect(ds).toContain(s);
    const dash = readFileSync(join(DASHBOARDS_DIR, 'provisioning/dashboards/canh.yaml'), 'utf8');
    expect(dash).toMatch(/path: .*\/influx\b/);
    expect(dash).toMatch(/path: .*\/promql\b/);
  });
});

describe('dashboard checker (negative controls)', () => {
  const fake = (query: string, field = 'expr'): Dashboard => ({
    uid: 'fake',
    title: 'Giả',
    schemaVersion: 39,
    templating: { list: [] },
    panels: [
      {
        id: 1,
        type: 'timeseries',
        title: 'Thử',
        gridPos: { x: 0, y: 0, w: 12, h: 8 },
        targets: [{ refId: 'A', datasource: field === 'expr' ? { type: 'prometheus', uid: 'canh-vm' } : { type: 'influxdb', uid: 'canh-influx' }, [field]: query }],
      },
    ],
  });

  it('rejects an unknown Flux field, an unknown measurement and a field without a measurement', () => {
    const q = (m: string, f: string) => `from(bucket: v.defaultBucket)\n  |> range(start: -1h)\n  |> filter(fn: (r) => r._measurement == "${m}" and r._field == "${f}")`;
    expect(checkDashboardSchema(fake(q('cpu', 'usage_pct'), 'query'))).toEqual([]);
    expect(checkDashboardSchema(fake(q('cpu', 'temperature'), 'query'))).toEqual([expect.stringContaining('unknown field "temperature" of measurement "cpu"')]);
    expect(checkDashboardSchema(fake(q('gpu', 'usage_pct'), 'query'))).toEqual([expect.stringContaining('unknown measurement "gpu"')]);
    expect(checkDashboardSchema(fake('from(bucket: v.defaultBucket) |> filter(fn: (r) => r._field == "usage_pct")', 'query'))).toEqual([expect.stringContaining('0 measurements')]);
    expect(checkDashboardSchema(fake('from(bucket: v.defaultBucket) |> filter(fn: (r) => r._measurement == "cpu" and r._field =~ /usage/)', 'query'))).toEqual([
      expect.stringContaining('unsupported _field comparison'),
    ]);
  });

  it('reads contains(value: r._field, set: [...]) and several from() pipelines', () => {
    const x = extractFlux(
      'a = from(bucket: v.defaultBucket) |> filter(fn: (r) => r._measurement == "mem" and contains(value: r._field, set: ["used", "total"]))\n' +
        'b = from(bucket: v.defaultBucket) |> filter(fn: (r) => r._measurement == "disk" and r._field == "nope")',
    );
    expect(x.problems).toEqual([]);
    expect(x.refs.map((r) => `${r.measurement}.${r.field}`)).toEqual(['mem.used', 'mem.total', 'disk.nope']);
    expect(checkDashboardSchema(fake(x.text, 'query'))).toEqual([expect.stringContaining('unknown field "nope" of measurement "disk"')]);
  });

  it('rejects an unknown PromQL metric and splits by the longest measurement prefix', () => {
    expect(splitMetricName('host_status_online')).toEqual({ measurement: 'host_status', field: 'online' });
    expect(splitMetricName('ping_rtt_p95_ms')).toEqual({ measurement: 'ping', field: 'rtt_p95_ms' });
    expect(splitMetricName('node_cpu_seconds_total')).toBeUndefined();
    expect(checkDashboardSchema(fake('avg(cpu_usage_pct{site=~"$site"})'))).toEqual([]);
    expect(checkDashboardSchema(fake('avg(cpu_temperature{site=~"$site"})'))).toEqual([expect.stringContaining('unknown field "temperature" of measurement "cpu"')]);
    expect(checkDashboardSchema(fake('sum(rate(node_network_receive_bytes_total{site=~"$site"}[5m]))'))).toEqual([
      expect.stringContaining('does not start with a schema measurement'),
    ]);
    expect(extractPromql('label_values(uptime_seconds, site)').refs).toEqual([{ measurement: 'uptime', field: 'seconds', where: '' }]);
    expect(extractPromql('sum(mem_used_pct{mount="a{b"}) / on(host) mem_total{host=~"x"}').refs.map((r) => r.field)).toEqual(['used_pct', 'total']);
  });

  it('rejects a foreign datasource and an English-only title', () => {
    const d = fake('cpu_usage_pct{site=~"$site"}');
    d.panels![0]!.datasource = { type: 'prometheus', uid: 'someone-elses' };
    expect(checkDatasources(d)).toEqual([expect.stringContaining('"someone-elses"')]);
    expect(isVietnameseTitle('CPU usage')).toBe(false);
    expect(isVietnameseTitle('CPU')).toBe(true);
    expect(isVietnameseTitle('Tải CPU')).toBe(true);
  });

  it('the schema it checks against is the collector module itself', () => {
    expect(Object.keys(INFLUX_SCHEMA)).toContain('host_status');
  });
});
