/**
 * Issue 13 item 6 in the CSV: a figure that is not known is an empty cell, never a 0; each
 * day carries its working and covered minutes; the six columns stay as they were.
 */
import { describe, expect, it } from 'vitest';
import { renderCsv } from '../../../../collector/report/render-csv.js';
import { parseCsv } from '../../../helpers/csv-parse.js';
import { coverageBundle, type Month } from '../../../helpers/report-coverage-fixture.js';

function table(month: Month, lang: 'vi' | 'en' = 'vi', opts = {}) {
  const csv = renderCsv(coverageBundle(month, lang, opts));
  const rows = parseCsv(csv.slice(1), lang === 'vi' ? ';' : ',');
  const get = (section: string, item: string, metric: string) => {
    const r = rows.find((x) => x[0] === section && x[2] === item && x[3] === metric);
    if (!r) throw new Error(`no row ${section}/${item}/${metric}`);
    return r[4];
  };
  return { csv, rows, get };
}

describe('CSV: true or unknown', () => {
  it('the header is unchanged', () => {
    expect(table('empty').csv.startsWith('\uFEFFMục;Mã đơn vị;Đối tượng;Chỉ số;Giá trị;Đơn vị tính\r\n')).toBe(true);
    expect(table('empty', 'en').csv.startsWith('\uFEFFsection,site,item,metric,value,unit\r\n')).toBe(true);
    expect(table('normal').rows.every((r) => r.length === 6)).toBe(true);
  });

  it('an empty month: days have coverage 0 and empty figures; month counts are empty, not 0', () => {
    const { get, rows } = table('empty');
    // Tuesday 3 November: a working day of 7 h 30 min, nothing measured.
    expect(get('day', '2026-11-03', 'working_time')).toBe('450');
    expect(get('day', '2026-11-03', 'covered')).toBe('0');
    for (const m of ['congested', 'latency_mean', 'loss', 'usage', 'outage_working_time']) expect(get('day', '2026-11-03', m), m).toBe('');
    // Sunday 1 November: no working time.
    expect(get('day', '2026-11-01', 'working_time')).toBe('0');
    expect(get('day', '2026-11-01', 'congested')).toBe('');
    expect(rows.filter((r) => r[0] === 'day' && r[3] === 'congested').every((r) => r[4] === '')).toBe(true);
    expect(get('availability', '', 'coverage')).toBe('0');
    expect(get('availability', '', 'insufficient_data')).toBe('1');
    expect(get('availability', '', 'centre_available')).toBe('');
    for (const item of ['power_cut', 'network_cut', 'other']) {
      for (const m of ['count', 'total', 'longest', 'in_working_hours', 'working_time_lost']) expect(get('outages', item, m), `${item} ${m}`).toBe('');
    }
    expect(get('network', '', 'congested')).toBe('');
    expect(get('hour', '09:00', 'congested')).toBe('');
    for (const m of ['freezes', 'crashes', 'cpu_saturated', 'mem_saturated']) expect(get('pc', 'pc-01', m), m).toBe('');
    expect(get('change', 'congestedMinutes', 'this_month')).toBe('');
    expect(get('change', 'congestedMinutes', 'previous_month')).toBe('330');
    expect(get('change', 'powerCuts', 'this_month')).toBe('');
    expect(get('change', 'coveragePct', 'this_month')).toBe('0');
    expect(get('change', 'coveragePct', 'previous_month')).toBe('100');
  });

  it('partial coverage below the threshold: the measured part of a day is given with its coverage', () => {
    const { get } = table('partial');
    expect(get('availability', '', 'coverage')).toBe('23,33');
    expect(get('availability', '', 'insufficient_data')).toBe('1');
    expect(get('day', '2026-11-03', 'working_time')).toBe('450');
    expect(get('day', '2026-11-03', 'covered')).toBe('105');
    // Loss was measured in those 105 minutes: 0 congested minutes among them is a figure.
    expect(get('day', '2026-11-03', 'congested')).toBe('0');
    expect(get('day', '2026-11-03', 'loss')).toBe('0');
    // The month as a whole: a 0 from 23 % of the working time is not known.
    expect(get('network', '', 'congested')).toBe('');
    expect(get('outages', 'power_cut', 'count')).toBe('');
    const cut = table('partial', 'en', { powerCut: true });
    expect(cut.get('outages', 'power_cut', 'count')).toBe('1');
    expect(cut.get('outages', 'power_cut', 'total')).toBe('60');
    expect(cut.get('outages', 'network_cut', 'count')).toBe('');
    expect(cut.get('day', '2026-11-03', 'outage_working_time')).toBe('60');
  });

  it('a normal month: zeros are figures', () => {
    const { get } = table('normal');
    expect(get('availability', '', 'coverage')).toBe('100');
    expect(get('availability', '', 'insufficient_data')).toBe('0');
    expect(get('day', '2026-11-03', 'covered')).toBe('450');
    expect(get('day', '2026-11-03', 'congested')).toBe('45');
    expect(get('day', '2026-11-02', 'congested')).toBe('0');
    expect(get('day', '2026-11-02', 'outage_working_time')).toBe('0');
    expect(get('outages', 'power_cut', 'count')).toBe('0');
    expect(get('network', '', 'congested')).toBe('45');
    expect(get('change', 'congestedMinutes', 'this_month')).toBe('45');
  });
});
