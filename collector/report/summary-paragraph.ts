import { fmtDate, fmtDuration, fmtMonth, fmtNum, fmtPct } from './report-format.js';
import { comparisonGap, knownCongestion } from './known-figures.js';
import type { Lang, SiteReport } from './report-model.js';
import { REPORT_TEXTS } from './report-text.js';

/**
 * The short paragraph of findings an officer pastes into the commune's periodic report:
 * availability, power and network cuts, congestion, the PCs, and the change against the
 * previous month, in complete sentences (formal register in Vietnamese).
 *
 * True or unknown (issue 13 item 6): in a month under the coverage threshold
 * (`availability.insufficientData`) a 0 (no cut, no congestion, no freeze) is not known
 * and is said to be unknown; what was recorded is said to be "in the measured time"; and
 * no change is computed against or from such a month.
 */
export function summaryParagraph(r: SiteReport, lang: Lang): string {
  return (lang === 'vi' ? vi(r) : en(r)).join(' ');
}

function worstHour(r: SiteReport): number | null {
  const hs = r.network.hours.filter((h) => h.congestedMinutes > 0);
  if (!hs.length) return null;
  return [...hs].sort((a, b) => b.congestedMinutes - a.congestedMinutes || a.hour - b.hour)[0]!.hour;
}

function vi(r: SiteReport): string[] {
  const s: string[] = [];
  const a = r.availability;
  if (a.insufficientData)
    s.push(
      `Trong ${fmtMonth(r.month, 'vi')}, ${r.siteName} có ${fmtDuration(a.workingMs, 'vi')} làm việc; không đủ số liệu để tính tỷ lệ hoạt động của Trung tâm (chỉ ${fmtPct(a.coveragePct ?? 0, 'vi')} thời gian làm việc có số liệu đo).`,
    );
  else
    s.push(
      `Trong ${fmtMonth(r.month, 'vi')}, ${r.siteName} có ${fmtDuration(a.workingMs, 'vi')} làm việc (có số liệu đo ${fmtPct(a.coveragePct, 'vi')}); Trung tâm hoạt động trong ${fmtPct(a.siteUpPct, 'vi')} thời gian làm việc có số liệu` +
        (a.centrePct !== null ? `, tỷ lệ sẵn sàng phục vụ giải quyết thủ tục hành chính (bao gồm truy cập các cổng dịch vụ công) đạt ${fmtPct(a.centrePct, 'vi')}.` : '.'),
    );
  const p = r.powerCuts;
  const n = r.networkCuts;
  const thin = a.insufficientData;
  if (p.count === 0 && n.count === 0)
    s.push(
      thin ? 'Không đủ số liệu để xác định trong tháng có xảy ra mất điện hoặc mất kết nối mạng hay không.' : 'Trong tháng không ghi nhận sự cố mất điện hoặc mất kết nối mạng.',
    );
  else {
    const parts: string[] = [];
    if (p.count)
      parts.push(
        `${p.count} lần mất điện với tổng thời gian ${fmtDuration(p.totalMs, 'vi')} (${p.inWorkingHours} lần trong giờ làm việc, lần dài nhất ${fmtDuration(p.longestMs, 'vi')})`,
      );
    if (n.count) parts.push(`${n.count} lần mất kết nối mạng với tổng thời gian ${fmtDuration(n.totalMs, 'vi')} (${n.inWorkingHours} lần trong giờ làm việc)`);
    s.push(
      `${thin ? 'Trong thời gian có số liệu, đã ghi nhận' : 'Đã xảy ra'} ${parts.join(' và ')}, làm gián đoạn ${fmtDuration(p.workingMs + n.workingMs + r.otherOutages.workingMs, 'vi')} thời gian làm việc.`,
    );
  }
  const c = knownCongestion(r.headline);
  const wh = worstHour(r);
  if (c === null)
    s.push(
      thin
        ? 'Không đủ số liệu để đánh giá tình trạng nghẽn mạng trong giờ làm việc.'
        : 'Chưa có số liệu về tỷ lệ mất gói và mức sử dụng đường truyền để đánh giá tình trạng nghẽn mạng.',
    );
  else if (c > 0) {
    s.push(
      `${thin ? 'Trong thời gian có số liệu, đường truyền' : 'Đường truyền'} bị nghẽn tổng cộng ${fmtNum(c, 0, 'vi')} phút trong giờ làm việc` +
        (wh !== null ? `, tập trung nhiều nhất trong khung ${String(wh).padStart(2, '0')}:00–${String(wh + 1).padStart(2, '0')}:00` : '') +
        (r.network.worstDays.length ? `; ngày nghẽn nhiều nhất là ${fmtDate(r.network.worstDays[0]!, 'vi')}.` : '.'),
    );
  } else s.push('Không ghi nhận tình trạng nghẽn mạng trong giờ làm việc.');
  const freezes = r.headline.freezes;
  const crashes = r.headline.crashes;
  const replace = r.hosts.filter((h) => h.recommendation === 'replace').length;
  const upgrade = r.hosts.filter((h) => h.recommendation === 'upgrade').length;
  s.push(
    `Trong số ${r.pcs} máy tính được giám sát, ` +
      (thin && freezes + crashes === 0
        ? 'không đủ số liệu để đánh giá tình trạng treo máy, lỗi/khởi động lại bất thường; '
        : `${thin ? 'trong thời gian có số liệu ' : ''}ghi nhận ${freezes} lần treo máy và ${crashes} lần lỗi/khởi động lại bất thường; `) +
      (replace + upgrade > 0
        ? `đề xuất thay thế ${replace} máy và nâng cấp ${upgrade} máy (chi tiết tại mục đề xuất).`
        : thin
          ? 'chưa đủ số liệu để đánh giá nhu cầu thay thế hoặc nâng cấp máy.'
          : 'chưa có máy cần đề xuất thay thế hoặc nâng cấp.'),
  );
  const gap = comparisonGap(r);
  if (gap !== null) s.push(REPORT_TEXTS.vi.change.notComparable(gap));
  else if (r.previous) {
    const d = p.count - r.previous.powerCuts;
    const prevC = knownCongestion(r.previous);
    const dc = c === null || prevC === null ? null : c - prevC;
    s.push(
      `So với tháng trước, số lần mất điện ${d > 0 ? `tăng ${d} lần` : d < 0 ? `giảm ${-d} lần` : 'không thay đổi'}, số phút nghẽn mạng ${dc === null ? 'không đủ số liệu để so sánh' : dc > 0 ? `tăng ${fmtNum(dc, 0, 'vi')} phút` : dc < 0 ? `giảm ${fmtNum(-dc, 0, 'vi')} phút` : 'không thay đổi'}.`,
    );
  }
  return s;
}

function en(r: SiteReport): string[] {
  const s: string[] = [];
  const a = r.availability;
  if (a.insufficientData)
    s.push(
      `In ${fmtMonth(r.month, 'en')}, ${r.siteName} had ${fmtDuration(a.workingMs, 'en')} of working time; not enough data to compute the centre's availability (only ${fmtPct(a.coveragePct ?? 0, 'en')} of it measured).`,
    );
  else
    s.push(
      `In ${fmtMonth(r.month, 'en')}, ${r.siteName} had ${fmtDuration(a.workingMs, 'en')} of working time (${fmtPct(a.coveragePct, 'en')} measured); the centre was up for ${fmtPct(a.siteUpPct, 'en')} of the measured time` +
        (a.centrePct !== null ? `, and available for administrative procedures (portals reachable) ${fmtPct(a.centrePct, 'en')} of the time.` : '.'),
    );
  const p = r.powerCuts;
  const n = r.networkCuts;
  const thin = a.insufficientData;
  if (p.count === 0 && n.count === 0)
    s.push(thin ? 'There are not enough data to tell whether there was any power cut or network cut.' : 'No power cut or network cut was recorded.');
  else {
    const parts: string[] = [];
    if (p.count)
      parts.push(
        `${p.count} power cut${p.count > 1 ? 's' : ''} totalling ${fmtDuration(p.totalMs, 'en')} (${p.inWorkingHours} in working hours, longest ${fmtDuration(p.longestMs, 'en')})`,
      );
    if (n.count) parts.push(`${n.count} network cut${n.count > 1 ? 's' : ''} totalling ${fmtDuration(n.totalMs, 'en')} (${n.inWorkingHours} in working hours)`);
    s.push(
      `${thin ? 'In the measured time there were' : 'There were'} ${parts.join(' and ')}, costing ${fmtDuration(p.workingMs + n.workingMs + r.otherOutages.workingMs, 'en')} of working time.`,
    );
  }
  const c = knownCongestion(r.headline);
  const wh = worstHour(r);
  if (c === null) s.push(thin ? 'There are not enough data to judge congestion in working hours.' : 'There are no packet loss or line usage data to judge congestion by.');
  else if (c > 0) {
    s.push(
      `${thin ? 'In the measured time, the line' : 'The line'} was congested for ${fmtNum(c, 0, 'en')} minutes of working time` +
        (wh !== null ? `, most often between ${String(wh).padStart(2, '0')}:00 and ${String(wh + 1).padStart(2, '0')}:00` : '') +
        (r.network.worstDays.length ? `; the worst day was ${fmtDate(r.network.worstDays[0]!, 'en')}.` : '.'),
    );
  } else s.push('No congestion was recorded in working hours.');
  const freezes = r.headline.freezes;
  const crashes = r.headline.crashes;
  const replace = r.hosts.filter((h) => h.recommendation === 'replace').length;
  const upgrade = r.hosts.filter((h) => h.recommendation === 'upgrade').length;
  s.push(
    `Of ${r.pcs} PCs monitored, ` +
      (thin && freezes + crashes === 0
        ? 'there are not enough data to judge freezes and crashes/unexpected resets; '
        : `there were ${freezes} freezes and ${crashes} crashes/unexpected resets${thin ? ' in the measured time' : ''}; `) +
      (replace + upgrade > 0
        ? `${replace} PC(s) are proposed for replacement and ${upgrade} for an upgrade (see the proposals).`
        : thin
          ? 'there are not enough data to judge whether any PC needs replacing or upgrading.'
          : 'no PC needs replacing or upgrading.'),
  );
  const gap = comparisonGap(r);
  if (gap !== null) s.push(REPORT_TEXTS.en.change.notComparable(gap));
  else if (r.previous) {
    const d = p.count - r.previous.powerCuts;
    const prevC = knownCongestion(r.previous);
    const dc = c === null || prevC === null ? null : c - prevC;
    s.push(
      `Compared with the previous month, power cuts ${d > 0 ? `rose by ${d}` : d < 0 ? `fell by ${-d}` : 'did not change'} and congestion ${dc === null ? 'cannot be compared (not enough data)' : dc > 0 ? `rose by ${fmtNum(dc, 0, 'en')} minutes` : dc < 0 ? `fell by ${fmtNum(-dc, 0, 'en')} minutes` : 'did not change'}.`,
    );
  }
  return s;
}
