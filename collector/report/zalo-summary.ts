import { fmtDuration, fmtMonth, fmtPct } from './report-format.js';
import type { Lang, SiteReport } from './report-model.js';

/** Zalo Bot API `sendMessage` text limit (DESIGN "Alerting model"). */
export const ZALO_TEXT_MAX = 2000;

/**
 * The short Zalo message that goes with the monthly e-mail: the site, the month and the
 * five figures that matter, in one message well under Zalo's 2,000-character limit.
 */
export function zaloSummary(r: SiteReport, lang: Lang): string {
  const replace = r.hosts.filter((h) => h.recommendation === 'replace').length;
  const upgrade = r.hosts.filter((h) => h.recommendation === 'upgrade').length;
  const lines =
    lang === 'vi'
      ? [
          `[Canh] Báo cáo hạ tầng ${fmtMonth(r.month, 'vi')} – ${r.siteName}`,
          r.availability.insufficientData ? '• Sẵn sàng phục vụ TTHC: không đủ số liệu' : `• Sẵn sàng phục vụ TTHC: ${fmtPct(r.availability.centrePct, 'vi')} thời gian làm việc`,
          `• Mất điện: ${r.powerCuts.count} lần (${fmtDuration(r.powerCuts.totalMs, 'vi')}), ${r.powerCuts.inWorkingHours} lần trong giờ làm việc`,
          `• Mất kết nối mạng: ${r.networkCuts.count} lần (${fmtDuration(r.networkCuts.totalMs, 'vi')})`,
          `• Nghẽn mạng giờ làm việc: ${r.network.congestedMinutes} phút`,
          `• Máy tính: ${r.headline.freezes} lần treo; đề xuất thay thế ${replace} máy, nâng cấp ${upgrade} máy`,
          'Báo cáo chi tiết đã được gửi qua email.',
        ]
      : [
          `[Canh] Infrastructure report ${fmtMonth(r.month, 'en')} – ${r.siteName}`,
          `• Available for TTHC: ${fmtPct(r.availability.centrePct, 'en')} of working time`,
          `• Power cuts: ${r.powerCuts.count} (${fmtDuration(r.powerCuts.totalMs, 'en')}), ${r.powerCuts.inWorkingHours} in working hours`,
          `• Network cuts: ${r.networkCuts.count} (${fmtDuration(r.networkCuts.totalMs, 'en')})`,
          `• Congestion in working hours: ${r.network.congestedMinutes} min`,
          `• PCs: ${r.headline.freezes} freezes; ${replace} proposed for replacement, ${upgrade} for an upgrade`,
          'The full report was sent by e-mail.',
        ];
  const text = lines.join('\n');
  return text.length <= ZALO_TEXT_MAX ? text : `${text.slice(0, ZALO_TEXT_MAX - 1)}…`;
}
