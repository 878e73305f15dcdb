/** Issue 13 item 6 in the Markdown report: no "0 sự cố", "không nghẽn" or 100 % from no data. */
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../../../collector/report/render-markdown.js';
import { coverageBundle } from '../../../helpers/report-coverage-fixture.js';

const row = (md: string, label: string) => md.split('\n').find((l) => l.startsWith(`| ${label} |`));

describe('Markdown: true or unknown', () => {
  it('an empty month (Vietnamese)', () => {
    const md = renderMarkdown(coverageBundle('empty', 'vi'));
    expect(row(md, 'Mất điện')).toBe('| Mất điện | không đủ số liệu | – | – | – | – |');
    expect(md).toContain('Không ghi nhận sự cố mất điện hoặc mất kết nối mạng trong thời gian có số liệu đo; không đủ số liệu để kết luận cho cả tháng.');
    expect(md).not.toContain('Không ghi nhận sự cố mất điện hoặc mất kết nối mạng trong tháng.');
    expect(md).toContain('Không đủ số liệu để xác định các ngày nghẽn mạng.');
    expect(md).not.toContain('Không có ngày làm việc nào bị nghẽn mạng.');
    expect(md).toContain('Chưa đủ số liệu để đánh giá nhu cầu thay thế hoặc nâng cấp máy tính trong tháng.');
    expect(row(md, 'pc-01')).toBe('| pc-01 | – | – | – | – | – | – | – | – | – | – | 0% |');
    expect(md).toContain('Không so sánh với tháng trước vì tháng này không đủ số liệu.');
    expect(row(md, 'Số phút nghẽn mạng trong giờ làm việc')).toBe('| Số phút nghẽn mạng trong giờ làm việc | – | 330 | – |');
    expect(row(md, 'Số lần mất điện')).toBe('| Số lần mất điện | – | 0 | – |');
    expect(md).not.toMatch(/100,0+%|Không ghi nhận tình trạng nghẽn|giảm 330/);
  });

  it('partial coverage below the threshold (English)', () => {
    const md = renderMarkdown(coverageBundle('partial', 'en'));
    expect(row(md, 'Power cuts')).toBe('| Power cuts | not enough data | – | – | – | – |');
    expect(row(md, 'Minutes of congestion in working hours')).toBe('| Minutes of congestion in working hours | not enough data |');
    expect(md).toContain('No power cut or network cut recorded in the measured time; there are not enough data to conclude for the whole month.');
    expect(md).toContain('There are not enough data to tell the days with congestion.');
    expect(md).toContain('No comparison with the previous month is made: this month does not have enough data.');
    expect(md).not.toContain('No working day had congestion.');
    expect(md).not.toContain('No congestion was recorded');
    expect(md).not.toMatch(/100\.0+%/);
  });

  it('a normal month: the figures and the change', () => {
    const md = renderMarkdown(coverageBundle('normal', 'vi'));
    expect(row(md, 'Mất điện')).toBe('| Mất điện | 0 | 0 phút | 0 phút | 0 | 0 phút |');
    expect(md).toContain('Không ghi nhận sự cố mất điện hoặc mất kết nối mạng trong tháng.');
    expect(row(md, 'Số phút nghẽn mạng trong giờ làm việc')).toBe('| Số phút nghẽn mạng trong giờ làm việc | 45 | 330 | -285 |');
    // The coverage of both months is part of the comparison.
    expect(row(md, 'Độ phủ số liệu (%)')).toBe('| Độ phủ số liệu (%) | 100,0 | 100,0 | 0,0 |');
    expect(md).not.toContain('không đủ số liệu');
  });
});
