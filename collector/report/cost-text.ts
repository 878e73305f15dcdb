/**
 * The texts of the report's cost estimate (issue 17 point 3), Vietnamese (the default,
 * formal register) and English: kept beside report-text.ts in a file of their own so a
 * translator reviews one table, and the estimate's words change without touching the rest.
 */
import type { CostEvidence, CostItem, CostLine } from './cost-estimate.js';
import type { CostRules, PriceList } from './price-list.js';
import { SCORE_RULES as R } from './replacement-score.js';
import { fmtDuration, fmtNum, fmtPct, fmtVnd } from './report-format.js';
import type { Lang } from './report-model.js';

export interface CostTexts {
  section: string;
  intro: string;
  /** The name of an item, with its size from the price list. */
  item: (item: CostItem, prices: PriceList) => string;
  /** One figure, e.g. "ổ cứng 120 sector lỗi". */
  evidence: (e: CostEvidence, lang: Lang) => string;
  insufficient: string;
  head: { rank: string; pc: string; recommendation: string; evidence: string; quantity: string; unitPrice: string; cost: string; item: string; site: string };
  wholeSite: string;
  total: string;
  perPc: string;
  none: string;
  noneInsufficient: string;
  diskHealthUnknown: (pcs: number, of: number) => string;
  overview: string;
  provinceTotal: string;
  /** How the estimate is made: prices used, rules. */
  method: (prices: PriceList, rules: CostRules, saturationPct: number, lang: Lang) => string[];
}

const num = (v: number | string | null, lang: Lang, decimals = 0) => (typeof v === 'number' ? fmtNum(v, Number.isInteger(v) ? 0 : decimals, lang) : String(v));

const VI: CostTexts = {
  section: 'Dự toán kinh phí thay thế, nâng cấp (ước tính)',
  intro:
    'Kinh phí ước tính theo bảng đơn giá do tỉnh cấu hình (mục "Đơn giá áp dụng" dưới đây). Mỗi đề xuất nêu số liệu đo được làm căn cứ; đề xuất còn thiếu số liệu căn cứ được ghi rõ và không tính kinh phí.',
  item: (item, p) =>
    item === 'new_pc'
      ? 'Thay máy tính mới'
      : item === 'ssd'
        ? `Thay ổ cứng SSD ${p.ssd.sizeGb} GB`
        : item === 'ram'
          ? `Thêm RAM ${p.ramModule.sizeGb} GB`
          : 'Trang bị bộ lưu điện (UPS)',
  evidence: (e, lang) => {
    const v = e.value;
    switch (e.key) {
      case 'age':
        return `máy ${num(v, lang)} năm tuổi`;
      case 'cpu_year':
        // A year is written as is: "năm 2011", never "năm 2.011".
        return `CPU ra mắt năm ${String(v)}`;
      case 'ram_gb':
        return `RAM ${num(v, lang, 1)} GB`;
      case 'mem_pressure':
        return v === null ? 'không đủ số liệu về tình trạng thiếu bộ nhớ' : `thiếu bộ nhớ ${fmtPct(Number(v), lang, 0)} giờ làm việc`;
      case 'mem_saturated':
        return `bộ nhớ quá tải ${num(v, lang, 1)} giờ làm việc`;
      case 'cpu_saturated':
        return `CPU quá tải ${num(v, lang, 1)} giờ làm việc`;
      case 'freezes':
        return `${num(v, lang)} lần treo máy trong tháng`;
      case 'crashes':
        return `${num(v, lang)} lần lỗi/khởi động lại bất thường`;
      case 'disk_type':
        return 'ổ đĩa hệ thống là ổ cứng cơ (HDD)';
      case 'disk_busy':
        return v === null ? 'không đủ số liệu về mức bận của ổ đĩa' : `ổ đĩa bận liên tục ${num(v, lang, 1)} giờ làm việc`;
      case 'disk_full':
        return `ổ đĩa sắp đầy (${String(v)})`;
      case 'os_unsupported':
        return `hệ điều hành ${String(v)} đã hết hỗ trợ bảo mật`;
      case 'disk_failing':
        return `ổ cứng ${String(v)} có dấu hiệu hỏng`;
      case 'predicted_failure':
        return `SMART dự báo ổ ${String(v)} sắp hỏng`;
      case 'bad_sectors':
        return `ổ cứng ${num(v, lang)} sector lỗi`;
      case 'bad_sectors_rise':
        return `tăng ${num(v, lang)} trong tháng`;
      case 'disk_errors':
        return `${num(v, lang)} lỗi đọc/ghi đĩa trong nhật ký hệ thống`;
      case 'coverage':
        return v === null ? 'chưa có số liệu đo của máy' : `chỉ có số liệu đo ${fmtPct(Number(v), lang, 0)} thời gian làm việc`;
      case 'power_cuts':
        return v === null ? 'không đủ số liệu về mất điện' : `mất điện ${num(v, lang)} lần/tháng`;
      case 'power_cuts_working':
        return `${num(v, lang)} lần trong giờ làm việc`;
      case 'power_cut_working_min':
        return `mất ${fmtDuration(Number(v) * 60_000, lang)} làm việc`;
      case 'pcs_without_backup':
        return `${num(v, lang)} máy chưa có UPS`;
      default:
        return `${e.key}: ${v === null ? 'không đủ số liệu' : num(v, lang, 1)}`;
    }
  },
  insufficient: 'không đủ số liệu',
  head: {
    rank: 'TT',
    pc: 'Máy tính',
    recommendation: 'Đề xuất',
    evidence: 'Căn cứ (số liệu trong tháng)',
    quantity: 'Số lượng',
    unitPrice: 'Đơn giá',
    cost: 'Thành tiền',
    item: 'Hạng mục',
    site: 'Đơn vị',
  },
  wholeSite: 'Toàn đơn vị',
  total: 'Tổng cộng',
  perPc: 'Kinh phí theo từng máy',
  none: 'Không có đề xuất nào cần dự trù kinh phí trong tháng.',
  noneInsufficient: 'Chưa đủ số liệu để dự trù kinh phí thay thế, nâng cấp trong tháng.',
  diskHealthUnknown: (n, of) =>
    `${n}/${of} máy chưa có số liệu sức khỏe ổ cứng trong tháng (phần mềm giám sát phiên bản cũ hoặc máy không đọc được SMART): chưa đánh giá được ổ cứng của các máy này.`,
  overview: 'Dự toán kinh phí của các đơn vị',
  provinceTotal: 'Tổng cộng các đơn vị',
  method: (p, r, sat, lang) => [
    `Đơn giá áp dụng (cấu hình report.prices, cần được tỉnh cập nhật theo báo giá thực tế): ổ SSD ${p.ssd.sizeGb} GB ${fmtVnd(p.ssd.vnd, lang)}; RAM ${p.ramModule.sizeGb} GB ${fmtVnd(p.ramModule.vnd, lang)}; máy tính mới ${fmtVnd(p.newPc.vnd, lang)}; bộ lưu điện (UPS) ${fmtVnd(p.ups.vnd, lang)}.`,
    `Thay máy mới: máy được đề xuất thay thế theo điểm đánh giá (mục 6) và có số liệu đo đủ; không tính thêm ổ cứng hay RAM cho máy này. Thay SSD: ổ cứng có dấu hiệu hỏng (SMART dự báo hỏng, số sector lỗi tăng, hoặc từ 3 lỗi đọc/ghi đĩa), hoặc ổ HDD bận từ ${sat}% trở lên trong ${fmtNum(r.diskBusyHours, Number.isInteger(r.diskBusyHours) ? 0 : 1, lang)} giờ làm việc trở lên. Thêm RAM: máy dưới 8 GB RAM thiếu bộ nhớ (trao đổi trang từ ${fmtNum(r.pagingPerSec, 0, lang)} trang/giây hoặc PSI từ ${fmtNum(r.psiPct, 0, lang)}%) từ ${fmtNum(r.memShortagePct, 0, lang)}% thời gian làm việc trở lên, hoặc bộ nhớ quá tải từ 1 giờ trở lên. UPS: đơn vị có từ ${r.upsPowerCuts} lần mất điện trong giờ làm việc, mỗi máy chưa ghi nhận chạy bằng pin/UPS một bộ.`,
    `Điểm đề xuất (mục 6) có thêm các tiêu chí từ số liệu ổ cứng và bộ nhớ: ổ cứng có dấu hiệu hỏng +${R.diskFailing} (và luôn được đề xuất nâng cấp); mỗi giờ làm việc ổ đĩa bận từ ${sat}% +${R.perBusyHour} (tối đa ${R.busyMax}); mỗi ${R.memPressurePctPerPoint}% thời gian làm việc thiếu bộ nhớ +1 (tối đa ${R.memPressureMax}).`,
  ],
};

const EN: CostTexts = {
  section: 'Estimated cost of the replacements and upgrades',
  intro:
    'Costs are estimated with the price list configured by the province ("Prices used" below). Each proposal cites the measured figures it rests on; a proposal lacking its figures is marked as such and not costed.',
  item: (item, p) => (item === 'new_pc' ? 'Replace the PC' : item === 'ssd' ? `Fit an SSD ${p.ssd.sizeGb} GB` : item === 'ram' ? `Add RAM ${p.ramModule.sizeGb} GB` : 'Fit a UPS'),
  evidence: (e, lang) => {
    const v = e.value;
    switch (e.key) {
      case 'age':
        return `PC ${num(v, lang)} years old`;
      case 'cpu_year':
        return `CPU launched in ${String(v)}`;
      case 'ram_gb':
        return `${num(v, lang, 1)} GB of RAM`;
      case 'mem_pressure':
        return v === null ? 'not enough data on memory shortage' : `short of memory ${fmtPct(Number(v), lang, 0)} of working time`;
      case 'mem_saturated':
        return `memory saturated ${num(v, lang, 1)} working hours`;
      case 'cpu_saturated':
        return `CPU saturated ${num(v, lang, 1)} working hours`;
      case 'freezes':
        return `${num(v, lang)} freezes in the month`;
      case 'crashes':
        return `${num(v, lang)} crashes/unexpected resets`;
      case 'disk_type':
        return 'system disk is a hard disk (HDD)';
      case 'disk_busy':
        return v === null ? 'not enough data on disk activity' : `disk fully busy ${num(v, lang, 1)} working hours`;
      case 'disk_full':
        return `disk nearly full (${String(v)})`;
      case 'os_unsupported':
        return `${String(v)} no longer gets security updates`;
      case 'disk_failing':
        return `disk ${String(v)} shows signs of failure`;
      case 'predicted_failure':
        return `SMART predicts that ${String(v)} will fail`;
      case 'bad_sectors':
        return `${num(v, lang)} bad sectors`;
      case 'bad_sectors_rise':
        return `up ${num(v, lang)} in the month`;
      case 'disk_errors':
        return `${num(v, lang)} disk I/O errors in the system log`;
      case 'coverage':
        return v === null ? 'no measurement of this PC' : `measured only ${fmtPct(Number(v), lang, 0)} of working time`;
      case 'power_cuts':
        return v === null ? 'not enough data on power cuts' : `${num(v, lang)} power cuts in the month`;
      case 'power_cuts_working':
        return `${num(v, lang)} in working hours`;
      case 'power_cut_working_min':
        return `${fmtDuration(Number(v) * 60_000, lang)} of working time lost`;
      case 'pcs_without_backup':
        return `${num(v, lang)} PCs without a UPS`;
      default:
        return `${e.key}: ${v === null ? 'not enough data' : num(v, lang, 1)}`;
    }
  },
  insufficient: 'not enough data',
  head: {
    rank: '#',
    pc: 'PC',
    recommendation: 'Proposal',
    evidence: 'Evidence (figures of the month)',
    quantity: 'Qty',
    unitPrice: 'Unit price',
    cost: 'Cost',
    item: 'Item',
    site: 'Site',
  },
  wholeSite: 'Whole site',
  total: 'Total',
  perPc: 'Cost per PC',
  none: 'No proposal needs funding this month.',
  noneInsufficient: 'There are not enough data this month to estimate the cost of replacements and upgrades.',
  diskHealthUnknown: (n, of) => `${n} of ${of} PCs sent no disk health this month (an older agent, or SMART not readable): their disks are not judged.`,
  overview: 'Estimated cost per site',
  provinceTotal: 'Total of the sites',
  method: (p, r, sat, lang) => [
    `Prices used (configuration report.prices, to be set by the province from real quotations): SSD ${p.ssd.sizeGb} GB ${fmtVnd(p.ssd.vnd, lang)}; RAM ${p.ramModule.sizeGb} GB ${fmtVnd(p.ramModule.vnd, lang)}; new PC ${fmtVnd(p.newPc.vnd, lang)}; UPS ${fmtVnd(p.ups.vnd, lang)}.`,
    `New PC: a PC the score proposes to replace (section 6) with enough measurements; no disk or RAM is added for it. SSD: a disk showing failure (SMART predicts failure, bad sectors rising, or 3+ disk I/O errors), or an HDD ${sat}%+ busy for ${fmtNum(r.diskBusyHours, Number.isInteger(r.diskBusyHours) ? 0 : 1, lang)}+ working hours. RAM: under 8 GB and short of memory (paging ≥ ${fmtNum(r.pagingPerSec, 0, lang)} pages/s or PSI ≥ ${fmtNum(r.psiPct, 0, lang)}%) for ${fmtNum(r.memShortagePct, 0, lang)}%+ of working time, or memory saturated for an hour or more. UPS: a site with ${r.upsPowerCuts}+ power cuts in working hours, one per PC not seen running on battery/UPS.`,
    `The proposal score (section 6) has criteria from the disk and memory figures too: a disk showing failure +${R.diskFailing} (always proposed for an upgrade); each working hour with a disk ${sat}%+ busy +${R.perBusyHour} (max ${R.busyMax}); each ${R.memPressurePctPerPoint}% of working time short of memory +1 (max ${R.memPressureMax}).`,
  ],
};

export const COST_TEXTS: Record<Lang, CostTexts> = { vi: VI, en: EN };

/** The evidence of a line as one phrase: "ổ cứng 120 sector lỗi, tăng 40 trong tháng". */
export function evidenceText(line: Pick<CostLine, 'evidence'>, lang: Lang): string {
  return line.evidence.map((e) => COST_TEXTS[lang].evidence(e, lang)).join(', ');
}
