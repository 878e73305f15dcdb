/**
 * Issue 13 item 6, "true or unknown": the summary paragraph of a month under the coverage
 * threshold says what is not known instead of "không ghi nhận …" or "0 lần …", and makes no
 * month-over-month comparison against or from a month without enough data.
 */
import { describe, expect, it } from 'vitest';
import { summaryParagraph } from '../../../../collector/report/summary-paragraph.js';
import { coverageReport } from '../../../helpers/report-coverage-fixture.js';

describe('summary paragraph: an empty month (PC known, no measurement)', () => {
  const r = coverageReport('empty');

  it('Vietnamese: every sentence says there are not enough data', () => {
    expect(r.previous?.congestedMinutes).toBe(330);
    expect(summaryParagraph(r, 'vi')).toBe(
      'Trong tháng 11/2026, UBND xã A có 157 giờ 30 phút làm việc; không đủ số liệu để tính tỷ lệ hoạt động của Trung tâm (chỉ 0,0% thời gian làm việc có số liệu đo). ' +
        'Không đủ số liệu để xác định trong tháng có xảy ra mất điện hoặc mất kết nối mạng hay không. ' +
        'Không đủ số liệu để đánh giá tình trạng nghẽn mạng trong giờ làm việc. ' +
        'Trong số 1 máy tính được giám sát, không đủ số liệu để đánh giá tình trạng treo máy, lỗi/khởi động lại bất thường; chưa đủ số liệu để đánh giá nhu cầu thay thế hoặc nâng cấp máy. ' +
        'Không so sánh với tháng trước vì tháng này không đủ số liệu.',
    );
  });

  it('English: the same', () => {
    expect(summaryParagraph(r, 'en')).toBe(
      "In November 2026, UBND xã A had 157 h 30 min of working time; not enough data to compute the centre's availability (only 0.0% of it measured). " +
        'There are not enough data to tell whether there was any power cut or network cut. ' +
        'There are not enough data to judge congestion in working hours. ' +
        'Of 1 PCs monitored, there are not enough data to judge freezes and crashes/unexpected resets; there are not enough data to judge whether any PC needs replacing or upgrading. ' +
        'No comparison with the previous month is made: this month does not have enough data.',
    );
  });

  it('no claim from no data', () => {
    const vi = summaryParagraph(r, 'vi');
    const en = summaryParagraph(r, 'en');
    for (const claim of ['Không ghi nhận tình trạng nghẽn', 'không ghi nhận sự cố', '0 lần', 'giảm', 'tăng', 'So với tháng trước', 'chưa có máy cần đề xuất', '100,0%']) {
      expect(vi).not.toContain(claim);
    }
    for (const claim of ['No congestion', 'No power cut', ' 0 ', 'fell', 'rose', 'Compared with', 'no PC needs', '100.0%']) expect(en).not.toContain(claim);
  });
});

describe('summary paragraph: partial coverage below the threshold', () => {
  const r = coverageReport('partial');

  it('23 % measured, no loss seen: congestion and cuts are unknown, no comparison', () => {
    expect(r.availability.coveragePct).toBe(23.33);
    expect(r.availability.insufficientData).toBe(true);
    // Measured minutes without loss: the raw count is 0, which must not become "no congestion".
    expect(r.network.congestedMinutes).toBe(0);
    const vi = summaryParagraph(r, 'vi');
    expect(vi).toContain('(chỉ 23,3% thời gian làm việc có số liệu đo)');
    expect(vi).toContain('Không đủ số liệu để xác định trong tháng có xảy ra mất điện hoặc mất kết nối mạng hay không.');
    expect(vi).toContain('Không đủ số liệu để đánh giá tình trạng nghẽn mạng trong giờ làm việc.');
    expect(vi).toContain('Không so sánh với tháng trước vì tháng này không đủ số liệu.');
    expect(vi).not.toContain('Không ghi nhận tình trạng nghẽn mạng');
    expect(vi).not.toContain('giảm 330 phút');
    const en = summaryParagraph(r, 'en');
    expect(en).toContain('There are not enough data to judge congestion in working hours.');
    expect(en).toContain('No comparison with the previous month is made: this month does not have enough data.');
    expect(en).not.toContain('No congestion was recorded');
    expect(en).not.toContain('fell by 330 minutes');
  });

  it('a cut recorded in a thin month is stated as recorded in the measured time', () => {
    const cut = coverageReport('partial', { powerCut: true });
    expect(cut.availability.insufficientData).toBe(true);
    expect(summaryParagraph(cut, 'vi')).toContain(
      'Trong thời gian có số liệu, đã ghi nhận 1 lần mất điện với tổng thời gian 1 giờ (1 lần trong giờ làm việc, lần dài nhất 1 giờ), làm gián đoạn 1 giờ thời gian làm việc.',
    );
    expect(summaryParagraph(cut, 'en')).toContain('In the measured time there were 1 power cut totalling 1 h (1 in working hours, longest 1 h), costing 1 h of working time.');
  });
});

describe('summary paragraph: a normal month', () => {
  it('states the figures and the change against a measured previous month', () => {
    const r = coverageReport('normal');
    expect(r.availability.insufficientData).toBe(false);
    const vi = summaryParagraph(r, 'vi');
    expect(vi).toContain('Trong tháng không ghi nhận sự cố mất điện hoặc mất kết nối mạng.');
    expect(vi).toContain('Đường truyền bị nghẽn tổng cộng 45 phút trong giờ làm việc, tập trung nhiều nhất trong khung 09:00–10:00; ngày nghẽn nhiều nhất là 03/11/2026.');
    expect(vi).toContain('So với tháng trước, số lần mất điện không thay đổi, số phút nghẽn mạng giảm 285 phút.');
    expect(vi).not.toContain('không đủ số liệu');
    const en = summaryParagraph(r, 'en');
    expect(en).toContain('No power cut or network cut was recorded.');
    expect(en).toContain('Compared with the previous month, power cuts did not change and congestion fell by 285 minutes.');
    expect(en).not.toContain('not enough data');
  });

  it('no comparison from a previous month without enough data', () => {
    const r = coverageReport('normal', { emptyOctober: true });
    expect(r.previous?.insufficientData).toBe(true);
    expect(summaryParagraph(r, 'vi')).toContain('Không so sánh với tháng trước vì tháng trước không đủ số liệu.');
    expect(summaryParagraph(r, 'vi')).not.toContain('tăng 45 phút');
    expect(summaryParagraph(r, 'en')).toContain('No comparison with the previous month is made: the previous month does not have enough data.');
  });

  it('both months without enough data', () => {
    const r = coverageReport('empty', { emptyOctober: true });
    expect(summaryParagraph(r, 'vi')).toContain('Không so sánh với tháng trước vì cả hai tháng không đủ số liệu.');
    expect(summaryParagraph(r, 'en')).toContain('No comparison with the previous month is made: neither month has enough data.');
  });
});
