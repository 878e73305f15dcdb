/**
 * Every sentence of the monthly report, Vietnamese and English side by side (one file on
 * purpose, over ~400 lines: a translator reviews one table of texts, not a tree of them).
 */
import type { WorkingHours } from '../sites/schedule/working-hours.js';
import { SCORE_RULES } from './replacement-score.js';
import type { HeadlineFigure, Lang, OutageItem, PcHealth, ReportMethod } from './report-model.js';
import { COST_TEXTS } from './cost-text.js';
import { fmtNum } from './report-format.js';

/**
 * Every user-facing text of the report, Vietnamese (formal administrative register, the
 * default) and English. Renderers take their words from here only.
 */
export interface ReportTexts {
  title: (month: string) => string;
  /** The header printed at the top of every page, beside the unit's name. */
  runningHead: (month: string) => string;
  /** The unit named in that header when the report covers several. */
  severalUnits: (count: number) => string;
  unit: string;
  siteId: string;
  period: string;
  pcs: string;
  generatedAt: string;
  sections: {
    summary: string;
    availability: string;
    outages: string;
    network: string;
    pcs: string;
    proposals: string;
    change: string;
    method: string;
    overview: string;
  };
  availability: { workingTime: string; siteUp: string; portalsOk: string; centre: string; noData: string; portals: string; none: string; coverage: string; insufficient: string };
  outage: {
    kind: string;
    count: string;
    total: string;
    longest: string;
    inWorking: string;
    workingLost: string;
    start: string;
    end: string;
    duration: string;
    hosts: string;
    ongoing: string;
    clipped: string;
    noneInMonth: string;
    /** No outage recorded, in a month without enough data: not a "none". */
    noneInsufficient: string;
  };
  cause: Record<OutageItem['cause'], string>;
  causePlural: { power_cut: string; network_cut: string; other: string };
  network: {
    line: string;
    lineUnknown: string;
    congested: string;
    usageMean: string;
    usageP95: string;
    usageMax: string;
    hour: string;
    latency: string;
    latencyP95: string;
    loss: string;
    usage: string;
    congestedMin: string;
    worstDays: string;
    date: string;
    noneWorst: string;
    /** No congested day found, with congestion unknown (no loss/usage data, or too little data). */
    worstUnknown: string;
  };
  pc: {
    host: string;
    cpu: string;
    year: string;
    age: string;
    ram: string;
    disk: string;
    os: string;
    freezes: string;
    crashes: string;
    cpuSat: string;
    memSat: string;
    diskFull: string;
    coverage: string;
    score: string;
    recommendation: string;
    evidence: string;
    actions: string;
    rank: string;
    noProposal: string;
    noProposalInsufficient: string;
    clockLostTitle: string;
    clockLostRow: (pc: string, times: number, skew: string) => string;
    unsupported: string;
  };
  ageClass: Record<'old' | 'ageing' | 'recent' | 'unknown', string>;
  recommendation: Record<PcHealth['recommendation'], string>;
  action: Record<string, string>;
  scoreItem: (key: string, value: number | string, lang: Lang) => string;
  headline: Record<HeadlineFigure, string>;
  change: { indicator: string; thisMonth: string; previous: string; delta: string; noPrevious: string; notComparable: (gap: 'this' | 'previous' | 'both') => string };
  notes: Record<string, string>;
  charts: { hourly: string; daily: string; outageDaily: string; minutes: string; ms: string; noData: string };
  footnotes: (method: ReportMethod, wh: WorkingHours, portals: string[]) => string[];
}

const DAY_VI = ['', 'Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy', 'Chủ nhật'];
const DAY_EN = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function describeHours(wh: WorkingHours, lang: Lang): string {
  const names = lang === 'vi' ? DAY_VI : DAY_EN;
  const parts: string[] = [];
  for (let d = 1; d <= 7; d++) {
    const spans = wh.days[String(d) as keyof typeof wh.days] ?? (d === 6 && wh.saturdayMorning ? [['07:30', '11:30'] as [string, string]] : []);
    if (spans.length) parts.push(`${names[d]} ${spans.map(([a, b]) => `${a}–${b}`).join(', ')}`);
  }
  return parts.join('; ');
}

const R = SCORE_RULES;

const VI: ReportTexts = {
  title: (m) => `BÁO CÁO TÌNH HÌNH HẠ TẦNG CÔNG NGHỆ THÔNG TIN ${m.toUpperCase()}`,
  runningHead: (m) => `Báo cáo hạ tầng CNTT ${m}`,
  severalUnits: (n) => `${n} đơn vị`,
  unit: 'Đơn vị',
  siteId: 'Mã đơn vị',
  period: 'Kỳ báo cáo',
  pcs: 'Số máy tính được giám sát',
  generatedAt: 'Thời điểm lập báo cáo',
  sections: {
    summary: 'Tóm tắt',
    availability: 'Mức độ sẵn sàng của Trung tâm trong giờ làm việc',
    outages: 'Mất điện và mất kết nối mạng',
    network: 'Chất lượng mạng trong giờ cao điểm',
    pcs: 'Tình trạng máy tính',
    proposals: 'Đề xuất thay thế / nâng cấp thiết bị',
    change: 'So sánh với tháng trước',
    method: 'Ghi chú về phương pháp tính',
    overview: 'Tổng hợp các đơn vị',
  },
  availability: {
    workingTime: 'Tổng thời gian làm việc trong tháng',
    siteUp: 'Tỷ lệ thời gian làm việc Trung tâm hoạt động (không bị mất điện, mất mạng)',
    portalsOk: 'Tỷ lệ thời gian truy cập được các cổng dịch vụ công (khi Trung tâm hoạt động)',
    centre: 'Tỷ lệ sẵn sàng phục vụ giải quyết TTHC',
    noData: 'Số phút làm việc không có số liệu đo',
    coverage: 'Độ phủ số liệu (thời gian làm việc có số liệu đo, đến thời điểm lập báo cáo)',
    insufficient: 'không đủ số liệu',
    portals: 'Cổng dịch vụ công được kiểm tra',
    none: 'không có',
  },
  outage: {
    kind: 'Loại sự cố',
    count: 'Số lần',
    total: 'Tổng thời gian',
    longest: 'Lần dài nhất',
    inWorking: 'Số lần trong giờ làm việc',
    workingLost: 'Thời gian làm việc bị gián đoạn',
    start: 'Bắt đầu',
    end: 'Kết thúc',
    duration: 'Thời gian (trong tháng)',
    hosts: 'Số máy bị ảnh hưởng',
    ongoing: 'chưa kết thúc',
    clipped: 'kéo dài sang tháng khác; chỉ tính phần trong tháng',
    noneInMonth: 'Không ghi nhận sự cố mất điện hoặc mất kết nối mạng trong tháng.',
    noneInsufficient: 'Không ghi nhận sự cố mất điện hoặc mất kết nối mạng trong thời gian có số liệu đo; không đủ số liệu để kết luận cho cả tháng.',
  },
  cause: { power_cut: 'Mất điện', network_cut: 'Mất kết nối mạng', mixed: 'Sự cố hỗn hợp', unknown: 'Chưa rõ nguyên nhân' },
  causePlural: { power_cut: 'Mất điện', network_cut: 'Mất kết nối mạng', other: 'Sự cố khác' },
  network: {
    line: 'Tốc độ đường truyền theo hợp đồng',
    lineUnknown: 'chưa khai báo',
    congested: 'Tổng số phút nghẽn mạng trong giờ làm việc',
    usageMean: 'Mức sử dụng đường truyền trung bình trong giờ làm việc',
    usageP95: 'Mức sử dụng đường truyền (bách phân vị 95)',
    usageMax: 'Mức sử dụng đường truyền cao nhất (trung bình 1 phút)',
    hour: 'Khung giờ',
    latency: 'Thời gian phản hồi cổng DVC (TB, ms)',
    latencyP95: 'Thời gian phản hồi (P95, ms)',
    loss: 'Tỷ lệ mất gói (%)',
    usage: 'Sử dụng đường truyền (% hợp đồng)',
    congestedMin: 'Số phút nghẽn',
    worstDays: 'Các ngày làm việc nghẽn mạng nhiều nhất',
    date: 'Ngày',
    noneWorst: 'Không có ngày làm việc nào bị nghẽn mạng.',
    worstUnknown: 'Không đủ số liệu để xác định các ngày nghẽn mạng.',
  },
  pc: {
    host: 'Máy tính',
    cpu: 'Bộ vi xử lý (CPU)',
    year: 'Năm ra mắt',
    age: 'Phân loại tuổi',
    ram: 'RAM (GB)',
    disk: 'Ổ đĩa hệ thống',
    os: 'Hệ điều hành',
    freezes: 'Số lần treo',
    crashes: 'Số lần lỗi/khởi động lại',
    cpuSat: 'Giờ quá tải CPU',
    memSat: 'Giờ quá tải bộ nhớ',
    diskFull: 'Ổ đĩa sắp đầy',
    coverage: 'Độ phủ số liệu',
    score: 'Điểm',
    recommendation: 'Đề xuất',
    evidence: 'Căn cứ',
    actions: 'Nội dung nâng cấp',
    rank: 'TT',
    noProposal: 'Không có máy tính cần đề xuất thay thế hoặc nâng cấp trong tháng.',
    noProposalInsufficient: 'Chưa đủ số liệu để đánh giá nhu cầu thay thế hoặc nâng cấp máy tính trong tháng.',
    clockLostTitle: 'Máy mất giờ sau khi mất điện (cần thay pin CMOS)',
    clockLostRow: (pc, times, skew) => `${pc}: ${times} lần, lệch tới ${skew}`,
    unsupported: 'hết hỗ trợ',
  },
  ageClass: { old: 'Cũ (từ 8 năm)', ageing: 'Khá cũ (5–7 năm)', recent: 'Còn mới (dưới 5 năm)', unknown: 'Chưa xác định' },
  recommendation: { replace: 'Thay thế', upgrade: 'Nâng cấp', none: 'Không' },
  action: {
    ram: 'Nâng cấp RAM lên tối thiểu 8 GB',
    ssd: 'Thay ổ cứng HDD bằng SSD',
    os: 'Nâng cấp hệ điều hành còn được hỗ trợ',
    disk_space: 'Giải phóng hoặc mở rộng dung lượng ổ đĩa',
  },
  scoreItem: (key, value, lang) => {
    const v = typeof value === 'number' ? fmtNum(value, Number.isInteger(value) ? 0 : 1, lang) : value;
    switch (key) {
      case 'cpu_old':
        // A year is written as is: "năm 2011", never "năm 2.011".
        return `CPU ra mắt năm ${value}, đã từ 8 năm trở lên`;
      case 'cpu_ageing':
        return `CPU ra mắt năm ${value}, đã 5–7 năm`;
      case 'ram_low':
        return `RAM chỉ ${v} GB`;
      case 'hdd':
        return 'Ổ đĩa hệ thống là ổ cứng cơ (HDD)';
      case 'os_unsupported':
        return `Hệ điều hành ${v} đã hết hỗ trợ bảo mật`;
      case 'freezes':
        return `${v} lần treo máy trong tháng`;
      case 'crashes':
        return `${v} lần lỗi/khởi động lại bất thường`;
      case 'cpu_saturated':
        return `${v} giờ quá tải CPU trong giờ làm việc`;
      case 'mem_saturated':
        return `${v} giờ quá tải bộ nhớ trong giờ làm việc`;
      case 'disk_full':
        return `Ổ đĩa sắp đầy: ${v}`;
      default:
        // The disk health and pressure criteria (issue 17) are worded with the cost estimate's evidence.
        return COST_TEXTS[lang].evidence({ key, value }, lang);
    }
  },
  headline: {
    centrePct: 'Tỷ lệ sẵn sàng phục vụ TTHC (%)',
    siteUpPct: 'Tỷ lệ thời gian Trung tâm hoạt động (%)',
    powerCuts: 'Số lần mất điện',
    powerCutMs: 'Tổng thời gian mất điện (phút)',
    networkCuts: 'Số lần mất kết nối mạng',
    networkCutMs: 'Tổng thời gian mất kết nối mạng (phút)',
    congestedMinutes: 'Số phút nghẽn mạng trong giờ làm việc',
    freezes: 'Số lần treo máy',
    crashes: 'Số lần lỗi/khởi động lại bất thường',
    cpuSaturatedHours: 'Giờ quá tải CPU',
    memSaturatedHours: 'Giờ quá tải bộ nhớ',
    proposals: 'Số máy đề xuất thay thế/nâng cấp',
    coveragePct: 'Độ phủ số liệu (%)',
  },
  change: {
    indicator: 'Chỉ tiêu',
    thisMonth: 'Tháng này',
    previous: 'Tháng trước',
    delta: 'Thay đổi',
    noPrevious: 'Chưa có số liệu của tháng trước để so sánh.',
    notComparable: (g) => `Không so sánh với tháng trước vì ${g === 'this' ? 'tháng này' : g === 'previous' ? 'tháng trước' : 'cả hai tháng'} không đủ số liệu.`,
  },
  notes: {
    no_line_speed: 'Đơn vị chưa khai báo tốc độ đường truyền theo hợp đồng (lineMbps); tiêu chí nghẽn chỉ dựa trên tỷ lệ mất gói.',
    missing_inventory: 'Một số máy chưa gửi thông tin cấu hình phần cứng; các tiêu chí phần cứng của các máy này không được tính điểm.',
    incidents_truncated: 'Số sự cố vượt giới hạn đọc; số liệu sự cố có thể chưa đầy đủ.',
    events_truncated: 'Số sự kiện vượt giới hạn đọc; số liệu treo máy có thể chưa đầy đủ.',
    coarse_history: 'Một phần số liệu chi tiết theo phút đã hết thời hạn lưu trữ; phần đó được tính theo số liệu tổng hợp 15 phút.',
  },
  charts: {
    hourly: 'Thời gian phản hồi cổng dịch vụ công theo khung giờ làm việc (ms)',
    daily: 'Số phút nghẽn mạng theo ngày',
    outageDaily: 'Thời gian làm việc bị gián đoạn do mất điện/mất mạng theo ngày (phút)',
    minutes: 'phút',
    ms: 'ms',
    noData: 'không có số liệu',
  },
  footnotes: (m, wh, portals) => [
    `Thời gian làm việc: ${describeHours(wh, 'vi')} (múi giờ ${wh.timezone}); không tính ngày nghỉ lễ${wh.holidays.length ? ` (${wh.holidays.join(', ')})` : ''}${wh.extraWorkingDays.length ? `; ngày làm bù: ${wh.extraWorkingDays.join(', ')}` : ''}. Tháng được tính theo giờ địa phương, từ 00:00 ngày đầu tháng đến 00:00 ngày đầu tháng sau.`,
    'Sự cố (mất điện, mất kết nối mạng) là khoảng thời gian phần lớn số máy của đơn vị cùng ngừng hoạt động (mất điện) hoặc cùng mất kết nối (mất mạng). Thời lượng được tính từ lúc bắt đầu đến lúc kết thúc sự cố, chỉ phần nằm trong tháng; "trong giờ làm việc" là sự cố có ít nhất một phần trùng với thời gian làm việc.',
    `Trung tâm được coi là "hoạt động" khi không nằm trong một sự cố. Cổng dịch vụ công (${portals.length ? portals.join(', ') : 'chưa cấu hình'}) được coi là "truy cập được" trong một phút khi mỗi cổng trả lời thành công từ ít nhất một máy. Tỷ lệ sẵn sàng phục vụ TTHC = số phút làm việc Trung tâm hoạt động và truy cập được các cổng / (số phút làm việc có số liệu đo + số phút bị sự cố).`,
    `Một phút làm việc được coi là "nghẽn mạng" khi tổng lưu lượng tải xuống của các máy đạt từ ${m.congestionUsagePct}% tốc độ đường truyền theo hợp đồng trở lên, hoặc tỷ lệ mất gói (trung vị giữa các máy) từ ${m.congestionLossPct}% trở lên. Thời gian phản hồi là thời gian tải trang của cổng dịch vụ công (trung vị giữa các máy, trung bình theo phút).`,
    `Quá tải CPU/bộ nhớ: số phút làm việc có mức sử dụng trung bình 1 phút từ ${m.saturationPct}% trở lên, quy ra giờ. Ổ đĩa sắp đầy: mức sử dụng cuối tháng từ ${m.diskFullPct}% trở lên. Treo máy: sự kiện máy ngừng đáp ứng do phần mềm giám sát ghi nhận; lỗi/khởi động lại: máy tắt bất thường không do mất điện.`,
    `Điểm đề xuất: CPU từ 8 năm +${R.cpuOld}, 5–7 năm +${R.cpuAgeing}; RAM dưới 4 GB +${R.ramUnder4}, dưới 8 GB +${R.ramUnder8}; ổ HDD +${R.hdd}; hệ điều hành hết hỗ trợ +${R.osUnsupported}; mỗi lần treo +${R.perFreeze} (tối đa ${R.freezesMax}); mỗi lần lỗi +${R.perCrash} (tối đa ${R.crashesMax}); mỗi giờ quá tải CPU hoặc bộ nhớ +${R.perSaturatedHour} (mỗi loại tối đa ${R.saturationMax}); ổ đĩa sắp đầy +${R.diskFull}. Đề xuất thay thế khi điểm từ ${m.replaceScore} và CPU từ 5 năm tuổi; nâng cấp khi điểm từ ${m.upgradeScore}. Năm ra mắt CPU được xác định theo tên mẫu CPU.`,
  ],
};

const EN: ReportTexts = {
  title: (m) => `IT INFRASTRUCTURE REPORT — ${m.toUpperCase()}`,
  runningHead: (m) => `IT infrastructure report, ${m}`,
  severalUnits: (n) => `${n} sites`,
  unit: 'Unit',
  siteId: 'Site id',
  period: 'Period',
  pcs: 'PCs monitored',
  generatedAt: 'Generated at',
  sections: {
    summary: 'Summary',
    availability: 'Availability of the centre in working hours',
    outages: 'Power cuts and network cuts',
    network: 'Peak-hour network quality',
    pcs: 'Condition of the PCs',
    proposals: 'Proposed replacements / upgrades',
    change: 'Change vs the previous month',
    method: 'Method notes',
    overview: 'Overview of the sites',
  },
  availability: {
    workingTime: 'Working time in the month',
    siteUp: 'Share of working time with the centre up (no power or network cut)',
    portalsOk: 'Share of working time with the public-service portals reachable (centre up)',
    centre: 'Availability for administrative procedures (TTHC)',
    noData: 'Working minutes without measurements',
    coverage: 'Data coverage (working time measured, up to the report time)',
    insufficient: 'not enough data',
    portals: 'Portals checked',
    none: 'none',
  },
  outage: {
    kind: 'Kind',
    count: 'Count',
    total: 'Total duration',
    longest: 'Longest',
    inWorking: 'In working hours',
    workingLost: 'Working time lost',
    start: 'Start',
    end: 'End',
    duration: 'Duration (in month)',
    hosts: 'PCs affected',
    ongoing: 'ongoing',
    clipped: 'spans another month; only the part inside this month is counted',
    noneInMonth: 'No power cut or network cut recorded in the month.',
    noneInsufficient: 'No power cut or network cut recorded in the measured time; there are not enough data to conclude for the whole month.',
  },
  cause: { power_cut: 'Power cut', network_cut: 'Network cut', mixed: 'Mixed incident', unknown: 'Unknown cause' },
  causePlural: { power_cut: 'Power cuts', network_cut: 'Network cuts', other: 'Other incidents' },
  network: {
    line: 'Contracted line speed',
    lineUnknown: 'not configured',
    congested: 'Minutes of congestion in working hours',
    usageMean: 'Mean line usage in working hours',
    usageP95: 'Line usage (95th percentile)',
    usageMax: 'Highest line usage (1-minute mean)',
    hour: 'Hour',
    latency: 'Portal response time (mean, ms)',
    latencyP95: 'Response time (P95, ms)',
    loss: 'Packet loss (%)',
    usage: 'Line usage (% of contract)',
    congestedMin: 'Congested minutes',
    worstDays: 'Working days with the most congestion',
    date: 'Date',
    noneWorst: 'No working day had congestion.',
    worstUnknown: 'There are not enough data to tell the days with congestion.',
  },
  pc: {
    host: 'PC',
    cpu: 'CPU',
    year: 'Launched',
    age: 'Age class',
    ram: 'RAM (GB)',
    disk: 'System disk',
    os: 'Operating system',
    freezes: 'Freezes',
    crashes: 'Crashes/resets',
    cpuSat: 'CPU saturated (h)',
    memSat: 'Memory saturated (h)',
    diskFull: 'Disks nearly full',
    coverage: 'Data coverage',
    score: 'Score',
    recommendation: 'Proposal',
    evidence: 'Evidence',
    actions: 'Upgrade',
    rank: '#',
    noProposal: 'No PC needs replacing or upgrading this month.',
    noProposalInsufficient: 'There are not enough data this month to judge whether any PC needs replacing or upgrading.',
    clockLostTitle: 'PCs that lose the time after a power cut (CMOS battery to replace)',
    clockLostRow: (pc, times, skew) => `${pc}: ${times} time(s), off by up to ${skew}`,
    unsupported: 'out of support',
  },
  ageClass: { old: 'Old (8+ years)', ageing: 'Ageing (5–7 years)', recent: 'Recent (< 5 years)', unknown: 'Unknown' },
  recommendation: { replace: 'Replace', upgrade: 'Upgrade', none: 'None' },
  action: { ram: 'Upgrade RAM to at least 8 GB', ssd: 'Replace the HDD with an SSD', os: 'Move to a supported operating system', disk_space: 'Free or extend disk space' },
  scoreItem: (key, value, lang) => {
    const v = typeof value === 'number' ? fmtNum(value, Number.isInteger(value) ? 0 : 1, lang) : value;
    switch (key) {
      case 'cpu_old':
        return `CPU launched in ${value}, 8+ years old`;
      case 'cpu_ageing':
        return `CPU launched in ${value}, 5–7 years old`;
      case 'ram_low':
        return `only ${v} GB of RAM`;
      case 'hdd':
        return 'system disk is a hard disk (HDD)';
      case 'os_unsupported':
        return `${v} no longer gets security updates`;
      case 'freezes':
        return `${v} freezes in the month`;
      case 'crashes':
        return `${v} crashes/unexpected resets`;
      case 'cpu_saturated':
        return `${v} h of CPU saturation in working hours`;
      case 'mem_saturated':
        return `${v} h of memory saturation in working hours`;
      case 'disk_full':
        return `disk nearly full: ${v}`;
      default:
        // The disk health and pressure criteria (issue 17) are worded with the cost estimate's evidence.
        return COST_TEXTS[lang].evidence({ key, value }, lang);
    }
  },
  headline: {
    centrePct: 'Availability for TTHC (%)',
    siteUpPct: 'Centre up in working time (%)',
    powerCuts: 'Power cuts',
    powerCutMs: 'Power cut time (min)',
    networkCuts: 'Network cuts',
    networkCutMs: 'Network cut time (min)',
    congestedMinutes: 'Congested minutes in working hours',
    freezes: 'Freezes',
    crashes: 'Crashes/unexpected resets',
    cpuSaturatedHours: 'CPU saturated (h)',
    memSaturatedHours: 'Memory saturated (h)',
    proposals: 'PCs proposed for replacement/upgrade',
    coveragePct: 'Data coverage (%)',
  },
  change: {
    indicator: 'Indicator',
    thisMonth: 'This month',
    previous: 'Previous month',
    delta: 'Change',
    noPrevious: 'No data for the previous month to compare with.',
    notComparable: (g) =>
      `No comparison with the previous month is made: ${g === 'this' ? 'this month does not have enough data' : g === 'previous' ? 'the previous month does not have enough data' : 'neither month has enough data'}.`,
  },
  notes: {
    no_line_speed: 'The contracted line speed (lineMbps) of this site is not configured; congestion is judged by packet loss only.',
    missing_inventory: 'Some PCs have not sent their hardware inventory; hardware criteria are not scored for them.',
    incidents_truncated: 'Too many incidents to read; incident figures may be incomplete.',
    events_truncated: 'Too many events to read; freeze figures may be incomplete.',
    coarse_history: 'Part of the per-minute history is past its retention; that part is counted from the 15-minute rollups.',
  },
  charts: {
    hourly: 'Portal response time per working hour (ms)',
    daily: 'Congested minutes per day',
    outageDaily: 'Working time lost to power/network cuts per day (min)',
    minutes: 'min',
    ms: 'ms',
    noData: 'no data',
  },
  footnotes: (m, wh, portals) => [
    `Working time: ${describeHours(wh, 'en')} (time zone ${wh.timezone}), public holidays excluded${wh.holidays.length ? ` (${wh.holidays.join(', ')})` : ''}${wh.extraWorkingDays.length ? `; make-up working days: ${wh.extraWorkingDays.join(', ')}` : ''}. The month runs in local time from 00:00 on its first day to 00:00 on the first day of the next.`,
    'An incident (power cut, network cut) is a time when most of the site\'s PCs went down together (power) or lost their connection together (network). Its duration runs from start to end, counting only the part inside the month; "in working hours" means it overlapped working time.',
    `The centre is "up" when not inside an incident. The portals (${portals.length ? portals.join(', ') : 'none configured'}) are "reachable" in a minute when each answered successfully from at least one PC. Availability for TTHC = working minutes up with the portals reachable / (working minutes measured + minutes in incidents).`,
    `A working minute is "congested" when the site's total download reaches ${m.congestionUsagePct}% of the contracted line speed or more, or the packet loss (median over the PCs) is ${m.congestionLossPct}% or more. Response time is the portal page load time (median over the PCs, per-minute mean).`,
    `CPU/memory saturation: working minutes with a 1-minute mean of ${m.saturationPct}% or more, in hours. Disk nearly full: last reading of the month at ${m.diskFullPct}% or more. Freeze: the PC stopped responding, as recorded by the agent; crash/reset: an unexpected shutdown not caused by a power cut.`,
    `Proposal score: CPU 8+ years +${R.cpuOld}, 5–7 years +${R.cpuAgeing}; RAM under 4 GB +${R.ramUnder4}, under 8 GB +${R.ramUnder8}; HDD +${R.hdd}; unsupported OS +${R.osUnsupported}; each freeze +${R.perFreeze} (max ${R.freezesMax}); each crash +${R.perCrash} (max ${R.crashesMax}); each hour of CPU or memory saturation +${R.perSaturatedHour} (max ${R.saturationMax} each); disk nearly full +${R.diskFull}. Replacement from ${m.replaceScore} points with a CPU of 5+ years; upgrade from ${m.upgradeScore}. The CPU launch year is derived from its model name.`,
  ],
};

export const REPORT_TEXTS: Record<Lang, ReportTexts> = { vi: VI, en: EN };
