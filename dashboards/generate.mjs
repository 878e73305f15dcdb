#!/usr/bin/env node
/**
 * Generates the Grafana dashboards in dashboards/influx and dashboards/promql.
 *
 *   node dashboards/generate.mjs
 *
 * The JSON files are the deliverable (Grafana provisions them as they are); this script
 * only keeps their queries in one regular style so test/helpers/dashboards.ts can extract
 * every (measurement, field) exactly:
 *   Flux:   one `from(...)` per measurement, `r._measurement == "m"` and
 *           `r._field == "f"` (several fields: `(r._field == "a" or r._field == "b")`);
 *   PromQL: `<measurement>_<field>{...}` with braces, always.
 * Edit here and re-run, or edit the JSON and keep that style.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(fileURLToPath(import.meta.url));
const INFLUX = { type: 'influxdb', uid: 'canh-influx' };
const VM = { type: 'prometheus', uid: 'canh-vm' };
const TZ = 'Asia/Ho_Chi_Minh';

// ---------------------------------------------------------------------------------------
// Shared dashboard pieces
// ---------------------------------------------------------------------------------------

/** Working hours (DESIGN.md defaults) as Grafana 11 time regions, shaded on every panel. */
const WORKING_HOURS = [
  { name: 'Giờ làm việc buổi sáng', cronExpr: '30 7 * * 1-5', duration: '4h', from: '07:30', to: '11:30' },
  { name: 'Giờ làm việc buổi chiều', cronExpr: '30 13 * * 1-5', duration: '3h30m', from: '13:30', to: '17:00' },
].map((r) => ({
  name: r.name,
  datasource: { type: 'datasource', uid: 'grafana' },
  enable: true,
  hide: false,
  iconColor: 'rgba(115, 191, 105, 0.12)',
  target: {
    queryType: 'timeRegions',
    refId: 'Anno',
    timeRegion: { mode: 'cron', cronExpr: r.cronExpr, duration: r.duration, from: r.from, to: r.to, timezone: TZ },
  },
}));

const BUILTIN_ANNOTATION = {
  builtIn: 1,
  datasource: { type: 'grafana', uid: '-- Grafana --' },
  enable: true,
  hide: true,
  iconColor: 'rgba(0, 211, 255, 1)',
  name: 'Chú thích & cảnh báo',
  type: 'dashboard',
};

const CAUSES = { power: 'Mất điện', network: 'Mất mạng', freeze: 'Treo máy', crash: 'Lỗi hệ thống (sập)', unknown: 'Không rõ' };
const SCOPES = { site: 'Cả điểm', host: 'Một máy' };
const EVENT_TYPES = {
  agent_start: 'Agent khởi động',
  agent_stop: 'Agent dừng',
  source_unavailable: 'Nguồn số liệu không dùng được',
  source_recovered: 'Nguồn số liệu hoạt động lại',
  outbox_overflow: 'Hàng đợi gửi bị tràn',
  config_reload: 'Nạp lại cấu hình',
};
const SEVERITIES = { info: 'Thông tin', warning: 'Cảnh báo', critical: 'Nghiêm trọng' };

const valueMap = (m) => [{ type: 'value', options: Object.fromEntries(Object.entries(m).map(([k, text], index) => [k, { text, index }])) }];
const ONLINE_MAP = [{ type: 'value', options: { 0: { text: 'Ngoại tuyến', color: 'red', index: 0 }, 1: { text: 'Trực tuyến', color: 'green', index: 1 } } }];

function dashboard({ uid, title, description, tags, variables, panels, annotations = [], links = [], time = { from: 'now-24h', to: 'now' } }) {
  return {
    annotations: { list: [BUILTIN_ANNOTATION, ...annotations] },
    description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    links,
    panels: panels.map((p, i) => ({ ...p, id: i + 1 })),
    refresh: '1m',
    schemaVersion: 39,
    tags: ['canh', ...tags],
    templating: { list: variables },
    time,
    timepicker: {},
    timezone: TZ,
    weekStart: 'monday',
    title,
    uid,
    version: 1,
  };
}

const LINKS = [{ asDropdown: true, icon: 'external link', includeVars: false, keepTime: true, tags: ['canh'], targetBlank: false, title: 'Bảng Canh', type: 'dashboards' }];

function panel(type, title, gridPos, targets, { ds, unit, min, max, decimals, description, options = {}, overrides = [], mappings = [], thresholds, custom, transformations, interval, links } = {}) {
  const p = {
    type,
    title,
    datasource: ds,
    gridPos,
    targets: targets.map((t, i) => ({ datasource: ds, refId: String.fromCharCode(65 + i), ...t })),
    fieldConfig: {
      defaults: {
        ...(unit ? { unit } : {}),
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        ...(decimals !== undefined ? { decimals } : {}),
        mappings,
        thresholds: thresholds ?? { mode: 'absolute', steps: [{ color: 'green', value: null }] },
        ...(custom ? { custom } : {}),
        ...(links ? { links } : {}),
      },
      overrides,
    },
    options,
  };
  if (description) p.description = description;
  if (transformations) p.transformations = transformations;
  if (interval) p.interval = interval;
  return p;
}

const th = (...steps) => ({ mode: 'absolute', steps: [{ color: 'green', value: null }, ...steps.map(([value, color]) => ({ value, color }))] });
const PCT_TH = th([80, 'orange'], [90, 'red']);
const LOSS_TH = th([2, 'orange'], [10, 'red']);
const RTT_TH = th([100, 'orange'], [300, 'red']);
const lines = (extra = {}) => ({ drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false, ...extra });
const bars = (extra = {}) => ({ drawStyle: 'bars', lineWidth: 1, fillOpacity: 80, showPoints: 'never', stacking: { mode: 'normal', group: 'A' }, ...extra });
const tsOptions = { legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'], showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } };
const statOptions = (extra = {}) => ({ reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'none', textMode: 'auto', justifyMode: 'auto', orientation: 'auto', ...extra });
const bargaugeOptions = { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true, valueMode: 'color' };
const tableOptions = (sortBy = []) => ({ showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' }, sortBy });
const rename = (byName) => Object.entries(byName).map(([name, displayName]) => ({ matcher: { id: 'byName', options: name }, properties: [{ id: 'displayName', value: displayName }] }));
const siteLink = (field) => [{ title: 'Chi tiết điểm ${__value.raw}', url: `/d/canh-diem/chi-tiet-diem?var-site=\${__data.fields.${field}}&\${__url_time_range}` }];
const hostLink = [{ title: 'Chi tiết máy ${__value.raw}', url: '/d/canh-may/chi-tiet-may-tinh?var-site=${__data.fields.site}&var-host=${__value.raw}&${__url_time_range}' }];

// ---------------------------------------------------------------------------------------
// Flux
// ---------------------------------------------------------------------------------------

const RANGE = 'range(start: v.timeRangeStart, stop: v.timeRangeStop)';
/** "Current state" queries look back 30 days whatever the time picker says. */
const RANGE_STATE = 'range(start: -30d, stop: v.timeRangeStop)';
const SITE = 'r.site =~ /^${site:regex}$/';
const HOST = 'r.host =~ /^${host:regex}$/';
const SITE_HOST = `${SITE} and ${HOST}`;

/** One measurement, its fields, filters and the rest of the pipeline. */
function flux(measurement, fields, { range = RANGE, where = SITE_HOST, extra, pipe = [], pre = [] } = {}) {
  const f = fields.length === 1 ? `r._field == "${fields[0]}"` : `(${fields.map((x) => `r._field == "${x}"`).join(' or ')})`;
  return [
    ...pre,
    'from(bucket: v.defaultBucket)',
    `  |> ${range}`,
    `  |> filter(fn: (r) => r._measurement == "${measurement}" and ${f})`,
    ...(where ? [`  |> filter(fn: (r) => ${where})`] : []),
    ...(extra ? [`  |> filter(fn: (r) => ${extra})`] : []),
    ...pipe.map((s) => `  |> ${s}`),
  ].join('\n');
}
const fx = (query, extra = {}) => ({ query, ...extra });
const WIN_MEAN = 'aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)';
const WIN_SUM = 'aggregateWindow(every: v.windowPeriod, fn: sum, createEmpty: false)';
const WIN_MAX = 'aggregateWindow(every: v.windowPeriod, fn: max, createEmpty: false)';
/** Series named by one tag (Grafana names a Flux series by its _field and group key). */
/** Ungroup first: map() then never rewrites a group-key column in place. */
const relabel = (expr) => ['group()', `map(fn: (r) => ({r with _field: ${expr}}))`, 'group(columns: ["_field"])', 'sort(columns: ["_time"])'];
const nameBy = (tag) => relabel(`r.${tag}`);
const nameAs = (label) => relabel(`"${label}"`);
const CAUSE_VI = `causeVi = (c) => ${Object.entries(CAUSES).map(([k, v]) => `if c == "${k}" then "${v}"`).join(' else ')} else c`;
/** Sum over all selected series per timestamp (after a window aggregate). */
const SUM_ACROSS = ['group(columns: ["_time"])', 'sum()', 'group()', 'sort(columns: ["_time"])'];
const toMbps = 'map(fn: (r) => ({r with _value: r._value * 8.0 / 1000000.0}))';
const WEEK = [
  'import "timezone"',
  'option location = timezone.location(name: "Asia/Ho_Chi_Minh")',
];

const lastPerSeries = ['last()', 'group()'];
const colAs = (col, keep = ['site', 'host']) => [`keep(columns: [${[...keep, '_value'].map((c) => `"${c}"`).join(', ')}])`, `rename(columns: {_value: "${col}"})`];

function fluxVar(name, label, tag, { measurement = 'uptime', field = 'seconds', where, multi = true, includeAll = true } = {}) {
  const pred = `r._measurement == "${measurement}" and r._field == "${field}"${where ? ` and ${where}` : ''}`;
  const query = `import "influxdata/influxdb/schema"\nschema.tagValues(bucket: v.defaultBucket, tag: "${tag}", predicate: (r) => ${pred}, start: -30d)`;
  return {
    name,
    label,
    type: 'query',
    datasource: INFLUX,
    query,
    definition: query,
    refresh: 2,
    sort: 1,
    multi,
    includeAll,
    ...(includeAll ? { allValue: '.*' } : {}),
    current: includeAll ? { selected: true, text: ['All'], value: ['$__all'] } : {},
    options: [],
    hide: 0,
  };
}
const lineVar = {
  name: 'line_mbps',
  label: 'Tốc độ đường truyền theo hợp đồng (Mbit/s)',
  type: 'constant',
  query: '100',
  current: { selected: false, text: '100', value: '100' },
  options: [{ selected: true, text: '100', value: '100' }],
  hide: 2,
  description: 'Tốc độ đường truyền Internet của điểm theo hợp đồng (Mbit/s); sửa giá trị này trong cài đặt bảng.',
};

// ---------------------------------------------------------------------------------------
// TTHC portals (HTTP probes): shared by the site and host boards
// ---------------------------------------------------------------------------------------

/** Probe phases, cumulative ms since the request started (curl-style), with their Vietnamese names. */
const PORTAL_PHASES = [
  ['dns_ms', 'phân giải tên (DNS)'],
  ['connect_ms', 'kết nối TCP'],
  ['tls_ms', 'bắt tay TLS'],
  ['first_byte_ms', 'byte đầu tiên'],
];
const PORTAL_DESC =
  'Đo HTTP tới các cổng dịch vụ công (Cổng DVC quốc gia, hệ thống một cửa của tỉnh) từ các máy của điểm. ' +
  'Mỗi mốc tính từ lúc bắt đầu yêu cầu: phân giải tên ≤ kết nối ≤ TLS ≤ byte đầu tiên. Vùng tô màu: giờ làm việc.';
const OK_TH = { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'orange', value: 90 }, { color: 'green', value: 99 }] };

/** Portal reachability (% of probes ok) and timings at row `y`; `group` merges the hosts (site board) or not (host board). */
function influxPortalPanels(ds, y, group) {
  const P = (t, title, g, targets, o = {}) => panel(t, title, g, targets, { ds, ...o });
  const byProbe = group ? [group, WIN_MEAN] : [];
  return [
    P('timeseries', 'Cổng dịch vụ công: thời gian phản hồi (ms)', { x: 0, y, w: 16, h: 8 }, PORTAL_PHASES.map(([field, vi]) =>
      fx(flux('http_probe', [field], { pipe: [WIN_MEAN, ...byProbe, ...relabel(`r.probe + " · ${vi}"`)] })),
    ), { options: tsOptions, unit: 'ms', min: 0, custom: lines(), thresholds: th([1000, 'orange'], [3000, 'red']), description: PORTAL_DESC }),
    P('timeseries', 'Cổng dịch vụ công truy cập được (%)', { x: 16, y, w: 8, h: 8 }, [
      fx(flux('http_probe', ['ok'], { pipe: [WIN_MEAN, ...byProbe, 'map(fn: (r) => ({r with _value: float(v: r._value) * 100.0}))', ...nameBy('probe')] })),
    ], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: OK_TH, description: 'Tỷ lệ lần đo nhận được trả lời đúng (mã trạng thái dưới 400) trong thời hạn. Dưới 100%: cổng không truy cập được từ điểm trong một phần thời gian.' }),
  ];
}

/** The same two panels in PromQL. */
function promPortalPanels(ds, y) {
  const P = (t, title, g, targets, o = {}) => panel(t, title, g, targets, { ds, ...o });
  return [
    P('timeseries', 'Cổng dịch vụ công: thời gian phản hồi (ms)', { x: 0, y, w: 16, h: 8 }, PORTAL_PHASES.map(([field, vi]) =>
      pq(`avg by (probe) (http_probe_${field}{${SH}})`, `{{probe}} · ${vi}`),
    ), { options: tsOptions, unit: 'ms', min: 0, custom: lines(), thresholds: th([1000, 'orange'], [3000, 'red']), description: PORTAL_DESC }),
    P('timeseries', 'Cổng dịch vụ công truy cập được (%)', { x: 16, y, w: 8, h: 8 }, [
      pq(`100 * avg by (probe) (avg_over_time(http_probe_ok{${SH}}[$__rate_interval]))`, '{{probe}}'),
    ], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: OK_TH, description: 'Tỷ lệ lần đo nhận được trả lời đúng (mã trạng thái dưới 400) trong thời hạn. Dưới 100%: cổng không truy cập được từ điểm trong một phần thời gian.' }),
  ];
}

// ---------------------------------------------------------------------------------------
// Influx: Tổng quan các điểm
// ---------------------------------------------------------------------------------------

function influxOverview() {
  const ds = INFLUX;
  const P = (t, title, g, targets, o = {}) => panel(t, title, g, targets, { ds, ...o });
  const panels = [
    P('stat', 'Số điểm đang giám sát', { x: 0, y: 0, w: 4, h: 4 }, [
      fx(flux('host_status', ['online'], { range: RANGE_STATE, pipe: [...lastPerSeries, 'distinct(column: "site")', 'count()'] })),
    ], { options: statOptions(), decimals: 0 }),
    P('stat', 'Máy đang trực tuyến', { x: 4, y: 0, w: 4, h: 4 }, [
      fx(flux('host_status', ['online'], { range: RANGE_STATE, pipe: [...lastPerSeries, 'sum()'] })),
    ], { options: statOptions(), decimals: 0 }),
    P('stat', 'Máy ngoại tuyến', { x: 8, y: 0, w: 4, h: 4 }, [
      fx(flux('host_status', ['online'], { range: RANGE_STATE, pipe: ['last()', 'filter(fn: (r) => r._value == 0)', 'group()', 'count()'] })),
    ], { options: statOptions(), decimals: 0, thresholds: th([1, 'orange'], [5, 'red']), description: 'Máy có trạng thái cuối cùng là ngoại tuyến (Last Will), trong 30 ngày qua.' }),
    P('stat', 'Số sự cố (mất điện, mất mạng…)', { x: 12, y: 0, w: 4, h: 4 }, [
      fx(flux('incident', ['count'], { where: SITE, pipe: ['group()', 'sum()'] })),
    ], { options: statOptions(), decimals: 0, thresholds: th([1, 'orange'], [10, 'red']) }),
    P('stat', 'Phút gián đoạn do sự cố', { x: 16, y: 0, w: 4, h: 4 }, [
      fx(flux('incident', ['duration_s'], { where: SITE, pipe: ['group()', 'sum()', 'map(fn: (r) => ({r with _value: r._value / 60.0}))'] })),
    ], { options: statOptions(), unit: 'm', decimals: 0, thresholds: th([30, 'orange'], [240, 'red']) }),
    P('stat', 'Sự kiện cảnh báo từ máy', { x: 20, y: 0, w: 4, h: 4 }, [
      fx(flux('event', ['count'], { extra: 'r.severity != "info"', pipe: ['group()', 'sum()'] })),
    ], { options: statOptions(), decimals: 0, thresholds: th([1, 'orange'], [20, 'red']) }),

    P('table', 'Tình trạng các điểm', { x: 0, y: 4, w: 24, h: 9 }, [
      fx(flux('host_status', ['online'], { range: RANGE_STATE, pipe: ['last()', 'group(columns: ["site"])', 'sum()', 'group()', ...colAs('Máy trực tuyến', ['site'])] })),
      fx(flux('host_status', ['online'], { range: RANGE_STATE, pipe: ['last()', 'group(columns: ["site"])', 'count()', 'group()', ...colAs('Tổng số máy', ['site'])] })),
      fx(flux('cpu', ['usage_pct'], { pipe: ['mean()', 'group(columns: ["site"])', 'max()', 'group()', ...colAs('CPU trung bình cao nhất (%)', ['site'])] })),
      fx(flux('disk', ['used_pct'], { pipe: ['last()', 'group(columns: ["site"])', 'max()', 'group()', ...colAs('Ổ đĩa đầy nhất (%)', ['site'])] })),
      fx(flux('ping', ['loss_pct'], { extra: 'r.role == "gateway"', pipe: ['mean()', 'group(columns: ["site"])', 'mean()', 'group()', ...colAs('Mất gói tới cổng mạng (%)', ['site'])] })),
      fx(flux('incident', ['count'], { where: SITE, pipe: ['group(columns: ["site"])', 'sum()', 'group()', ...colAs('Số sự cố', ['site'])] })),
    ], {
      options: tableOptions([{ displayName: 'Máy trực tuyến', desc: false }]),
      transformations: [{ id: 'merge', options: {} }],
      overrides: [
        { matcher: { id: 'byName', options: 'site' }, properties: [{ id: 'displayName', value: 'Điểm' }, { id: 'links', value: siteLink('site') }] },
        ...['CPU trung bình cao nhất (%)', 'Ổ đĩa đầy nhất (%)'].map((n) => ({ matcher: { id: 'byName', options: n }, properties: [{ id: 'unit', value: 'percent' }, { id: 'decimals', value: 1 }, { id: 'thresholds', value: PCT_TH }, { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'gradient' } }] })),
        { matcher: { id: 'byName', options: 'Mất gói tới cổng mạng (%)' }, properties: [{ id: 'unit', value: 'percent' }, { id: 'decimals', value: 1 }, { id: 'thresholds', value: LOSS_TH }, { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'gradient' } }] },
      ],
      description: 'Một dòng cho mỗi điểm; bấm tên điểm để mở bảng chi tiết.',
    }),

    P('bargauge', 'CPU cao nhất theo máy (trung bình trong kỳ)', { x: 0, y: 13, w: 12, h: 9 }, [
      fx(flux('cpu', ['usage_pct'], { pipe: ['mean()', 'group()', 'top(n: 10)', 'group(columns: ["site", "host"])', 'keep(columns: ["site", "host", "_value"])'] })),
    ], { options: bargaugeOptions, unit: 'percent', min: 0, max: 100, decimals: 1, thresholds: PCT_TH, overrides: [{ matcher: { id: 'byType', options: 'number' }, properties: [{ id: 'displayName', value: '${__field.labels.site} / ${__field.labels.host}' }] }] }),
    P('bargauge', 'Ổ đĩa đầy nhất', { x: 12, y: 13, w: 12, h: 9 }, [
      fx(flux('disk', ['used_pct'], { pipe: ['last()', 'group()', 'top(n: 10)', 'group(columns: ["site", "host", "mount"])', 'keep(columns: ["site", "host", "mount", "_value"])'] })),
    ], { options: bargaugeOptions, unit: 'percent', min: 0, max: 100, decimals: 1, thresholds: PCT_TH, overrides: [{ matcher: { id: 'byType', options: 'number' }, properties: [{ id: 'displayName', value: '${__field.labels.site} / ${__field.labels.host} ${__field.labels.mount}' }] }] }),

    P('timeseries', 'CPU trung bình theo điểm (%)', { x: 0, y: 22, w: 12, h: 8 }, [
      fx(flux('cpu', ['usage_pct'], { pipe: [WIN_MEAN, 'group(columns: ["site"])', WIN_MEAN, ...nameBy('site')] })),
    ], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: PCT_TH }),
    P('timeseries', 'Độ trễ tới cổng mạng theo điểm (ms, trung vị)', { x: 12, y: 22, w: 12, h: 8 }, [
      fx(flux('ping', ['rtt_median_ms'], { extra: 'r.role == "gateway"', pipe: [WIN_MEAN, 'group(columns: ["site"])', WIN_MEAN, ...nameBy('site')] })),
    ], { options: tsOptions, unit: 'ms', min: 0, custom: lines(), thresholds: RTT_TH }),
    P('timeseries', 'Mất gói tới cổng mạng theo điểm (%)', { x: 0, y: 30, w: 12, h: 8 }, [
      fx(flux('ping', ['loss_pct'], { extra: 'r.role == "gateway"', pipe: [WIN_MEAN, 'group(columns: ["site"])', WIN_MEAN, ...nameBy('site')] })),
    ], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: LOSS_TH }),
    P('table', 'Sự cố gần đây', { x: 12, y: 30, w: 12, h: 8 }, [
      fx(flux('incident', ['count', 'duration_s', 'hosts'], {
        where: SITE,
        pipe: ['pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")', 'group()', 'sort(columns: ["_time"], desc: true)', 'limit(n: 20)', 'map(fn: (r) => ({r with minutes: r.duration_s / 60.0}))', 'keep(columns: ["_time", "site", "scope", "cause", "hosts", "minutes"])'],
      })),
    ], {
      options: tableOptions(),
      transformations: [{ id: 'organize', options: { indexByName: { _time: 0, site: 1, cause: 2, scope: 3, minutes: 4, hosts: 5 }, renameByName: { _time: 'Kết thúc', site: 'Điểm', cause: 'Nguyên nhân', scope: 'Phạm vi', minutes: 'Số phút', hosts: 'Số máy' } } }],
      overrides: [
        { matcher: { id: 'byName', options: 'cause' }, properties: [{ id: 'mappings', value: valueMap(CAUSES) }] },
        { matcher: { id: 'byName', options: 'scope' }, properties: [{ id: 'mappings', value: valueMap(SCOPES) }] },
        { matcher: { id: 'byName', options: 'minutes' }, properties: [{ id: 'decimals', value: 0 }] },
        { matcher: { id: 'byName', options: 'site' }, properties: [{ id: 'links', value: siteLink('site') }] },
      ],
    }),
  ];
  return dashboard({
    uid: 'canh-tong-quan',
    title: 'Tổng quan các điểm',
    description: 'Canh: tình trạng tất cả các điểm (Bộ phận Một cửa cấp xã) trên một màn hình.',
    tags: ['influxdb', 'tong-quan'],
    variables: [fluxVar('site', 'Điểm', 'site'), fluxVar('host', 'Máy', 'host', { where: SITE })],
    panels,
    annotations: WORKING_HOURS,
    links: LINKS,
  });
}

// ---------------------------------------------------------------------------------------
// Influx: Chi tiết điểm
// ---------------------------------------------------------------------------------------

function hostsTable(ds, y) {
  return panel('table', 'Danh sách máy', { x: 0, y, w: 24, h: 8 }, [
    fx(flux('host_status', ['online'], { range: RANGE_STATE, pipe: [...lastPerSeries, ...colAs('Trạng thái')] })),
    fx(flux('uptime', ['seconds'], { pipe: [...lastPerSeries, ...colAs('Thời gian hoạt động')] })),
    fx(flux('cpu', ['usage_pct'], { pipe: ['mean()', 'group()', ...colAs('CPU trung bình (%)')] })),
    fx(flux('mem', ['used_pct'], { pipe: ['mean()', 'group()', ...colAs('Bộ nhớ dùng trung bình (%)')] })),
    fx(flux('disk', ['used_pct'], { pipe: ['last()', 'group(columns: ["site", "host"])', 'max()', 'group()', ...colAs('Ổ đĩa đầy nhất (%)')] })),
    fx(flux('ping', ['loss_pct'], { extra: 'r.role == "gateway"', pipe: ['mean()', 'group(columns: ["site", "host"])', 'mean()', 'group()', ...colAs('Mất gói tới cổng mạng (%)')] })),
  ], {
    ds,
    options: tableOptions([{ displayName: 'Máy', desc: false }]),
    transformations: [{ id: 'merge', options: {} }, { id: 'organize', options: { renameByName: { host: 'Máy' }, excludeByName: { site: false } } }],
    overrides: [
      { matcher: { id: 'byName', options: 'site' }, properties: [{ id: 'displayName', value: 'Điểm' }] },
      { matcher: { id: 'byName', options: 'Máy' }, properties: [{ id: 'links', value: hostLink }] },
      { matcher: { id: 'byName', options: 'Trạng thái' }, properties: [{ id: 'mappings', value: ONLINE_MAP }, { id: 'custom.cellOptions', value: { type: 'color-text' } }] },
      { matcher: { id: 'byName', options: 'Thời gian hoạt động' }, properties: [{ id: 'unit', value: 's' }] },
      ...['CPU trung bình (%)', 'Bộ nhớ dùng trung bình (%)', 'Ổ đĩa đầy nhất (%)'].map((n) => ({ matcher: { id: 'byName', options: n }, properties: [{ id: 'unit', value: 'percent' }, { id: 'decimals', value: 1 }, { id: 'thresholds', value: PCT_TH }, { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'gradient' } }] })),
      { matcher: { id: 'byName', options: 'Mất gói tới cổng mạng (%)' }, properties: [{ id: 'unit', value: 'percent' }, { id: 'decimals', value: 1 }, { id: 'thresholds', value: LOSS_TH }, { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'gradient' } }] },
    ],
  });
}

function influxSite() {
  const ds = INFLUX;
  const P = (t, title, g, targets, o = {}) => panel(t, title, g, targets, { ds, ...o });
  const netSum = (field, label) =>
    fx(flux('net', [field], { pipe: [WIN_MEAN, ...SUM_ACROSS, toMbps, ...nameAs(label)] }));
  const panels = [
    P('stat', 'Máy đang trực tuyến', { x: 0, y: 0, w: 6, h: 4 }, [
      fx(flux('host_status', ['online'], { range: RANGE_STATE, pipe: [...lastPerSeries, 'sum()'] })),
    ], { options: statOptions(), decimals: 0 }),
    P('stat', 'CPU trung bình (%)', { x: 6, y: 0, w: 6, h: 4 }, [
      fx(flux('cpu', ['usage_pct'], { pipe: ['group()', 'mean()'] })),
    ], { options: statOptions(), unit: 'percent', decimals: 1, thresholds: PCT_TH }),
    P('stat', 'Mức dùng đường truyền cao nhất (%)', { x: 12, y: 0, w: 6, h: 4 }, [
      fx(flux('net', ['rx_bps'], { pipe: [WIN_MEAN, ...SUM_ACROSS, toMbps, 'map(fn: (r) => ({r with _value: 100.0 * r._value / float(v: ${line_mbps})}))', 'max()'] })),
    ], { options: statOptions(), unit: 'percent', decimals: 0, thresholds: th([70, 'orange'], [90, 'red']), description: 'Tổng lưu lượng nhận của các máy so với tốc độ đường truyền theo hợp đồng (biến line_mbps).' }),
    P('stat', 'Phút gián đoạn do sự cố', { x: 18, y: 0, w: 6, h: 4 }, [
      fx(flux('incident', ['duration_s'], { where: SITE, pipe: ['group()', 'sum()', 'map(fn: (r) => ({r with _value: r._value / 60.0}))'] })),
    ], { options: statOptions(), unit: 'm', decimals: 0, thresholds: th([30, 'orange'], [240, 'red']) }),
    hostsTable(ds, 4),
    P('timeseries', 'CPU theo máy (%)', { x: 0, y: 12, w: 12, h: 8 }, [
      fx(flux('cpu', ['usage_pct'], { pipe: [WIN_MEAN, ...nameBy('host')] })),
    ], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: PCT_TH }),
    P('timeseries', 'Bộ nhớ đã dùng theo máy (%)', { x: 12, y: 12, w: 12, h: 8 }, [
      fx(flux('mem', ['used_pct'], { pipe: [WIN_MEAN, ...nameBy('host')] })),
    ], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: PCT_TH }),
    P('bargauge', 'Dung lượng ổ đĩa đã dùng (%)', { x: 0, y: 20, w: 8, h: 8 }, [
      fx(flux('disk', ['used_pct'], { pipe: ['last()', 'keep(columns: ["host", "mount", "_value"])'] })),
    ], { options: bargaugeOptions, unit: 'percent', min: 0, max: 100, decimals: 1, thresholds: PCT_TH, overrides: [{ matcher: { id: 'byType', options: 'number' }, properties: [{ id: 'displayName', value: '${__field.labels.host} ${__field.labels.mount}' }] }] }),
    P('timeseries', 'Độ trễ ping (ms)', { x: 8, y: 20, w: 16, h: 8 }, [
      fx(flux('ping', ['rtt_median_ms'], { pipe: [WIN_MEAN, 'group(columns: ["target", "role"])', WIN_MEAN, ...relabel('"trung vị " + r.target')] })),
      fx(flux('ping', ['rtt_p95_ms'], { pipe: [WIN_MAX, 'group(columns: ["target", "role"])', WIN_MAX, ...relabel('"p95 " + r.target')] })),
    ], { options: tsOptions, unit: 'ms', min: 0, custom: lines(), thresholds: RTT_TH, description: 'Trung bình của các máy trong điểm (trung vị) và giá trị p95 lớn nhất, theo đích ping. Vùng tô màu: giờ làm việc.' }),
    P('timeseries', 'Tỷ lệ mất gói (%)', { x: 0, y: 28, w: 12, h: 8 }, [
      fx(flux('ping', ['loss_pct'], { pipe: [WIN_MEAN, 'group(columns: ["target", "role"])', WIN_MEAN, ...nameBy('target')] })),
    ], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: LOSS_TH }),
    P('timeseries', 'Lưu lượng mạng so với tốc độ đường truyền (Mbit/s)', { x: 12, y: 28, w: 12, h: 8 }, [
      netSum('rx_bps', 'Nhận (tải xuống)'),
      netSum('tx_bps', 'Gửi (tải lên)'),
      fx(flux('net', ['rx_bps'], { pipe: [WIN_MEAN, ...SUM_ACROSS, 'map(fn: (r) => ({r with _value: float(v: ${line_mbps})}))', ...nameAs('Tốc độ theo hợp đồng')] })),
    ], {
      options: tsOptions,
      unit: 'Mbits',
      min: 0,
      custom: lines(),
      description: 'Tổng lưu lượng của các máy trong điểm, so với tốc độ đường truyền theo hợp đồng (biến line_mbps).',
      overrides: [{ matcher: { id: 'byName', options: 'Tốc độ theo hợp đồng' }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }, { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }, { id: 'custom.fillOpacity', value: 0 }] }],
    }),
    P('table', 'Sự cố tại điểm', { x: 0, y: 36, w: 24, h: 7 }, [
      fx(flux('incident', ['count', 'duration_s', 'hosts'], {
        where: SITE,
        pipe: ['pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")', 'group()', 'sort(columns: ["_time"], desc: true)', 'map(fn: (r) => ({r with minutes: r.duration_s / 60.0}))', 'keep(columns: ["_time", "site", "scope", "cause", "hosts", "minutes"])'],
      })),
    ], {
      options: tableOptions(),
      transformations: [{ id: 'organize', options: { indexByName: { _time: 0, site: 1, cause: 2, scope: 3, minutes: 4, hosts: 5 }, renameByName: { _time: 'Kết thúc', site: 'Điểm', cause: 'Nguyên nhân', scope: 'Phạm vi', minutes: 'Số phút', hosts: 'Số máy' } } }],
      overrides: [
        { matcher: { id: 'byName', options: 'cause' }, properties: [{ id: 'mappings', value: valueMap(CAUSES) }] },
        { matcher: { id: 'byName', options: 'scope' }, properties: [{ id: 'mappings', value: valueMap(SCOPES) }] },
        { matcher: { id: 'byName', options: 'minutes' }, properties: [{ id: 'decimals', value: 0 }] },
      ],
    }),
    ...influxPortalPanels(ds, 43, 'group(columns: ["probe"])'),
  ];
  return dashboard({
    uid: 'canh-diem',
    title: 'Chi tiết điểm',
    description: 'Canh: một điểm (Bộ phận Một cửa): các máy, CPU, bộ nhớ, ổ đĩa, độ trễ và mất gói (giờ làm việc được tô màu), lưu lượng so với tốc độ đường truyền, truy cập các cổng dịch vụ công.',
    tags: ['influxdb', 'diem'],
    variables: [fluxVar('site', 'Điểm', 'site', { multi: false, includeAll: false }), fluxVar('host', 'Máy', 'host', { where: SITE }), lineVar],
    panels,
    annotations: WORKING_HOURS,
    links: LINKS,
  });
}

// ---------------------------------------------------------------------------------------
// Influx: Chi tiết máy tính
// ---------------------------------------------------------------------------------------

function influxHost() {
  const ds = INFLUX;
  const P = (t, title, g, targets, o = {}) => panel(t, title, g, targets, { ds, ...o });
  const panels = [
    P('stat', 'Trạng thái', { x: 0, y: 0, w: 4, h: 4 }, [
      fx(flux('host_status', ['online'], { range: RANGE_STATE, pipe: ['last()'] })),
    ], { options: statOptions({ colorMode: 'background' }), mappings: ONLINE_MAP, thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }] } }),
    P('stat', 'Thời gian hoạt động từ lần khởi động', { x: 4, y: 0, w: 5, h: 4 }, [
      fx(flux('uptime', ['seconds'], { pipe: ['last()'] })),
    ], { options: statOptions(), unit: 's' }),
    P('stat', 'Số nhân CPU', { x: 9, y: 0, w: 3, h: 4 }, [
      fx(flux('cpu', ['cores'], { pipe: ['last()'] })),
    ], { options: statOptions(), decimals: 0 }),
    P('stat', 'Tổng bộ nhớ', { x: 12, y: 0, w: 4, h: 4 }, [
      fx(flux('mem', ['total'], { pipe: ['last()'] })),
    ], { options: statOptions(), unit: 'bytes', thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'orange', value: 4 * 2 ** 30 }, { color: 'green', value: 8 * 2 ** 30 }] }, description: 'Dưới 4 GiB: máy thiếu bộ nhớ cho phần mềm một cửa và trình duyệt.' }),
    P('stat', 'Số lần khởi động lại', { x: 16, y: 0, w: 4, h: 4 }, [
      fx(flux('uptime', ['seconds'], { pipe: ['difference()', 'filter(fn: (r) => r._value < 0.0)', 'group()', 'count()'] })),
    ], { options: statOptions(), decimals: 0, thresholds: th([1, 'orange'], [3, 'red']), description: 'Số lần thời gian hoạt động giảm (máy khởi động lại, mất điện, lỗi).' }),
    P('stat', 'Sự kiện cảnh báo', { x: 20, y: 0, w: 4, h: 4 }, [
      fx(flux('event', ['count'], { extra: 'r.severity != "info"', pipe: ['group()', 'sum()'] })),
    ], { options: statOptions(), decimals: 0, thresholds: th([1, 'orange'], [10, 'red']) }),
    P('timeseries', 'Mức sử dụng CPU (%)', { x: 0, y: 4, w: 12, h: 8 }, [
      fx(flux('cpu', ['usage_pct'], { pipe: [WIN_MEAN, ...nameAs('CPU')] })),
    ], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: PCT_TH }),
    P('timeseries', 'Tải hệ thống (chỉ có trên Linux)', { x: 12, y: 4, w: 12, h: 8 }, [
      fx(flux('cpu', ['load1', 'load5', 'load15'], { pipe: [WIN_MEAN, ...relabel('r._field')] })),
    ], { options: tsOptions, min: 0, custom: lines(), overrides: rename({ load1: 'Tải 1 phút', load5: 'Tải 5 phút', load15: 'Tải 15 phút' }) }),
    P('timeseries', 'Bộ nhớ', { x: 0, y: 12, w: 12, h: 8 }, [
      fx(flux('mem', ['used', 'available', 'total', 'swap_used'], { pipe: [WIN_MEAN, ...relabel('r._field')] })),
    ], { options: tsOptions, unit: 'bytes', min: 0, custom: lines(), overrides: rename({ used: 'Đã dùng', available: 'Còn trống', total: 'Tổng', swap_used: 'Bộ nhớ ảo (swap) đã dùng' }) }),
    P('timeseries', 'Bộ nhớ đã dùng (%)', { x: 12, y: 12, w: 12, h: 8 }, [
      fx(flux('mem', ['used_pct'], { pipe: [WIN_MEAN, ...nameAs('Bộ nhớ đã dùng')] })),
    ], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: PCT_TH }),
    P('table', 'Ổ đĩa', { x: 0, y: 20, w: 12, h: 7 }, [
      fx(flux('disk', ['total', 'used', 'free', 'used_pct'], { pipe: ['last()', 'pivot(rowKey: ["mount"], columnKey: ["_field"], valueColumn: "_value")', 'group()', 'keep(columns: ["mount", "total", "used", "free", "used_pct"])'] })),
    ], {
      options: tableOptions(),
      transformations: [{ id: 'organize', options: { indexByName: { mount: 0, total: 1, used: 2, free: 3, used_pct: 4 }, renameByName: { mount: 'Ổ đĩa', total: 'Dung lượng', used: 'Đã dùng', free: 'Còn trống', used_pct: 'Đã dùng (%)' } } }],
      overrides: [
        ...['total', 'used', 'free'].map((n) => ({ matcher: { id: 'byName', options: n }, properties: [{ id: 'unit', value: 'bytes' }] })),
        { matcher: { id: 'byName', options: 'used_pct' }, properties: [{ id: 'unit', value: 'percent' }, { id: 'max', value: 100 }, { id: 'min', value: 0 }, { id: 'thresholds', value: PCT_TH }, { id: 'custom.cellOptions', value: { type: 'gauge', mode: 'gradient' } }] },
      ],
    }),
    P('timeseries', 'Ổ đĩa đã dùng (%)', { x: 12, y: 20, w: 12, h: 7 }, [
      fx(flux('disk', ['used_pct'], { pipe: [WIN_MAX, ...nameBy('mount')] })),
    ], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: PCT_TH }),
    P('timeseries', 'Lưu lượng mạng theo card mạng', { x: 0, y: 27, w: 12, h: 8 }, [
      fx(flux('net', ['rx_bps'], { pipe: [WIN_MEAN, ...relabel('"nhận " + r.iface')] })),
      fx(flux('net', ['tx_bps'], { pipe: [WIN_MEAN, ...relabel('"gửi " + r.iface')] })),
    ], { options: tsOptions, unit: 'Bps', min: 0, custom: lines() }),
    P('timeseries', 'Lỗi và gói bị bỏ của card mạng', { x: 12, y: 27, w: 12, h: 8 }, [
      fx(flux('net', ['rx_errors', 'tx_errors', 'rx_dropped', 'tx_dropped'], { pipe: [WIN_MAX, ...relabel('r._field + " " + r.iface')] })),
    ], { options: tsOptions, min: 0, decimals: 0, custom: lines(), description: 'Bộ đếm do hệ điều hành báo; tăng liên tục là dấu hiệu cáp, card mạng hoặc switch có vấn đề.' }),
    P('timeseries', 'Độ trễ ping (ms)', { x: 0, y: 35, w: 12, h: 8 }, [
      fx(flux('ping', ['rtt_median_ms', 'rtt_p95_ms', 'rtt_max_ms'], { pipe: [WIN_MEAN, ...relabel('r._field + " " + r.target')] })),
    ], { options: tsOptions, unit: 'ms', min: 0, custom: lines(), thresholds: RTT_TH }),
    P('timeseries', 'Tỷ lệ mất gói (%)', { x: 12, y: 35, w: 12, h: 8 }, [
      fx(flux('ping', ['loss_pct'], { pipe: [WIN_MEAN, ...nameBy('target')] })),
    ], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: LOSS_TH }),
    P('timeseries', 'Thời gian hoạt động từ lần khởi động (giờ)', { x: 0, y: 43, w: 12, h: 7 }, [
      fx(flux('uptime', ['seconds'], { pipe: [WIN_MAX, 'map(fn: (r) => ({r with _value: r._value / 3600.0}))', ...nameAs('Thời gian hoạt động')] })),
    ], { options: tsOptions, unit: 'h', min: 0, custom: lines(), description: 'Đường tụt về 0 là một lần khởi động lại (mất điện, treo máy, cập nhật…).' }),
    P('table', 'Sự kiện của máy', { x: 12, y: 43, w: 12, h: 7 }, [
      fx(flux('event', ['count', 'duration_s'], { pipe: ['pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")', 'group()', 'sort(columns: ["_time"], desc: true)', 'limit(n: 50)', 'keep(columns: ["_time", "type", "severity", "duration_s"])'] })),
    ], {
      options: tableOptions(),
      transformations: [{ id: 'organize', options: { indexByName: { _time: 0, type: 1, severity: 2, duration_s: 3 }, renameByName: { _time: 'Thời điểm', type: 'Loại', severity: 'Mức độ', duration_s: 'Thời lượng' } } }],
      overrides: [
        { matcher: { id: 'byName', options: 'type' }, properties: [{ id: 'mappings', value: valueMap(EVENT_TYPES) }] },
        { matcher: { id: 'byName', options: 'severity' }, properties: [{ id: 'mappings', value: valueMap(SEVERITIES) }] },
        { matcher: { id: 'byName', options: 'duration_s' }, properties: [{ id: 'unit', value: 's' }] },
      ],
    }),
    ...influxPortalPanels(ds, 50, null),
  ];
  return dashboard({
    uid: 'canh-may',
    title: 'Chi tiết máy tính',
    description: 'Canh: một máy tính: CPU, bộ nhớ, ổ đĩa, mạng, ping, khởi động lại và sự kiện.',
    tags: ['influxdb', 'may'],
    variables: [fluxVar('site', 'Điểm', 'site', { multi: false, includeAll: false }), fluxVar('host', 'Máy', 'host', { where: SITE, multi: false, includeAll: false })],
    panels,
    annotations: WORKING_HOURS,
    links: LINKS,
  });
}

// ---------------------------------------------------------------------------------------
// Influx: Mất điện, mất mạng và sự cố
// ---------------------------------------------------------------------------------------

const CAUSE = 'r.cause =~ /^${cause:regex}$/';
const SITE_CAUSE = `${SITE} and ${CAUSE}`;
const causeOverrides = Object.entries(CAUSES).map(([k, v]) => ({ matcher: { id: 'byName', options: v }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: { power: 'red', network: 'orange', freeze: 'purple', crash: 'dark-red', unknown: 'gray' }[k] } }] }));

function influxIncidents() {
  const ds = INFLUX;
  const P = (t, title, g, targets, o = {}) => panel(t, title, g, targets, { ds, ...o });
  const weekly = (field, scale) =>
    fx(flux('incident', [field], {
      where: SITE_CAUSE,
      pre: [...WEEK, CAUSE_VI, ''],
      pipe: ['group(columns: ["cause"])', 'aggregateWindow(every: 1w, offset: 4d, fn: sum, createEmpty: false, timeSrc: "_start")', ...(scale ? [`map(fn: (r) => ({r with _value: float(v: r._value) / ${scale}}))`] : []), ...relabel('causeVi(c: r.cause)')],
    }));
  const panels = [
    P('stat', 'Số sự cố', { x: 0, y: 0, w: 5, h: 4 }, [fx(flux('incident', ['count'], { where: SITE_CAUSE, pipe: ['group()', 'sum()'] }))], { options: statOptions(), decimals: 0, thresholds: th([1, 'orange'], [10, 'red']) }),
    P('stat', 'Tổng thời gian gián đoạn', { x: 5, y: 0, w: 5, h: 4 }, [fx(flux('incident', ['duration_s'], { where: SITE_CAUSE, pipe: ['group()', 'sum()'] }))], { options: statOptions(), unit: 's', thresholds: th([1800, 'orange'], [14400, 'red']) }),
    P('stat', 'Số lần mất điện', { x: 10, y: 0, w: 5, h: 4 }, [fx(flux('incident', ['count'], { where: SITE, extra: 'r.cause == "power"', pipe: ['group()', 'sum()'] }))], { options: statOptions(), decimals: 0, thresholds: th([1, 'orange'], [5, 'red']) }),
    P('stat', 'Số lần mất mạng', { x: 15, y: 0, w: 5, h: 4 }, [fx(flux('incident', ['count'], { where: SITE, extra: 'r.cause == "network"', pipe: ['group()', 'sum()'] }))], { options: statOptions(), decimals: 0, thresholds: th([1, 'orange'], [5, 'red']) }),
    P('stat', 'Sự kiện nghiêm trọng từ máy', { x: 20, y: 0, w: 4, h: 4 }, [fx(flux('event', ['count'], { extra: 'r.severity == "critical"', pipe: ['group()', 'sum()'] }))], { options: statOptions(), decimals: 0, thresholds: th([1, 'red']) }),
    P('timeseries', 'Dòng thời gian sự cố (số phút mỗi sự cố)', { x: 0, y: 4, w: 24, h: 8 }, [
      fx(flux('incident', ['duration_s'], { where: SITE_CAUSE, pre: [CAUSE_VI, ''], pipe: ['map(fn: (r) => ({r with _value: r._value / 60.0}))', ...relabel('causeVi(c: r.cause) + " · " + r.site')] })),
    ], { options: tsOptions, unit: 'm', min: 0, custom: { drawStyle: 'points', pointSize: 9, showPoints: 'always', lineWidth: 0, fillOpacity: 0 }, description: 'Mỗi điểm là một sự cố, đặt tại thời điểm kết thúc; độ cao là số phút gián đoạn.' }),
    P('timeseries', 'Số sự cố theo nguyên nhân mỗi tuần', { x: 0, y: 12, w: 12, h: 8 }, [weekly('count')], { options: tsOptions, decimals: 0, min: 0, custom: bars(), overrides: causeOverrides, interval: '1w' }),
    P('timeseries', 'Số phút gián đoạn theo nguyên nhân mỗi tuần', { x: 12, y: 12, w: 12, h: 8 }, [weekly('duration_s', '60.0')], { options: tsOptions, unit: 'm', min: 0, custom: bars(), overrides: causeOverrides, interval: '1w' }),
    P('table', 'Danh sách sự cố', { x: 0, y: 20, w: 14, h: 9 }, [
      fx(flux('incident', ['count', 'duration_s', 'hosts'], {
        where: SITE_CAUSE,
        pipe: ['pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")', 'group()', 'map(fn: (r) => ({r with start: time(v: int(v: r._time) - int(v: r.duration_s * 1000000000.0))}))', 'sort(columns: ["_time"], desc: true)', 'keep(columns: ["start", "_time", "site", "scope", "cause", "hosts", "duration_s"])'],
      })),
    ], {
      options: tableOptions(),
      transformations: [{ id: 'organize', options: { indexByName: { start: 0, _time: 1, site: 2, cause: 3, scope: 4, duration_s: 5, hosts: 6 }, renameByName: { start: 'Bắt đầu', _time: 'Kết thúc', site: 'Điểm', cause: 'Nguyên nhân', scope: 'Phạm vi', duration_s: 'Thời lượng', hosts: 'Số máy' } } }],
      overrides: [
        { matcher: { id: 'byName', options: 'cause' }, properties: [{ id: 'mappings', value: valueMap(CAUSES) }] },
        { matcher: { id: 'byName', options: 'scope' }, properties: [{ id: 'mappings', value: valueMap(SCOPES) }] },
        { matcher: { id: 'byName', options: 'duration_s' }, properties: [{ id: 'unit', value: 's' }] },
        { matcher: { id: 'byName', options: 'site' }, properties: [{ id: 'links', value: siteLink('site') }] },
      ],
    }),
    P('table', 'Sự cố theo điểm', { x: 14, y: 20, w: 10, h: 9 }, [
      fx(flux('incident', ['count'], { where: SITE_CAUSE, pipe: ['group(columns: ["site"])', 'sum()', 'group()', ...colAs('Số sự cố', ['site'])] })),
      fx(flux('incident', ['duration_s'], { where: SITE_CAUSE, pipe: ['group(columns: ["site"])', 'sum()', 'group()', ...colAs('Tổng thời gian gián đoạn', ['site'])] })),
      fx(flux('incident', ['hosts'], { where: SITE_CAUSE, pipe: ['group(columns: ["site"])', 'max()', 'group()', ...colAs('Số máy bị ảnh hưởng nhiều nhất', ['site'])] })),
    ], {
      options: tableOptions([{ displayName: 'Tổng thời gian gián đoạn', desc: true }]),
      transformations: [{ id: 'merge', options: {} }],
      overrides: [
        { matcher: { id: 'byName', options: 'site' }, properties: [{ id: 'displayName', value: 'Điểm' }, { id: 'links', value: siteLink('site') }] },
        { matcher: { id: 'byName', options: 'Tổng thời gian gián đoạn' }, properties: [{ id: 'unit', value: 's' }] },
      ],
    }),
    P('timeseries', 'Sự kiện của agent theo loại', { x: 0, y: 29, w: 12, h: 8 }, [
      fx(flux('event', ['count'], { pipe: ['group(columns: ["type"])', WIN_SUM, ...nameBy('type')] })),
    ], { options: tsOptions, decimals: 0, min: 0, custom: bars(), overrides: rename(EVENT_TYPES) }),
    P('table', 'Sự kiện gần đây của các máy', { x: 12, y: 29, w: 12, h: 8 }, [
      fx(flux('event', ['count', 'duration_s'], { pipe: ['pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")', 'group()', 'sort(columns: ["_time"], desc: true)', 'limit(n: 100)', 'keep(columns: ["_time", "site", "host", "type", "severity", "duration_s"])'] })),
    ], {
      options: tableOptions(),
      transformations: [{ id: 'organize', options: { indexByName: { _time: 0, site: 1, host: 2, type: 3, severity: 4, duration_s: 5 }, renameByName: { _time: 'Thời điểm', site: 'Điểm', host: 'Máy', type: 'Loại', severity: 'Mức độ', duration_s: 'Thời lượng' } } }],
      overrides: [
        { matcher: { id: 'byName', options: 'type' }, properties: [{ id: 'mappings', value: valueMap(EVENT_TYPES) }] },
        { matcher: { id: 'byName', options: 'severity' }, properties: [{ id: 'mappings', value: valueMap(SEVERITIES) }] },
        { matcher: { id: 'byName', options: 'duration_s' }, properties: [{ id: 'unit', value: 's' }] },
      ],
    }),
  ];
  return dashboard({
    uid: 'canh-su-co',
    title: 'Mất điện, mất mạng và sự cố',
    description: 'Canh: các sự cố của điểm (mất điện, mất mạng, treo máy…) theo thời gian và theo tuần, và sự kiện của agent.',
    tags: ['influxdb', 'su-co'],
    variables: [
      fluxVar('site', 'Điểm', 'site'),
      fluxVar('host', 'Máy', 'host', { where: SITE }),
      fluxVar('cause', 'Nguyên nhân', 'cause', { measurement: 'incident', field: 'count', where: SITE }),
    ],
    panels,
    annotations: WORKING_HOURS,
    links: LINKS,
    time: { from: 'now-30d', to: 'now' },
  });
}

// ---------------------------------------------------------------------------------------
// PromQL (VictoriaMetrics): Chi tiết điểm, Mất điện/mất mạng/sự cố
// ---------------------------------------------------------------------------------------

const SH = 'site=~"$site",host=~"$host"';
const pq = (expr, legendFormat, extra = {}) => ({ expr, legendFormat, range: true, instant: false, editorMode: 'code', ...extra });
const pqTable = (expr, extra = {}) => ({ expr, legendFormat: '__auto', range: false, instant: true, format: 'table', editorMode: 'code', ...extra });

function promVar(name, label, expr, labelName, { multi = true, includeAll = true } = {}) {
  const query = `label_values(${expr}, ${labelName})`;
  return {
    name,
    label,
    type: 'query',
    datasource: VM,
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 },
    definition: query,
    refresh: 2,
    sort: 1,
    multi,
    includeAll,
    ...(includeAll ? { allValue: '.*' } : {}),
    current: includeAll ? { selected: true, text: ['All'], value: ['$__all'] } : {},
    options: [],
    hide: 0,
  };
}

function promSite() {
  const ds = VM;
  const P = (t, title, g, targets, o = {}) => panel(t, title, g, targets, { ds, ...o });
  const tableCol = (expr, col) => pqTable(expr, { legendFormat: col });
  const panels = [
    P('stat', 'Máy đang trực tuyến', { x: 0, y: 0, w: 6, h: 4 }, [pq(`sum(last_over_time(host_status_online{${SH}}[30d]))`, 'Trực tuyến', { instant: true, range: false })], { options: statOptions(), decimals: 0 }),
    P('stat', 'CPU trung bình (%)', { x: 6, y: 0, w: 6, h: 4 }, [pq(`avg(avg_over_time(cpu_usage_pct{${SH}}[$__range]))`, 'CPU', { instant: true, range: false })], { options: statOptions(), unit: 'percent', decimals: 1, thresholds: PCT_TH }),
    P('stat', 'Mức dùng đường truyền cao nhất (%)', { x: 12, y: 0, w: 6, h: 4 }, [pq(`max_over_time((100 * sum(net_rx_bps{${SH}}) * 8 / 1e6 / $line_mbps)[$__range:$__interval])`, 'Nhận', { instant: true, range: false })], { options: statOptions(), unit: 'percent', decimals: 0, thresholds: th([70, 'orange'], [90, 'red']) }),
    P('stat', 'Phút gián đoạn do sự cố', { x: 18, y: 0, w: 6, h: 4 }, [pq('sum(sum_over_time(incident_duration_s{site=~"$site"}[$__range])) / 60', 'Phút', { instant: true, range: false })], { options: statOptions(), unit: 'm', decimals: 0, thresholds: th([30, 'orange'], [240, 'red']) }),
    P('table', 'Danh sách máy', { x: 0, y: 4, w: 24, h: 8 }, [
      tableCol(`max by (site, host) (last_over_time(host_status_online{${SH}}[30d]))`, 'Trạng thái'),
      tableCol(`max by (site, host) (uptime_seconds{${SH}})`, 'Thời gian hoạt động'),
      tableCol(`avg by (site, host) (avg_over_time(cpu_usage_pct{${SH}}[$__range]))`, 'CPU trung bình (%)'),
      tableCol(`avg by (site, host) (avg_over_time(mem_used_pct{${SH}}[$__range]))`, 'Bộ nhớ dùng trung bình (%)'),
      tableCol(`max by (site, host) (disk_used_pct{${SH}})`, 'Ổ đĩa đầy nhất (%)'),
      tableCol(`avg by (site, host) (avg_over_time(ping_loss_pct{${SH},role="gateway"}[$__range]))`, 'Mất gói tới cổng mạng (%)'),
    ], {
      options: tableOptions([{ displayName: 'Máy', desc: false }]),
      transformations: [
        { id: 'merge', options: {} },
        { id: 'organize', options: { excludeByName: { Time: true }, renameByName: { site: 'Điểm', host: 'Máy', 'Value #A': 'Trạng thái', 'Value #B': 'Thời gian hoạt động', 'Value #C': 'CPU trung bình (%)', 'Value #D': 'Bộ nhớ dùng trung bình (%)', 'Value #E': 'Ổ đĩa đầy nhất (%)', 'Value #F': 'Mất gói tới cổng mạng (%)' } } },
      ],
      overrides: [
        { matcher: { id: 'byName', options: 'Máy' }, properties: [{ id: 'links', value: [{ title: 'Chi tiết máy ${__value.raw}', url: '/d/canh-may/chi-tiet-may-tinh?var-site=${__data.fields.Điểm}&var-host=${__value.raw}&${__url_time_range}' }] }] },
        { matcher: { id: 'byName', options: 'Trạng thái' }, properties: [{ id: 'mappings', value: ONLINE_MAP }, { id: 'custom.cellOptions', value: { type: 'color-text' } }] },
        { matcher: { id: 'byName', options: 'Thời gian hoạt động' }, properties: [{ id: 'unit', value: 's' }] },
        ...['CPU trung bình (%)', 'Bộ nhớ dùng trung bình (%)', 'Ổ đĩa đầy nhất (%)'].map((n) => ({ matcher: { id: 'byName', options: n }, properties: [{ id: 'unit', value: 'percent' }, { id: 'decimals', value: 1 }, { id: 'thresholds', value: PCT_TH }, { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'gradient' } }] })),
        { matcher: { id: 'byName', options: 'Mất gói tới cổng mạng (%)' }, properties: [{ id: 'unit', value: 'percent' }, { id: 'decimals', value: 1 }, { id: 'thresholds', value: LOSS_TH }, { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'gradient' } }] },
      ],
    }),
    P('timeseries', 'CPU theo máy (%)', { x: 0, y: 12, w: 12, h: 8 }, [pq(`avg by (host) (cpu_usage_pct{${SH}})`, '{{host}}')], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: PCT_TH }),
    P('timeseries', 'Bộ nhớ đã dùng theo máy (%)', { x: 12, y: 12, w: 12, h: 8 }, [pq(`avg by (host) (mem_used_pct{${SH}})`, '{{host}}')], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: PCT_TH }),
    P('bargauge', 'Dung lượng ổ đĩa đã dùng (%)', { x: 0, y: 20, w: 8, h: 8 }, [pq(`max by (host, mount) (disk_used_pct{${SH}})`, '{{host}} {{mount}}', { instant: true, range: false })], { options: bargaugeOptions, unit: 'percent', min: 0, max: 100, decimals: 1, thresholds: PCT_TH }),
    P('timeseries', 'Độ trễ ping (ms)', { x: 8, y: 20, w: 16, h: 8 }, [
      pq(`avg by (target, role) (ping_rtt_median_ms{${SH}})`, 'trung vị {{target}}'),
      pq(`max by (target, role) (ping_rtt_p95_ms{${SH}})`, 'p95 {{target}}'),
    ], { options: tsOptions, unit: 'ms', min: 0, custom: lines(), thresholds: RTT_TH, description: 'Trung bình của các máy trong điểm (trung vị) và giá trị p95 lớn nhất, theo đích ping. Vùng tô màu: giờ làm việc.' }),
    P('timeseries', 'Tỷ lệ mất gói (%)', { x: 0, y: 28, w: 12, h: 8 }, [pq(`avg by (target, role) (ping_loss_pct{${SH}})`, '{{target}}')], { options: tsOptions, unit: 'percent', min: 0, max: 100, custom: lines(), thresholds: LOSS_TH }),
    P('timeseries', 'Lưu lượng mạng so với tốc độ đường truyền (Mbit/s)', { x: 12, y: 28, w: 12, h: 8 }, [
      pq(`sum(net_rx_bps{${SH}}) * 8 / 1e6`, 'Nhận (tải xuống)'),
      pq(`sum(net_tx_bps{${SH}}) * 8 / 1e6`, 'Gửi (tải lên)'),
      pq('vector($line_mbps)', 'Tốc độ theo hợp đồng'),
    ], {
      options: tsOptions,
      unit: 'Mbits',
      min: 0,
      custom: lines(),
      description: 'Tổng lưu lượng của các máy trong điểm, so với tốc độ đường truyền theo hợp đồng (biến line_mbps).',
      overrides: [{ matcher: { id: 'byName', options: 'Tốc độ theo hợp đồng' }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }, { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }, { id: 'custom.fillOpacity', value: 0 }] }],
    }),
    P('timeseries', 'Mức dùng đường truyền (%)', { x: 0, y: 36, w: 12, h: 7 }, [
      pq(`100 * sum(net_rx_bps{${SH}}) * 8 / 1e6 / $line_mbps`, 'Nhận'),
      pq(`100 * sum(net_tx_bps{${SH}}) * 8 / 1e6 / $line_mbps`, 'Gửi'),
    ], { options: tsOptions, unit: 'percent', min: 0, custom: lines(), thresholds: th([70, 'orange'], [90, 'red']) }),
    P('timeseries', 'Sự cố tại điểm (số phút mỗi sự cố)', { x: 12, y: 36, w: 12, h: 7 }, [pq('sum by (cause) (incident_duration_s{site=~"$site"}) / 60', '{{cause}}')], {
      options: tsOptions,
      unit: 'm',
      min: 0,
      custom: { drawStyle: 'points', pointSize: 9, showPoints: 'always', lineWidth: 0, fillOpacity: 0 },
      overrides: [...rename(CAUSES), ...causeOverrides],
    }),
    ...promPortalPanels(ds, 43),
  ];
  return dashboard({
    uid: 'canh-vm-diem',
    title: 'Chi tiết điểm (VictoriaMetrics)',
    description: 'Canh: một điểm, truy vấn PromQL trên VictoriaMetrics (số liệu ghi qua /api/v2/write).',
    tags: ['victoriametrics', 'diem'],
    variables: [
      promVar('site', 'Điểm', 'uptime_seconds{}', 'site', { multi: false, includeAll: false }),
      promVar('host', 'Máy', 'uptime_seconds{site=~"$site"}', 'host'),
      lineVar,
    ],
    panels,
    annotations: WORKING_HOURS,
    links: LINKS,
  });
}

function promIncidents() {
  const ds = VM;
  const P = (t, title, g, targets, o = {}) => panel(t, title, g, targets, { ds, ...o });
  const SC = 'site=~"$site",cause=~"$cause"';
  const causeNames = [...rename(CAUSES), ...causeOverrides];
  const panels = [
    P('stat', 'Số sự cố', { x: 0, y: 0, w: 5, h: 4 }, [pq(`sum(sum_over_time(incident_count{${SC}}[$__range]))`, 'Sự cố', { instant: true, range: false })], { options: statOptions(), decimals: 0, thresholds: th([1, 'orange'], [10, 'red']) }),
    P('stat', 'Tổng thời gian gián đoạn', { x: 5, y: 0, w: 5, h: 4 }, [pq(`sum(sum_over_time(incident_duration_s{${SC}}[$__range]))`, 'Thời gian', { instant: true, range: false })], { options: statOptions(), unit: 's', thresholds: th([1800, 'orange'], [14400, 'red']) }),
    P('stat', 'Số lần mất điện', { x: 10, y: 0, w: 5, h: 4 }, [pq('sum(sum_over_time(incident_count{site=~"$site",cause="power"}[$__range]))', 'Mất điện', { instant: true, range: false })], { options: statOptions(), decimals: 0, thresholds: th([1, 'orange'], [5, 'red']) }),
    P('stat', 'Số lần mất mạng', { x: 15, y: 0, w: 5, h: 4 }, [pq('sum(sum_over_time(incident_count{site=~"$site",cause="network"}[$__range]))', 'Mất mạng', { instant: true, range: false })], { options: statOptions(), decimals: 0, thresholds: th([1, 'orange'], [5, 'red']) }),
    P('stat', 'Sự kiện nghiêm trọng từ máy', { x: 20, y: 0, w: 4, h: 4 }, [pq(`sum(sum_over_time(event_count{${SH},severity="critical"}[$__range]))`, 'Nghiêm trọng', { instant: true, range: false })], { options: statOptions(), decimals: 0, thresholds: th([1, 'red']) }),
    P('timeseries', 'Dòng thời gian sự cố (số phút mỗi sự cố)', { x: 0, y: 4, w: 24, h: 8 }, [pq(`sum by (cause, site) (incident_duration_s{${SC}}) / 60`, '{{cause}} · {{site}}')], {
      options: tsOptions,
      unit: 'm',
      min: 0,
      custom: { drawStyle: 'points', pointSize: 9, showPoints: 'always', lineWidth: 0, fillOpacity: 0 },
      description: 'Mỗi điểm là một sự cố, đặt tại thời điểm kết thúc; độ cao là số phút gián đoạn.',
    }),
    P('timeseries', 'Số sự cố theo nguyên nhân mỗi tuần', { x: 0, y: 12, w: 12, h: 8 }, [pq(`sum by (cause) (sum_over_time(incident_count{${SC}}[1w]))`, '{{cause}}', { interval: '1w' })], { options: tsOptions, decimals: 0, min: 0, custom: bars(), overrides: causeNames, interval: '1w' }),
    P('timeseries', 'Số phút gián đoạn theo nguyên nhân mỗi tuần', { x: 12, y: 12, w: 12, h: 8 }, [pq(`sum by (cause) (sum_over_time(incident_duration_s{${SC}}[1w])) / 60`, '{{cause}}', { interval: '1w' })], { options: tsOptions, unit: 'm', min: 0, custom: bars(), overrides: causeNames, interval: '1w' }),
    P('table', 'Sự cố theo điểm', { x: 0, y: 20, w: 12, h: 9 }, [
      pqTable(`sum by (site) (sum_over_time(incident_count{${SC}}[$__range]))`),
      pqTable(`sum by (site) (sum_over_time(incident_duration_s{${SC}}[$__range]))`),
      pqTable(`max by (site) (max_over_time(incident_hosts{${SC}}[$__range]))`),
    ], {
      options: tableOptions([{ displayName: 'Tổng thời gian gián đoạn', desc: true }]),
      transformations: [{ id: 'merge', options: {} }, { id: 'organize', options: { excludeByName: { Time: true }, renameByName: { site: 'Điểm', 'Value #A': 'Số sự cố', 'Value #B': 'Tổng thời gian gián đoạn', 'Value #C': 'Số máy bị ảnh hưởng nhiều nhất' } } }],
      overrides: [
        { matcher: { id: 'byName', options: 'Điểm' }, properties: [{ id: 'links', value: [{ title: 'Chi tiết điểm ${__value.raw}', url: '/d/canh-vm-diem/chi-tiet-diem-victoriametrics?var-site=${__value.raw}&${__url_time_range}' }] }] },
        { matcher: { id: 'byName', options: 'Tổng thời gian gián đoạn' }, properties: [{ id: 'unit', value: 's' }] },
      ],
    }),
    P('timeseries', 'Số máy bị ảnh hưởng mỗi sự cố', { x: 12, y: 20, w: 12, h: 9 }, [pq(`max by (cause) (incident_hosts{${SC}})`, '{{cause}}')], { options: tsOptions, decimals: 0, min: 0, custom: { drawStyle: 'points', pointSize: 9, showPoints: 'always', lineWidth: 0, fillOpacity: 0 }, overrides: causeNames }),
    P('timeseries', 'Sự kiện của agent theo loại', { x: 0, y: 29, w: 12, h: 8 }, [pq(`sum by (type) (sum_over_time(event_count{${SH}}[$__interval]))`, '{{type}}')], { options: tsOptions, decimals: 0, min: 0, custom: bars(), overrides: rename(EVENT_TYPES) }),
    P('timeseries', 'Thời lượng sự kiện của agent theo máy', { x: 12, y: 29, w: 12, h: 8 }, [pq(`sum by (host, type) (sum_over_time(event_duration_s{${SH}}[$__interval]))`, '{{host}} {{type}}')], { options: tsOptions, unit: 's', min: 0, custom: bars() }),
  ];
  return dashboard({
    uid: 'canh-vm-su-co',
    title: 'Mất điện, mất mạng và sự cố (VictoriaMetrics)',
    description: 'Canh: sự cố và sự kiện của agent, truy vấn PromQL trên VictoriaMetrics.',
    tags: ['victoriametrics', 'su-co'],
    variables: [
      promVar('site', 'Điểm', 'uptime_seconds{}', 'site'),
      promVar('host', 'Máy', 'uptime_seconds{site=~"$site"}', 'host'),
      promVar('cause', 'Nguyên nhân', 'incident_count{site=~"$site"}', 'cause'),
    ],
    panels,
    annotations: WORKING_HOURS,
    links: LINKS,
    time: { from: 'now-30d', to: 'now' },
  });
}

const OUT = {
  'influx/tong-quan.json': influxOverview(),
  'influx/diem.json': influxSite(),
  'influx/may.json': influxHost(),
  'influx/su-co.json': influxIncidents(),
  'promql/diem.json': promSite(),
  'promql/su-co.json': promIncidents(),
};
for (const [file, d] of Object.entries(OUT)) {
  const path = join(ROOT, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(d, null, 2) + '\n');
  console.log(`${file}: ${d.panels.length} panels`);
}
