/** Issue 13 item 6: the Zalo/e-mail summary never turns "no data" into 0 cuts, 0 minutes or 100 %. */
import { describe, expect, it } from 'vitest';
import { zaloSummary } from '../../../../collector/report/zalo-summary.js';
import { coverageReport } from '../../../helpers/report-coverage-fixture.js';

describe('Zalo summary', () => {
  it('an empty month: every figure is "không đủ số liệu", with the coverage', () => {
    const r = coverageReport('empty');
    expect(zaloSummary(r, 'vi')).toBe(
      [
        '[Canh] Báo cáo hạ tầng tháng 11/2026 – UBND xã A',
        '• Sẵn sàng phục vụ TTHC: không đủ số liệu',
        '• Thời gian làm việc có số liệu đo: 0,0%',
        '• Mất điện: không đủ số liệu',
        '• Mất kết nối mạng: không đủ số liệu',
        '• Nghẽn mạng giờ làm việc: không đủ số liệu',
        '• Máy tính: không đủ số liệu',
        'Báo cáo chi tiết đã được gửi qua email.',
      ].join('\n'),
    );
    expect(zaloSummary(r, 'en')).toBe(
      [
        '[Canh] Infrastructure report November 2026 – UBND xã A',
        '• Available for TTHC: not enough data',
        '• Working time measured: 0.0%',
        '• Power cuts: not enough data',
        '• Network cuts: not enough data',
        '• Congestion in working hours: not enough data',
        '• PCs: not enough data',
        'The full report was sent by e-mail.',
      ].join('\n'),
    );
  });

  it('partial coverage below the threshold: no 0 and no %, a recorded cut marked incomplete', () => {
    const vi = zaloSummary(coverageReport('partial'), 'vi');
    expect(vi).toContain('• Thời gian làm việc có số liệu đo: 23,3%');
    expect(vi).toContain('• Nghẽn mạng giờ làm việc: không đủ số liệu');
    expect(vi).not.toMatch(/: 0 (lần|phút)|0 lần treo/);
    const en = zaloSummary(coverageReport('partial'), 'en');
    expect(en).toContain('• Available for TTHC: not enough data');
    expect(en).not.toMatch(/: 0 |0 freezes|: –/);
    const cut = zaloSummary(coverageReport('partial', { powerCut: true }), 'vi');
    expect(cut).toContain('• Mất điện: 1 lần (1 giờ), 1 lần trong giờ làm việc (số liệu chưa đầy đủ)');
    expect(cut).toContain('• Mất kết nối mạng: không đủ số liệu');
    expect(zaloSummary(coverageReport('partial', { powerCut: true }), 'en')).toContain('• Power cuts: 1 (1 h), 1 in working hours (incomplete data)');
  });

  it('a normal month: the figures, no coverage line', () => {
    const r = coverageReport('normal');
    expect(zaloSummary(r, 'vi')).toBe(
      [
        '[Canh] Báo cáo hạ tầng tháng 11/2026 – UBND xã A',
        '• Sẵn sàng phục vụ TTHC: 100,0% thời gian làm việc',
        '• Mất điện: 0 lần (0 phút), 0 lần trong giờ làm việc',
        '• Mất kết nối mạng: 0 lần (0 phút)',
        '• Nghẽn mạng giờ làm việc: 45 phút',
        '• Máy tính: 0 lần treo; đề xuất thay thế 0 máy, nâng cấp 0 máy',
        'Báo cáo chi tiết đã được gửi qua email.',
      ].join('\n'),
    );
    expect(zaloSummary(r, 'en')).toContain('• Congestion in working hours: 45 min');
    expect(zaloSummary(r, 'en')).toContain('• Available for TTHC: 100.0% of working time');
  });
});
